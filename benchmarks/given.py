"""The given music (issue 26): does the model use the music around what it writes?

For each collection asked (the Bach chorales and POP909 unless told; ../shared/corpora), the same
seeded sample of files, split,
seed, settings and number of steps: a small model from empty with meter and lookback only
(`context`: the model of `composer train --context` before the given music) and with the given
music as well (`given`: what `--context` gives now). On files neither trained on, prints:

- fill: the NLL of a span's tokens (spans drawn as training draws them) from the left side only
  and with the music after the span (the suffix read first, and for `given` heard as the span's
  end nears), as `composer evaluate` reports it. The issue's aim: both sides at least 5% lower
  than the left alone.
- accompaniment: the NLL of the alto, tenor and bass of a chorale (its Alto/Tenor/Bass tracks)
  written as a new part, with its Soprano track given and without it; for POP909 the PIANO
  track given its MELODY (the first 64 beats). The aim: at least 15% lower with it.
- each run's best validation NLL and its training pace (tokens a second).

    python -m benchmarks.given [--collections bach_chorales,pop909] [--files 150]
        [--steps 1200] [--held 30] [--ahead 1,4] [--no-context-run] [--lookback phrases,ahead]
"""

from __future__ import annotations

import argparse
import random
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.form import CORPORA
from benchmarks.lookback import sampled_collection, train
from composer.core.evaluation.fill_in import fill_in_report
from composer.core.evaluation.likelihood import token_nll
from composer.core.generation import load_model
from composer.core.midi.reader import read_midi
from composer.core.model import preset
from composer.core.tokens import TokenizerConfig, Vocabulary, encode
from composer.core.tokens.codec import grid_notes
from composer.core.tokens.given import GivenMusic, middle_start
from composer.core.tokens.meter import Meter
from composer.core.training import TrainConfig
from composer.core.training.given_data import voices_example

#: Per collection: the tracks given and the tracks written in the accompaniment test, by name,
#: and the beats of each file it reads (None: all); a collection not named here has none.
ACCOMPANIMENT = {
    "bach_chorales": (("Soprano",), ("Alto", "Tenor", "Bass"), None),
    "pop909": (("MELODY",), ("PIANO",), 64),
}


def middle_nll(loaded, tokens: np.ndarray, given: GivenMusic) -> tuple[float, int]:
    """(summed NLL in nats, count) of the tokens of an example's middle and its EndMiddle, read
    with the given music (for a model that hears it), as composer evaluate scores a fill."""
    nll = token_nll(loaded.model, tokens, loaded.vocab, given)
    scored = nll[middle_start(tokens, loaded.vocab) :]  # the targets after the Middle mark
    return float(scored.sum()), len(scored)


def fill_rows(models: dict, pieces: list, vocab: Vocabulary, seed: int) -> dict:
    """Per model, (left side only, both sides) mean NLL over the middles of 4 spans a piece
    (evaluation/fill_in.py, which `composer evaluate` reports), each read in its own meter."""
    tokens = [encode(piece, vocab) for piece in pieces]
    meters = [Meter.of_piece(piece, vocab.config.steps_per_beat) for piece in pieces]
    out = {}
    for label, loaded in models.items():
        report = fill_in_report(loaded.model, vocab, tokens, spans=4, seed=seed, meters=meters)
        out[label] = np.array([report["left_side_nats"], report["both_sides_nats"]])
    return out


