"""Screenshots of the real app for the README: train on the Bach chorales, generate, grab.

    python scripts/screenshots.py [--run RUN] [--steps 300] [--out docs/screenshots]

Runs offscreen unless a display is set (under Xvfb: `xvfb-run python scripts/screenshots.py`).
Without --run it trains the small model for --steps steps first (about a minute on two cores),
in a data folder of its own, so nothing of the user's is touched.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "bach_chorales"


def wait_until(app, condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="an existing run folder to generate with")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    os.environ.setdefault("COMPOSER_DATA_DIR", tempfile.mkdtemp(prefix="composer-screens-"))

    from composer.app.main import create_app
    from composer.app.window import MainWindow

    app = create_app()
    window = MainWindow()
    window.tell = lambda text: print(text, file=sys.stderr)
    window.resize(1600, 940)
    window.show()
    args.out.mkdir(parents=True, exist_ok=True)

    window.library.open_folder(CORPUS)
    wait_until(app, lambda: window.training.start_button.isEnabled(), 300)
    if args.run is None:
        window.training.steps.setValue(args.steps)
        window.start_training()
        wait_until(app, lambda: not window.training.is_running, 3600)
        run = window.training.run_dir
    else:
        run = args.run
        window.generation.refresh_models()
        window.generation.model.insertItem(0, run.name, str(run))
        window.generation.model.setCurrentIndex(0)
    window.docks["training"].raise_()
    window.grab().save(str(args.out / "training.png"))

    panel = window.generation
    panel.random_seed.setChecked(False)
    panel.seed.setValue(7)
    panel.seconds.setValue(40)
    panel.variations.setValue(3)
    panel.temperature.setValue(90)
    window.generate()
    wait_until(app, lambda: not panel.is_running, 600)
    model, view = window.variations[0]
    view.zoom_to_fit()
    beat = model.ticks_per_beat
    view.set_selection(8 * beat, 16 * beat)
    app.processEvents()
    window.grab().save(str(args.out / "generate.png"))
    view.grab().save(str(args.out / "piano-roll.png"))

    from composer.app.about_dialog import AboutDialog

    about = AboutDialog(window)
    about.show()
    app.processEvents()
    about.grab().save(str(args.out / "about.png"))
    about.close()
    print(f"screenshots in {args.out} (run: {run})")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
