"""Reproduce the bundled model in assets/model/: train, then export the best checkpoint.

    python scripts/train_bundled_model.py [--run RUN] [--epochs 20]

Data: ../shared/corpora/nottingham (1,034 folk tunes, melody and chords). Model: the small preset
(2 x 256 LSTM), seed 0, 20 epochs (4,273 steps of 32 x 128 tokens), the default training settings.
With --run pointing at a finished run, only the export is done. The export stores the weights in
half precision (about 2.7 MB) with a JSON that records this provenance.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "corpora" / "nottingham"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=ROOT / "build" / "bundled-run")
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    command = [
        sys.executable,
        "-m",
        "composer",
        "train",
        str(DATA),
        "--out",
        str(args.run),
        "--preset",
        "small",
        "--epochs",
        str(args.epochs),
        "--seed",
        "0",
        "--eval-every",
        "400",
    ]
    if not (args.run / "run.json").exists():
        subprocess.run(command, check=True)

    from composer.core.model.export import export_model
    from composer.core.training.checkpoint import read_run

    run = read_run(args.run)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    provenance = {
        "name": "Composer folk (Nottingham)",
        "data": "Nottingham Music Database folk tunes as MIDI (jukedeck/nottingham-dataset), GPL-3.0",
        "command": "composer train ../shared/corpora/nottingham --out RUN " + " ".join(command[7:]),
        "composer_commit": commit,
        "seed": 0,
        "best_step": int(Path(run["best"]).stem.split("-")[1]),
        "best_val_loss_nats": run["best_val_loss"],
    }
    path = export_model(args.run / run["best"], ROOT / "assets" / "model", provenance=provenance)
    print(
        f"Wrote {path} and its weights (best validation loss {run['best_val_loss']:.3f} nats/token)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
