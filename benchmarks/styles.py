"""First launch in each style (issue 26): does the bundled model play like the collection asked for?

For each collection of the base corpus (build/base-corpus/MANIFEST.json, or the three in
../shared/corpora when the corpus was not built): the polyphony (pitched notes sounding while any
sounds) and pitch range (semitones) of `--pieces` pieces of `--seconds` s a model writes from
silence when asked for that collection's style, beside the first `--seconds` s of `--files` of the
collection's own files. The aim: within 30% of the collection's own. The baseline is the same
pieces from a model that knows no styles (the shipped one before styles, `--baseline`): it writes
the same music whatever is asked. Repetition (benchmarks/form.py) is printed beside them.

    python -m benchmarks.styles [--model assets/model] [--baseline MODEL] [--files 48]
        [--pieces 16] [--seconds 30] [--temperature T]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.form import CORPORA, cut, generate, sample_files
from composer.core.evaluation.form import FormFigures
from composer.core.generation import SamplingSettings, load_model
from composer.resources import default_model

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "build" / "base-corpus" / "MANIFEST.json"
#: Without the built base corpus: the collections of ../shared/corpora and their styles.
SHARED = {"pop909": "pop", "nottingham": "folk", "bach_chorales": "chorale"}
AIM = 0.30  # within 30% of the collection's own value


def collections() -> list[tuple[str, str, Path]]:
    """(name, style, folder) of each collection to compare with."""
    if MANIFEST.is_file():
        manifest = json.loads(MANIFEST.read_text())
        folder = MANIFEST.parent / "base"
        return [(c["name"], c["style"], folder / c["name"]) for c in manifest["base"]]
    return [(name, style, CORPORA / name) for name, style in SHARED.items()]


def within(value: float, own: float) -> str:
    if not own:
        return "-"
    off = value / own - 1
    return f"{value / own:4.2f} {'yes' if abs(off) <= AIM else 'no '}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a model with styles (default: bundled)")
    parser.add_argument("--baseline", default=None, help="a model without styles to compare")
    parser.add_argument("--files", type=int, default=48)
    parser.add_argument("--pieces", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--temperature", type=float, default=SamplingSettings.temperature)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = load_model(args.model or default_model())
    if not model.config.styles:
        raise SystemExit(f"{model.source} knows no styles: give --model a model trained with them")
    baseline = load_model(args.baseline) if args.baseline else None
    print(f"model {model.name}: styles {', '.join(model.config.styles)}")
    plain = None
    if baseline is not None:  # one set of pieces: it is not told the style
        plain = FormFigures.of(
            generate(baseline, args.pieces, args.seconds, None, args.temperature)[0]
        )
    header = (
        f"{'collection':19} {'style':9} {'':10} polyphony  ratio aim  range  ratio aim  repetition"
    )
    print(f"\n{args.pieces} pieces of {args.seconds:g} s each, seeds 0-{args.pieces - 1}, "
          f"temperature {args.temperature:g}; the collection: the first {args.seconds:g} s of "
          f"{args.files} files\n{header}")  # fmt: skip
    met = 0
    for name, style, folder in collections():
        files = sample_files(name, args.files, args.seed, folder)
        own = FormFigures.of([cut(p, 0, args.seconds) for p in files])
        pieces, _ = generate(model, args.pieces, args.seconds, None, args.temperature, style)
        styled = FormFigures.of(pieces)
        rows = [("collection", own), ("styled", styled)]
        if plain is not None:
            rows.append(("no style", plain))
        for label, f in rows:
            print(
                f"{name:19} {style:9} {label:10} {f.polyphony:9.2f}  "
                f"{within(f.polyphony, own.polyphony) if f is not own else '         '}  "
                f"{f.pitch_range:5.1f}  "
                f"{within(f.pitch_range, own.pitch_range) if f is not own else '         '}  "
                f"{f.repetition:.3f}"
            )
        ok = all(
            abs(getattr(styled, k) / getattr(own, k) - 1) <= AIM
            for k in ("polyphony", "pitch_range")
        )
        met += ok
    print(f"\nstyles within {AIM:.0%} of their collection in both polyphony and range: {met}")


if __name__ == "__main__":
    main()
