"""How far random transposition should reach: validation NLL against the transposition range, for
training from an empty model and for fine-tuning the base model, on a tiny collection and on a
larger one.

Baseline: the trainer's default range (TrainConfig.transpose, ±3 semitones). Every row trains the
same model on the same files and split, with the same seed, for at most the same number of steps
(so the figures do not depend on how busy the machine is), validating every 50 steps and stopping
after 8 validations without a new best; the figure is the best validation NLL (nats/token).

- tiny: 30 Palestrina mass movements held out of the base corpus (files 51-80 of
  build/base-corpus/held_out/palestrina, disjoint from benchmarks/finetune.py's 50), both from
  empty and fine-tuned from the base model;
- larger: 40 POP909 songs (../shared/corpora/pop909), from empty only (the base model saw them).

    python benchmarks/transpose.py [--ranges 3,6,12] [--steps 2000] [--skip-pop]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from composer.core.corpus import TokenCache, ingest
from composer.core.model import preset
from composer.core.tokens import Vocabulary
from composer.core.training import Collection, TrainConfig, TrainEvent, new_run
from composer.core.training.config import FINE_TUNING
from composer.core.training.start_from import read_start

ROOT = Path(__file__).resolve().parents[1]
PALESTRINA = ROOT / "build" / "base-corpus" / "held_out" / "palestrina"
POP909 = ROOT.parent / "shared" / "corpora" / "pop909"
COMMON = {"eval_every": 50, "patience": 8, "validation_fraction": 0.2, "device": "cpu"}


def collection(paths: list[Path], scratch: Path, tokenizer) -> Collection:
    files = scratch / "files"
    files.mkdir(parents=True)
    for path in paths:
        shutil.copy(path, files / path.name)
    report = ingest(files, scratch / "cache", tokenizer, jobs=0)
    print(f"  {report.ok} files, {report.tokens:,} tokens")
    return Collection.from_ingest(report, TokenCache(scratch / "cache", tokenizer))


def best_loss(
    run_dir: Path, files: Collection, model, config: TrainConfig, start=None
) -> tuple[float, int]:
    """Train; (the best validation NLL, the step it was measured at)."""
    trainer = new_run(run_dir, files, model, config, start_from=start)
    best, step = trainer.validation_loss(), 0
    for progress in trainer.run():
        loss = progress.val_loss if progress.event == TrainEvent.VALIDATION else None
        if loss is not None and loss < best:
            best, step = loss, progress.step
    return best, step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranges", default=f"{TrainConfig.transpose},6,12")
    parser.add_argument("--steps", type=int, default=2000, help="at most, per row")
    parser.add_argument("--base", default=str(ROOT / "assets" / "model" / "model.json"))
    parser.add_argument("--skip-pop", action="store_true")
    args = parser.parse_args()
    ranges = [int(r) for r in args.ranges.split(",")]
    if not PALESTRINA.is_dir():
        raise SystemExit(f"{PALESTRINA} is missing: run scripts/build_base_corpus.py first")
    start = read_start(args.base)
    tokenizer = start.tokenizer
    empty = preset("small", len(Vocabulary(tokenizer)))
    rows: list[tuple[str, int, tuple[float, int]]] = []
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        print("tiny: Palestrina, files 51-80")
        tiny = collection(sorted(PALESTRINA.glob("*.mid"))[50:80], scratch / "tiny", tokenizer)
        for reach in ranges:
            config = TrainConfig(steps=args.steps, transpose=reach, **COMMON)
            loss = best_loss(scratch / f"empty-{reach}", tiny, empty, config)
            rows.append(("tiny, from empty", reach, loss))
            tuned = TrainConfig(steps=args.steps, transpose=reach, **{**FINE_TUNING, **COMMON})
            loss = best_loss(scratch / f"tuned-{reach}", tiny, start.model, tuned, start)
            rows.append(("tiny, fine-tuned", reach, loss))
        if not args.skip_pop and POP909.is_dir():
            print("larger: POP909, 40 songs")
            songs = sorted(POP909.rglob("*.mid"))[:40]
            pop = collection(songs, scratch / "pop", tokenizer)
            for reach in ranges:
                config = TrainConfig(steps=args.steps, transpose=reach, **COMMON)
                rows.append(("POP909, from empty", reach, best_loss(scratch / f"pop-{reach}", pop, empty, config)))  # fmt: skip
    print(f"\nbest validation NLL (nats/token), at most {args.steps} steps per row")
    print(
        f"{'collection, start':22} {'±semitones':>10}    best   at step  vs ±{TrainConfig.transpose}"
    )
    baselines = {label: loss for label, reach, (loss, _) in rows if reach == TrainConfig.transpose}
    for label, reach, (loss, step) in rows:
        ratio = f"{loss / baselines[label]:.3f}" if label in baselines else "-"
        print(f"{label:22} {reach:>10}  {loss:.4f}  {step:>8}  {ratio}")
    print(f"({(time.perf_counter() - began) / 60:.0f} minutes)")


if __name__ == "__main__":
    main()
