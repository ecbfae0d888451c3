"""Fine-tuning the base model against training from an empty model, on music the base never saw.

Baseline ("from scratch"): the same tool (Composer's trainer), the same files and validation split,
the same time budget, starting from an empty small model with the from-scratch settings
(learning rate 2e-3). Fine-tuned: starting from the base model (assets/model) with the fine-tuning
settings `--from` gives (5e-4, short warm-up). Both validate every 50 steps and stop early after
8 validations without a new best; both keep their best checkpoint. A 5-gram (Kneser-Ney) trained on
the same training files is the floor to beat. Prints both curves (validation NLL against minutes)
and the ratio of the best figures; the issue's aim is at most 0.85.

Default collection: 50 Palestrina mass movements from the music21 corpus, held out of the base
corpus (scripts/build_base_corpus.py writes them to build/base-corpus/held_out/palestrina).

    python benchmarks/finetune.py [--folder DIR] [--files 50] [--minutes 5] [--base MODEL]
"""

from __future__ import annotations

import argparse
import math
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from composer.core.corpus import TokenCache, ingest
from composer.core.evaluation.ngram import KneserNey
from composer.core.model import preset
from composer.core.tokens import Vocabulary
from composer.core.training import Collection, TrainConfig, TrainEvent, new_run
from composer.core.training.run_info import read_run_info
from composer.core.training.start_from import FINE_TUNING, read_start

ROOT = Path(__file__).resolve().parents[1]
HELD_OUT = ROOT / "build" / "base-corpus" / "held_out" / "palestrina"
COMMON = {"eval_every": 50, "patience": 8, "validation_fraction": 0.2, "device": "cpu"}


def train(label: str, run_dir: Path, collection, model, config, start=None) -> list:
    """Train; returns the curve [(minutes since the start, validation NLL)]."""
    trainer = new_run(run_dir, collection, model, config, start_from=start)
    started = time.perf_counter()
    curve = [(0.0, trainer.validation_loss())]  # where it starts, before any step
    print(f"{label}: starts at {curve[0][1]:.3f} nats/token")
    for progress in trainer.run():
        if progress.event == TrainEvent.VALIDATION and progress.val_loss is not None:
            curve.append(((time.perf_counter() - started) / 60, progress.val_loss))
        elif progress.event in (TrainEvent.FINISHED, TrainEvent.STOPPED):
            print(f"{label}: {progress.message}")
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=HELD_OUT)
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--base", default=str(ROOT / "assets" / "model" / "model.json"))
    args = parser.parse_args()
    if not args.folder.is_dir():
        raise SystemExit(f"{args.folder} is missing: run scripts/build_base_corpus.py first")
    start = read_start(args.base)
    tokenizer = start.tokenizer
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        files = scratch / "files"
        files.mkdir()
        for path in sorted(args.folder.glob("*.mid"))[: args.files]:
            shutil.copy(path, files / path.name)
        report = ingest(files, scratch / "cache", tokenizer, jobs=0)
        collection = Collection.from_ingest(report, TokenCache(scratch / "cache", tokenizer))
        print(
            f"{args.folder.name}: {report.ok} files, {report.tokens:,} tokens, "
            f"{report.seconds_of_music / 3600:.1f} hours; {args.minutes:g} minutes each on the CPU; "
            f"base: {start.name}"
        )
        scratch_config = TrainConfig(minutes=args.minutes, **COMMON)
        tuned_config = TrainConfig(minutes=args.minutes, **{**FINE_TUNING, **COMMON})
        empty = preset("small", len(Vocabulary(tokenizer)))
        curves = {
            "from scratch": train("from scratch", scratch / "a", collection, empty, scratch_config),
            "fine-tuned": train(
                "fine-tuned", scratch / "b", collection, start.model, tuned_config, start
            ),
        }
        run = read_run_info(scratch / "b")
        cache = TokenCache(scratch / "cache", tokenizer)
        train_tokens = [np.asarray(cache.tokens(s)) for s, _ in run.train]
        held = [np.asarray(cache.tokens(s)) for s, _ in run.validation]
        ngram = KneserNey(5, len(Vocabulary(tokenizer))).fit(train_tokens).nll(held)

    print(f"\nvalidation NLL (nats/token) on {len(held)} files against minutes of training")
    for label, curve in curves.items():
        points = "  ".join(f"{m:4.1f}:{loss:.3f}" for m, loss in curve)
        print(f"{label:13} {points}")
    best = {label: min(loss for _, loss in curve) for label, curve in curves.items()}
    ratio = best["fine-tuned"] / best["from scratch"]
    print(
        f"\nbest: from scratch {best['from scratch']:.3f}, fine-tuned {best['fine-tuned']:.3f} "
        f"(ratio {ratio:.2f}; aim <= 0.85); 5-gram {ngram:.3f}; "
        f"uniform guess {math.log(len(Vocabulary(tokenizer))):.3f}"
    )
    print(
        f"fine-tuned vs 5-gram: {ngram - best['fine-tuned']:+.3f} nats "
        f"({(ngram - best['fine-tuned']) / ngram:.0%} better)"
    )


if __name__ == "__main__":
    main()
