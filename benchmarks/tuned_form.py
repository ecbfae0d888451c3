"""Form after fine-tuning (issue 26's aim): the base model fine-tuned on a collection, with and
without the context inputs, at equal steps.

For each collection (../shared/corpora): the same seeded sample of files, split, seed and steps;
the shipped base model (assets/model) fine-tuned with the settings `composer train --from` gives,
once as it is (`plain`) and once grown with `--context` (`context`: meter, lookback and the given
music, starting at zero); a shipped model that hears them already is fine-tuned once
(`bundled`), as `composer train --from base` does (its collection becomes its own style). Prints
the best validation NLL of each and the form of 16 pieces of 30 s
each writes from silence (composer/core/evaluation/form.py) beside the validation files' first
30 s: repetition (the aim: within 30% of the collection's), bar repeats, notes held over 10 s per
1000 notes and late starts (the aim: no more frequent than in the collection), polyphony, range.

    python -m benchmarks.tuned_form [--collections nottingham,bach_chorales] [--files 150]
        [--steps 400] [--pieces 16] [--seconds 30]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks.form import cut, generate
from benchmarks.lookback import sampled_collection, train
from composer.core.evaluation.form import FormFigures
from composer.core.generation import load_model
from composer.core.midi.reader import read_midi
from composer.core.training import TrainConfig
from composer.core.training.config import FINE_TUNING
from composer.core.training.run_info import read_run_info
from composer.core.training.start_from import hearing_context, read_start
from composer.resources import default_model


def tune(run_dir: Path, collection, start, steps: int, seed: int) -> float:
    """Fine-tune from `start` for `steps` with `--from`'s settings; the best validation NLL."""
    config = TrainConfig(
        steps=steps,
        learning_rate=FINE_TUNING["learning_rate"],
        warmup_steps=FINE_TUNING["warmup_steps"],
        eval_every=max(steps // 4, 1),
        validation_fraction=0.1,
        device="cpu",
        seed=seed,
    )
    return train(run_dir, collection, start.model, config, start_from=start)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collections", default="nottingham,bach_chorales")
    parser.add_argument("--files", type=int, default=150)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--pieces", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    base = read_start(default_model())
    tokenizer = base.tokenizer
    starts = {"plain": base, "context": hearing_context(base, tokenizer.steps_per_beat)}
    if base.model.context_steps:  # the bundled model hears the bar already: one start
        starts = {"bundled": base}
    rows = []
    for name in args.collections.split(","):
        with tempfile.TemporaryDirectory() as scratch:
            scratch = Path(scratch)
            report, _, collection = sampled_collection(
                name, args.files, args.seed, scratch, tokenizer
            )
            print(f"{name}: {report.ok} files, fine-tuned {args.steps} steps each")
            nll = {
                label: tune(scratch / label, collection, start, args.steps, args.seed)
                for label, start in starts.items()
            }
            run = read_run_info(scratch / next(iter(starts)))
            own = FormFigures.of(
                [cut(read_midi(Path(run.folder) / p), 0, args.seconds) for _, p in run.validation]
            )
            figures = {}
            for label in starts:
                pieces, _ = generate(load_model(scratch / label), args.pieces, args.seconds, None)
                figures[label] = FormFigures.of(pieces)
            rows.append((name, nll, own, figures))

    print(f"\nthe base fine-tuned {args.steps} steps; {args.pieces} pieces of {args.seconds:g} s")
    for name, nll, own, figures in rows:
        for label, f in [("collection", own), *figures.items()]:
            loss = f"NLL {nll[label]:.3f}" if label in nll else " " * 9
            print(
                f"  {name:14} {label:10} {loss}  repetition {f.repetition:.3f}  bar repeats "
                f"{f.bar_repeats:.3f}  held {f.held_per_1000_notes:5.2f}/1000  late starts "
                f"{f.late_starts}/{f.pieces}  polyphony {f.polyphony:.2f}  range "
                f"{f.pitch_range:.1f}"
            )


if __name__ == "__main__":
    main()
