"""GUI responsiveness, offscreen: piano-roll paint time, the longest event-loop stall while
training and while generating, and the time from process start to the window shown.

Each figure has a baseline measured in the same run:
- paint: drawing all 50,000 notes one rectangle at a time (benchmarks/gui_paint.py);
- stalls: the same 10 ms timer on the idle window;
- start-up: a bare PySide6 QMainWindow shown by a one-line script;
- editing (benchmarks/gui_edit.py): moving 10,000 of 50,000 notes against replacing the whole
  piece, and the frames of a drag against a repaint without an edit;
- tracks (benchmarks/gui_tracks.py): toggling Mute and choosing the active track in the Tracks
  panel of a 64-track, 50,000-note piece, against a repaint with nothing changed;
- generating (benchmarks/gui_generate.py): the bundled model against a run of its size, from the
  Generate panel, per note written.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui.py [--steps 60] [--seconds 60]
Goals: paint <= 16 ms, every frame of a drag <= 16 ms, a Mute or track click <= 16 ms,
stalls <= 50 ms, start-up <= 2 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
BARE_WINDOW = (
    "from PySide6.QtWidgets import QApplication, QMainWindow\n"
    "from PySide6.QtCore import QTimer\n"
    "app = QApplication([]); w = QMainWindow(); w.show()\n"
    "QTimer.singleShot(0, lambda: (print('window shown', flush=True), app.quit()))\n"
    "app.exec()\n"
)


def time_to_window(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    for line in process.stdout:
        if "window shown" in line:
            elapsed = time.perf_counter() - started
            break
    else:
        raise RuntimeError(f"{command} never showed its window")
    process.wait(timeout=60)
    return elapsed


class StallMeter:
    """A 10 ms timer; the longest gap between two ticks is the longest freeze of the GUI."""

    def __init__(self):
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self.tick)
        self.last = None
        self.longest = 0.0

    def start(self):
        self.last, self.longest = time.perf_counter(), 0.0
        self.timer.start()

    def tick(self):
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.last)
        self.last = now

    def stop(self) -> float:
        self.timer.stop()
        return self.longest * 1000


def wait_until(app, condition, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while not condition() and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.001)


def stalls(steps: int, seconds: float) -> dict[str, float]:
    from composer.app.main import create_app, warm_up_torch
    from composer.app.window import MainWindow

    app = create_app()
    window = MainWindow()
    window.tell = lambda text: None
    window.show()
    warm_up_torch(None)  # what the app does in the background at start-up
    meter = StallMeter()
    meter.start()
    wait_until(app, lambda: False, 2.0)
    idle = meter.stop()

    window.library.open_folder(CORPORA / "bach_chorales")
    wait_until(app, lambda: window.training.start_button.isEnabled(), 120)
    window.training.steps.setValue(steps)
    window.training.fields["eval_every"].setValue(max(1, steps // 2))
    meter.start()
    window.learning.start_training()
    wait_until(app, lambda: not window.training.is_running, 600)
    training = meter.stop()

    window.generation.seconds.setValue(seconds)
    window.generation.variations.setValue(4)
    meter.start()
    window.generating.generate()
    wait_until(app, lambda: not window.generation.is_running, 600)
    generating = meter.stop()
    notes = sum(len(model) for model, _ in window.pieces.variations)
    window.close_keeping_session()  # a data folder of its own: nothing to ask about
    return {"idle": idle, "training": training, "generating": generating, "notes": notes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="training steps (small preset)")
    parser.add_argument("--seconds", type=float, default=60, help="seconds of music per variation")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "COMPOSER_DATA_DIR": data, "COMPOSER_STARTUP_PROBE": "1"}
        os.environ["COMPOSER_DATA_DIR"] = data
        bare = statistics.median(
            time_to_window([sys.executable, "-c", BARE_WINDOW], env) for _ in range(3)
        )
        ours = statistics.median(
            time_to_window([sys.executable, "-m", "composer"], env) for _ in range(3)
        )
        print(
            f"start-up to window shown: Composer {ours:.2f} s, bare PySide6 window {bare:.2f} s, ratio {ours / bare:.2f} (goal <= 2 s)"
        )

        from gui_paint import paint_time_ms

        paint = paint_time_ms()
        print(
            "piano roll paint, 50,000 notes:",
            ", ".join(
                f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in paint.items()
            ),
        )

        import gui_edit

        gui_edit.report(50_000)

        import gui_tracks

        gui_tracks.report(64, 50_000)

        import gui_generate

        gui_generate.report(3, 30.0)

        found = stalls(args.steps, args.seconds)
        print(
            f"longest event-loop stall: idle {found['idle']:.1f} ms; training {args.steps} steps "
            f"{found['training']:.1f} ms (ratio to idle {found['training'] / found['idle']:.1f}); "
            f"generating 4 x {args.seconds:.0f} s ({found['notes']:,} notes) {found['generating']:.1f} ms "
            f"(ratio {found['generating'] / found['idle']:.1f}); goal <= 50 ms"
        )


if __name__ == "__main__":
    main()
