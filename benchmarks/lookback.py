"""The context inputs (meter and lookback, issue 26) against the plain LSTM, at equal steps.

For each collection (Nottingham folk tunes, the Bach chorales, POP909 songs, in ../shared/corpora):
the same seeded sample of files, the same split, seed, settings and number of steps, a small
model from empty for each variant asked for:

- plain: without context inputs (the baseline: Composer's model before issue 26);
- context: with them (`composer train --context`: step in the beat, beat in the bar of the
  piece's own time signatures, the token that came next 1 and 2 bars before, the given music);
- fourfour: the same, counting 4/4 bars from each part's start whatever the time signature (the
  context models made before the meter travelled with the tokens);
- copy: context, and a bias the model computes for repeating the token of 1 or 2 bars before
  (ModelConfig.lookback_copy);
- repeats: context, and per lag how many tokens in a row repeated the bar before
  (ModelConfig.lookback_repeats, Lookback RNN's repeat flags);
- phrases: repeats, and two more lags, 4 and 8 bars (ModelConfig.lookback_phrases);
- ahead: phrases, and moments placed in the piece: a fill's middle hears the bars before it
  and what the music after it plays 1, 2 and 4 bars later (ModelConfig.lookback_ahead).

Prints, per collection:

- the best validation NLL of each (nats per token), their ratio, and a 5-gram (Kneser-Ney) fitted
  on the same training files, the floor both must beat;
- the repetition measure (composer/core/evaluation/form.py) of pieces each model writes, against
  the validation files' first seconds: the issue's aim is within 30% of the collection's own.

    python -m benchmarks.lookback [--collections nottingham,bach_chorales] [--files 200]
        [--steps 1500] [--pieces 16] [--seconds 30]
        [--variants plain,fourfour,context,copy,repeats,phrases,ahead]
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.form import COLLECTIONS, CORPORA, cut, generate
from composer.core.corpus import TokenCache, ingest
from composer.core.evaluation.form import FormFigures
from composer.core.evaluation.ngram import KneserNey
from composer.core.generation import load_model
from composer.core.midi.reader import read_midi
from composer.core.model import preset
from composer.core.tokens import TokenizerConfig, Vocabulary
from composer.core.training import Collection, TrainConfig, TrainEvent, new_run
from composer.core.training.run_info import read_run_info


def copy_sample(name: str, count: int, seed: int, into: Path) -> Path:
    """`count` files of a collection, drawn with `seed`, copied into a folder of their own."""
    folder = CORPORA / name
    if not folder.is_dir():
        raise SystemExit(f"{folder} is missing: the collections live in ../shared/corpora")
    files = sorted(folder.rglob("*.mid"))
    random.Random(seed).shuffle(files)
    into.mkdir(parents=True)
    for i, path in enumerate(files[:count]):
        shutil.copy(path, into / f"{i:04d}-{path.name}")
    return into


def sampled_collection(name: str, count: int, seed: int, scratch: Path, tokenizer):
    """copy_sample's files ingested into a cache of their own in `scratch`: (IngestReport,
    TokenCache, Collection)."""
    folder = copy_sample(name, count, seed, scratch / "files")
    report = ingest(folder, scratch / "cache", tokenizer, jobs=0)
    cache = TokenCache(scratch / "cache", tokenizer)
    return report, cache, Collection.from_ingest(report, cache)


def train(run_dir: Path, collection, model, config, start_from=None) -> tuple[float, float]:
    """Train to the end (from `start_from`, a StartFrom, when given): the best validation NLL
    (nats per token) and the median pace (tokens learnt a second)."""
    started = time.perf_counter()
    trainer = new_run(run_dir, collection, model, config, start_from=start_from)
    best, paces = float("inf"), []
    for progress in trainer.run():
        if progress.event == TrainEvent.VALIDATION and progress.val_loss is not None:
            best = min(best, progress.val_loss)
        if progress.tokens_per_s:
            paces.append(progress.tokens_per_s)
    pace = float(np.median(paces)) if paces else float("nan")
    minutes = (time.perf_counter() - started) / 60
    print(
        f"    {run_dir.name:8} best {best:.3f} nats/token, {pace:,.0f} tokens/s, {minutes:.1f} min"
    )
    return best, pace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collections", default=",".join(COLLECTIONS))
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--pieces", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", default="plain,context,copy")
    args = parser.parse_args()
    tokenizer = TokenizerConfig()
    vocab = Vocabulary(tokenizer)
    plain = preset("small", len(vocab))
    hearing = plain.hearing_context(tokenizer.steps_per_beat)  # composer train --context now
    # --context before the phrases: lookback of 1 and 2 bars within each part
    with_context = replace(hearing, lookback_repeats=0, lookback_phrases=0, lookback_ahead=0)
    variants = {
        "plain": plain,
        "fourfour": replace(with_context, meter=0),
        "context": replace(with_context, lookback_copy=0),
        "copy": replace(with_context, lookback_copy=1),
        "repeats": replace(with_context, lookback_repeats=1),
        "phrases": replace(with_context, lookback_repeats=1, lookback_phrases=1),
        "ahead": hearing,
    }
    variants = {name: variants[name] for name in args.variants.split(",")}
    config = TrainConfig(
        steps=args.steps,
        eval_every=max(args.steps // 6, 1),
        validation_fraction=0.1,
        device="cpu",
        seed=args.seed,
    )
    rows = []
    for name in args.collections.split(","):
        with tempfile.TemporaryDirectory() as scratch:
            scratch = Path(scratch)
            report, cache, collection = sampled_collection(
                name, args.files, args.seed, scratch, tokenizer
            )
            print(f"{name}: {report.ok} files, {report.tokens:,} tokens, {args.steps} steps each")
            nll = {
                label: train(scratch / label, collection, model, config)[0]
                for label, model in variants.items()
            }
            run = read_run_info(scratch / next(iter(variants)))
            train_tokens = [np.asarray(cache.tokens(s)) for s, _ in run.train]
            held = [np.asarray(cache.tokens(s)) for s, _ in run.validation]
            ngram = KneserNey(5, len(vocab)).fit(train_tokens).nll(held)
            # Ingest read every one of them: they read again.
            validation = [
                cut(read_midi(Path(run.folder) / path), 0, args.seconds)
                for _, path in run.validation
            ]
            own = FormFigures.of(validation)
            figures = {}
            for label in nll:
                pieces, _ = generate(load_model(scratch / label), args.pieces, args.seconds, None)
                figures[label] = FormFigures.of(pieces)
            rows.append((name, nll, ngram, own, figures))

    print(f"\nsmall model from empty, {args.steps} steps each; NLL in nats per token")
    labels = list(variants)
    print(
        f"  {'collection':14} "
        + " ".join(f"{label:>8}" for label in labels)
        + f" {'5-gram':>7}  {'repetition: own':>16} "
        + " ".join(f"{label:>8}" for label in labels)
    )
    for name, nll, ngram, own, figures in rows:
        print(
            f"  {name:14} "
            + " ".join(f"{nll[label]:8.3f}" for label in labels)
            + f" {ngram:7.3f}  {own.repetition:16.3f} "
            + " ".join(f"{figures[label].repetition:8.3f}" for label in labels)
        )
    print(
        f"\nform of {args.pieces} pieces of {args.seconds:g} s from empty, against the validation "
        "files' first seconds: bar repeats (share of bars repeating one of the 8 before), notes "
        "held over 10 s per 1000, pieces silent for their first seconds"
    )
    for name, _, _, own, figures in rows:
        for label, f in [("collection", own), *figures.items()]:
            print(
                f"  {name:14} {label:10} bar repeats {f.bar_repeats:.3f}  held "
                f"{f.held_per_1000_notes:5.2f}  late starts {f.late_starts}/{f.pieces}"
            )


if __name__ == "__main__":
    main()
