"""How much fill-in training costs and what it buys: the share of fill-in examples (0 = the
baseline, no fill-in training) against left-to-right validation NLL and the fill-in NLL of
middles given both sides and the left side only.

Each share trains the same small model from empty on the same files, for the same number of
steps (so the figures do not depend on how busy the machine is), with the same seed and split.
Left-to-right NLL is the run's own validation loss; the fill-in figures come from
`composer.core.evaluation.fill_in` on the validation files (4 spans each, same seed for all).

    python benchmarks/fill_in.py [--folder ../shared/corpora/nottingham] [--steps 1500]
                                 [--shares 0,0.25,0.5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from composer.core.corpus import TokenCache, ingest
from composer.core.evaluation.fill_in import fill_in_report
from composer.core.model import preset
from composer.core.tokens import TokenizerConfig, Vocabulary
from composer.core.training import Collection, TrainConfig, new_run

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--folder", type=Path, default=ROOT.parent / "shared" / "corpora" / "nottingham"
    )
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--shares", default="0,0.25,0.5")
    args = parser.parse_args()
    shares = [float(s) for s in args.shares.split(",")]
    tokenizer = TokenizerConfig()  # with the marks for every share, so all read the same ids
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        report = ingest(args.folder, cache, tokenizer)
        collection = Collection.from_ingest(report, TokenCache(cache, tokenizer))
        print(f"{args.folder}: {report.ok} files; {args.steps} steps per run, small model")
        vocab = Vocabulary(tokenizer)
        rows = []
        for share in shares:
            config = TrainConfig(steps=args.steps, eval_every=args.steps, device="cpu")
            config = replace(config, fill_in=share)
            trainer = new_run(
                Path(tmp) / f"run-{share}", collection, preset("small", len(vocab)), config
            )
            started = time.perf_counter()
            for _ in trainer.run():
                pass
            minutes = (time.perf_counter() - started) / 60
            validation = [collection.tokens(s) for s, _ in trainer.info.validation]
            fill = fill_in_report(trainer.model.cpu(), vocab, validation, seed=0)
            rows.append((share, trainer.best_val_loss, fill, minutes))
            print(
                f"share {share:4.2f}: left-to-right {trainer.best_val_loss:.3f}  fill-in both "
                f"sides {fill['both_sides_nats']:.3f}  left only {fill['left_side_nats']:.3f}  "
                f"({minutes:.1f} min)"
            )
    base = rows[0]
    print("\nshare  left-to-right (vs share 0)  both sides  left only  right side helps")
    for share, nll, fill, _ in rows:
        print(
            f"{share:5.2f}  {nll:.3f} ({nll / base[1]:.3f}x)          {fill['both_sides_nats']:.3f}"
            f"       {fill['left_side_nats']:.3f}      {fill['relative']:.1%}"
        )


if __name__ == "__main__":
    main()
