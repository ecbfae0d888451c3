"""Generating in the app, offscreen: the bundled model against a run of the same size (the
bundled model fine-tuned 2 steps on 8 chorales), both from the real Generate panel in one
window, both asked for chorales, 2 variations of 30 s, the same seed, three turns each,
alternating. The time is from Generate to the tabs being ready, also per note written (the two
models write different amounts). Aim (issue 29): the bundled model as fast as the run.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_generate.py [--turns 3] [--seconds 30]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


def same_size_run(folder: Path) -> Path:
    """A run of the bundled model's size: the bundled model fine-tuned 2 steps on 8 chorales."""
    from composer.cli import main

    songs = folder / "chorales"
    songs.mkdir()
    for path in sorted((CORPORA / "bach_chorales").glob("*.mid"))[:8]:
        shutil.copy(path, songs / path.name)
    run = folder / "run"
    code = main(["train", str(songs), "--from", "bundled", "--steps", "2", "--out", str(run)])
    if code != 0:
        raise SystemExit("could not make the run to compare with")
    return run


def report(turns: int, seconds: float) -> None:
    """Print the figures (see the module doc)."""
    before = os.environ.get("COMPOSER_DATA_DIR")
    try:
        with tempfile.TemporaryDirectory() as data:
            os.environ["COMPOSER_DATA_DIR"] = data
            _measure(Path(data), turns, seconds)
    finally:
        if before is not None:
            os.environ["COMPOSER_DATA_DIR"] = before


def _measure(data: Path, turns: int, seconds: float) -> None:
    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(data))
    from composer.app.main import create_app
    from composer.app.panels.generation_panel import BUNDLED
    from composer.app.window import MainWindow

    run = same_size_run(data)
    app = create_app()
    window = MainWindow()
    window.tell = lambda text: print(text, file=sys.stderr)
    window.show()
    panel = window.generation
    panel.random_seed.setChecked(False)
    panel.seed.setValue(3)
    panel.seconds.setValue(seconds)
    panel.variations.setValue(2)
    panel.model.insertItem(0, "same-size run", str(run))

    def generate(choice: str) -> tuple[float, int]:
        """(seconds, notes written) of one generation with the model `choice`."""
        panel.model.setCurrentIndex(panel.model.findData(choice))
        app.processEvents()  # the style list follows the model
        chorales = [
            i for i in range(panel.style.count()) if "chorale" in panel.style.itemText(i).lower()
        ]
        panel.style.setCurrentIndex(chorales[0])  # the same music asked of both
        started = time.perf_counter()
        window.generating.generate()
        while panel.is_running:
            app.processEvents()
            time.sleep(0.002)
        took = time.perf_counter() - started
        return took, sum(len(d.model) for d in window.documents.documents[-2:])

    generate(BUNDLED)  # warm: the first generation loads torch's kernels for both
    times = {"bundled": [], "run": []}
    for _ in range(turns):
        times["bundled"].append(generate(BUNDLED))
        times["run"].append(generate(str(run)))
    window.close_keeping_session()
    said = {}
    for key, rows in times.items():
        took, notes = statistics.median(t for t, _ in rows), sum(n for _, n in rows) / len(rows)
        said[key] = (took, notes, 1000 * took / max(notes, 1))
    (b, bn, bms), (r, rn, rms) = said["bundled"], said["run"]
    print(
        f"app generation, 2 x {seconds:g} s, median of {turns}: bundled model {b:.2f} s for "
        f"{bn:,.0f} notes ({bms:.2f} ms a note), a run of its size {r:.2f} s for {rn:,.0f} notes "
        f"({rms:.2f} ms a note); per note, bundled / run {bms / rms:.2f} (aim <= 1.0)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    report(args.turns, args.seconds)


if __name__ == "__main__":
    main()