def accompaniment_rows(models: dict, pieces: list, vocab: Vocabulary, tracks) -> dict:
    """Per model, (without the given tracks, with them) mean NLL of the written tracks' tokens."""
    given_names, written_names, beats = tracks
    spb = vocab.config.steps_per_beat
    totals = {label: np.zeros((2, 2)) for label in models}
    for piece in pieces:
        names = [t.name for t in piece.tracks]
        if not set(given_names + written_names) <= set(names):
            continue
        gave = replace(piece, tracks=[t for t in piece.tracks if t.name in given_names])
        wrote = replace(piece, tracks=[t for t in piece.tracks if t.name in written_names])
        given_notes, tempos = grid_notes(gave, vocab)
        written_notes, _ = grid_notes(wrote, vocab)
        notes = np.concatenate([given_notes, written_notes])
        mask = np.arange(len(notes)) < len(given_notes)
        end = -(-int(notes["end"].max()) // spb) * spb if len(notes) else 0
        end = min(end, beats * spb) if beats else end
        keep = notes["start"] < end
        notes, mask = notes[keep], mask[keep]
        if not mask.any() or mask.all():
            continue
        tokens, heard = voices_example(notes, tempos, 0, end, vocab, False, mask, True)
        for column, given in enumerate((GivenMusic.nothing(end), heard)):
            for label, loaded in models.items():
                total, count = middle_nll(loaded, tokens, given)
                totals[label][column] += (total, count)
    return {label: t[:, 0] / np.maximum(t[:, 1], 1) for label, t in totals.items()}


def held_out(name: str, sample: int, count: int, seed: int) -> list:
    """`count` files of a collection that the sample of `sample` files (copy_sample) left out."""
    files = sorted((CORPORA / name).rglob("*.mid"))
    random.Random(seed).shuffle(files)
    return [read_midi(path) for path in files[sample : sample + count]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collections", default="bach_chorales,pop909")
    parser.add_argument("--files", type=int, default=150)
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--held", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--ahead",
        default="1",
        help="look-ahead windows to compare, in beats (e.g. 1,4): a given model for each",
    )
    parser.add_argument(
        "--no-context-run", action="store_true", help="leave out the model without given music"
    )
    parser.add_argument(
        "--lookback",
        default="",
        help="more runs, each with the given music: phrases (lags of 4 and 8 bars and the repeat "
        "flags), ahead (and a fill's middle hearing the bars around it)",
    )
    args = parser.parse_args()
    tokenizer = TokenizerConfig()
    vocab = Vocabulary(tokenizer)
    spb = tokenizer.steps_per_beat
    hearing = preset("small", len(vocab)).hearing_context(spb)  # composer train --context now
    # --context before the phrases: lookback of 1 and 2 bars within each part
    given = replace(hearing, lookback_repeats=0, lookback_phrases=0, lookback_ahead=0)
    variants = {} if args.no_context_run else {"context": replace(given, given_ahead_steps=0)}
    for beats in args.ahead.split(","):
        label = "given" if len(args.ahead.split(",")) == 1 else f"given-{beats}"
        variants[label] = replace(given, given_ahead_steps=int(float(beats) * spb))
    phrases = replace(given, lookback_repeats=1, lookback_phrases=1)
    extra = {"phrases": phrases, "ahead": hearing}
    variants |= {label: extra[label] for label in filter(None, args.lookback.split(","))}
    config = TrainConfig(
        steps=args.steps,
        eval_every=max(args.steps // 6, 1),
        validation_fraction=0.1,
        device="cpu",
        seed=args.seed,
    )
    results = []
    for name in args.collections.split(","):
        with tempfile.TemporaryDirectory() as scratch:
            scratch = Path(scratch)
            report, _, collection = sampled_collection(
                name, args.files, args.seed, scratch, tokenizer
            )
            print(f"{name}: {report.ok} files, {report.tokens:,} tokens, {args.steps} steps each")
            runs = {
                label: train(scratch / label, collection, model, config)
                for label, model in variants.items()
            }
            models = {label: load_model(scratch / label) for label in runs}
            for loaded in models.values():
                loaded.model.eval()
            pieces = held_out(name, args.files, args.held, args.seed)
            fill = fill_rows(models, pieces, vocab, args.seed)
            accompany = None
            if name in ACCOMPANIMENT:
                accompany = accompaniment_rows(models, pieces, vocab, ACCOMPANIMENT[name])
            results.append((name, runs, fill, accompany))

    print(f"\nsmall model from empty, {args.steps} steps each, {args.held} held-out files")
    print("NLL in nats per token of the tokens written; ratio: with the music / without it")
    for name, runs, fill, accompany in results:
        print(f"  {name}")
        for label in runs:
            best, pace = runs[label]
            left, both = fill[label]
            line = (
                f"    {label:8} validation {best:.3f} ({pace:,.0f} tokens/s)   fill: left "
                f"{left:.3f} both {both:.3f} ratio {both / left:.3f}"
            )
            if accompany is not None:
                given_names, written_names, _ = ACCOMPANIMENT[name]
                alone, heard = accompany[label]
                line += (
                    f"   {'+'.join(written_names)} without {'+'.join(given_names)} "
                    f"{alone:.3f} with {heard:.3f} ratio {heard / alone:.3f}"
                )
            print(line)


if __name__ == "__main__":
    main()
