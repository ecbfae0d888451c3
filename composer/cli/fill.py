"""`composer fill`: regenerate some bars of a MIDI file with the music on both sides kept."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from composer.cli.generate import add_sampling_options, check_outputs, output_paths
from composer.cli.steering import add_steering_options, constraints_from
from composer.cli.writing import run_writing, sample_whole_pieces
from composer.core.errors import SettingsError
from composer.core.generation.settings import SamplingSettings, random_seed  # torch-free
from composer.resources import default_model


def add_parser(commands) -> None:
    fill = commands.add_parser(
        "fill",
        help="regenerate some bars of a MIDI file, keeping the music around them",
        description="Write new music for bars FIRST-LAST of PIECE (bars counted from 1 by the "
        "piece's time signatures) and write the whole piece to OUT: everything outside those "
        "bars stays exactly as it was. A model trained to fill in (every model trained since "
        "fill-in-the-middle, the bundled one included) hears the music after the bars too; an "
        "older one continues from the bars before. With --variations N, writes N files named "
        "from OUT (name-1.mid, name-2.mid, ...).",
    )
    fill.add_argument("piece", metavar="PIECE.mid", type=Path, help="the MIDI file to rework")
    fill.add_argument("--bars", required=True, metavar="FIRST-LAST", help="e.g. 9-12, or 5")
    fill.add_argument("--out", metavar="OUT.mid", type=Path, required=True, help="file to write")
    fill.add_argument(
        "--model", type=Path, metavar="MODEL", help="run folder or model file (the bundled model)"
    )
    fill.add_argument(
        "--tracks",
        metavar="N,N",
        help="only rewrite these tracks (numbered from 1 in the file's order); the others keep "
        "their notes in those bars, and a model trained with --context hears them (default: all)",
    )
    add_sampling_options(fill, top_k=False)
    fill.add_argument("--force", action="store_true", help="overwrite existing files")
    add_steering_options(fill, tempo=False)  # the piece keeps its tempo map
    fill.set_defaults(run=run)


def parse_bars(text: str) -> tuple[int, int]:
    """'9-12' -> (9, 12); '5' -> (5, 5). SettingsError with the reason otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:[-–]\s*(\d+)\s*)?", text)
    if not match:
        raise SettingsError(f"--bars {text!r} is not a bar or a range of bars such as 9-12")
    first, last = int(match[1]), int(match[2] or match[1])
    if first < 1 or last < first:
        raise SettingsError(f"--bars {text}: bars count from 1 and the last comes after the first")
    return first, last


def parse_tracks(text: str | None, count: int) -> list[int] | None:
    """'1,3' -> [0, 2] (indices); None -> None. SettingsError naming the tracks there are."""
    if text is None:
        return None
    try:
        numbers = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        numbers = []
    if not numbers or any(not 1 <= n <= count for n in numbers):
        raise SettingsError(f"--tracks {text}: the piece has tracks 1 to {count}")
    return [n - 1 for n in numbers]


def span_start(args, no_notes: str) -> tuple[SamplingSettings, list[Path], object]:
    """What `fill` and `accompany` begin with: the sampling settings (a random seed, printed
    later, when none is given), the output files (refused if they exist, without --force) and
    the piece read (SettingsError '{piece} has no notes; {no_notes}' when it has none)."""
    from composer.core.midi import read_midi

    seed = args.seed if args.seed is not None else random_seed()
    settings = SamplingSettings(
        temperature=args.temperature,
        top_p=args.top_p,
        seed=seed,
        variations=args.variations,
        style=args.style,
    )
    paths = output_paths(args.out, args.variations)
    check_outputs(paths, args.force)
    piece = read_midi(args.piece)
    if not piece.note_count:
        raise SettingsError(f"{args.piece} has no notes; {no_notes}")
    return settings, paths, piece


def run(args: argparse.Namespace) -> int:
    return run_writing("fill", _fill, args)


def _fill(args, written: list[Path]) -> int:
    from composer.core.generation import load_model
    from composer.core.generation.fill import SpanFiller, bar_span

    first, last = parse_bars(args.bars)
    settings, paths, piece = span_start(args, "fill bars of a piece with music in it")
    tracks = parse_tracks(args.tracks, len(piece.tracks))
    try:
        start, end = bar_span(piece, first, last)
    except SettingsError as exc:
        raise SettingsError(f"--bars {args.bars}: {exc}") from None
    model = load_model(args.model or default_model())
    constraints = constraints_from(args, model.vocab.config.steps_per_beat, piece)
    filler = SpanFiller(model, piece, start, end, settings, tracks, constraints)
    bars = f"bar {first}" if first == last else f"bars {first}-{last}"
    how = (
        "hearing the music on both sides"
        if filler.both_sides
        else f"from the music before only ({model.name} was not trained to fill in)"
    )
    if tracks is not None and len(tracks) < len(piece.tracks):
        how += (
            " and the other tracks as it plays"
            if filler.hears_inside
            else f" (the other tracks inside the bars are not heard: {model.name} was not "
            "trained with --context)"
        )
    print(f"Model {model.name}; seed {settings.seed}; filling {bars} {how}")
    sample_whole_pieces(
        "fill", filler, paths, args, written,
        said=lambda piece: f"{piece.note_count} notes",
        empty=(
            f"in {bars} of {{path}}",
            f"so it is written with {bars} empty (the rest of the piece is music)",
        ),
    )  # fmt: skip
    return 0
