"""The desktop bundle against the same code run from the virtual environment, in one run:
time to the window, time to print --version, and time to generate 10 s with the bundled model
(each a fresh process, median of --repeats). A frozen app unpacks nothing (one-folder), but it
imports from an archive and loads its own copies of the libraries, so the ratio says whether
musicians pay for the packaging.

    .venv/bin/python packaging/build.py            # first: builds packaging/dist/composer
    .venv/bin/python benchmarks/bundle.py [--repeats 5]

Offscreen Qt for the window; the bundle carries the offscreen platform plugin too.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gui import time_to_window  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "packaging" / "dist" / "composer" / "composer"
VENV = ROOT / ".venv" / "bin" / "composer"


def time_to_exit(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not BUNDLE.is_file():
        print(f"No bundle at {BUNDLE}; build it with packaging/build.py first.")
        return 1
    with tempfile.TemporaryDirectory(prefix="composer-bundle-bench-") as tmp:
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "COMPOSER_DATA_DIR": tmp,
            "COMPOSER_STARTUP_PROBE": "1",
        }
        out = Path(tmp) / "tune.mid"
        generate = ["generate", "--seconds", "10", "--seed", "1", "--force", "--out", str(out)]
        measures = {
            "window shown": lambda exe: time_to_window([exe], env),
            "--version": lambda exe: time_to_exit([exe, "--version"], env),
            "generate 10 s": lambda exe: time_to_exit([exe, *generate], env),
        }
        print(f"median of {args.repeats} fresh processes; ratio = bundle / virtual environment")
        print(f"{'':16}{'venv':>10}{'bundle':>10}{'ratio':>8}")
        for name, measure in measures.items():
            measure(str(VENV))  # warm the page cache for both
            measure(str(BUNDLE))
            venv = statistics.median(measure(str(VENV)) for _ in range(args.repeats))
            bundle = statistics.median(measure(str(BUNDLE)) for _ in range(args.repeats))
            print(f"{name:16}{venv:9.2f}s{bundle:9.2f}s{bundle / venv:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
