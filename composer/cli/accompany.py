"""`composer accompany`: a new part that plays along with the tracks of a MIDI file."""

from __future__ import annotations

import argparse
from pathlib import Path

from composer.cli.fill import parse_bars, parse_tracks, span_start
from composer.cli.generate import add_sampling_options
from composer.cli.steering import add_steering_options, constraints_from
from composer.cli.writing import run_writing, sample_whole_pieces
from composer.core.errors import SettingsError


def add_parser(commands) -> None:
    part = commands.add_parser(
        "accompany",
        help="write a new part that plays along with a MIDI file's tracks",
        description="Write a new track for PIECE (a bass line to a melody, harmony to a tune, "
        "drums to a song) and write the whole piece with it to OUT: the piece's own tracks are "
        "kept tick for tick. A model trained with --context hears what the other tracks play "
        "at each moment and just ahead; an older one hears only the music before and after the "
        "bars it writes (the whole piece by default: then nothing). With --variations N, "
        "writes N files named from OUT (name-1.mid, name-2.mid, ...).",
    )
    part.add_argument(
        "piece", metavar="PIECE.mid", type=Path, help="the MIDI file to play along with"
    )
    part.add_argument("--out", metavar="OUT.mid", type=Path, required=True, help="file to write")
    instrument = part.add_mutually_exclusive_group()
    instrument.add_argument(
        "--program",
        default="0",
        metavar="INSTRUMENT",
        help="the new part's General MIDI instrument, by number or name: 32, 'acoustic bass', "
        "cello (default 0, piano)",
    )
    instrument.add_argument("--drums", action="store_true", help="the new part is drums")
    part.add_argument(
        "--bars", metavar="FIRST-LAST", help="only these bars, e.g. 9-16 (default: all)"
    )
    part.add_argument(
        "--with",
        dest="heard",
        metavar="N,N",
        help="hear only these tracks (numbered from 1 in the file's order; default: all); the "
        "others are still written back",
    )
    part.add_argument(
        "--model", type=Path, metavar="MODEL", help="run folder or model file (the bundled model)"
    )
    add_sampling_options(part, top_k=False)
    part.add_argument("--force", action="store_true", help="overwrite existing files")
    add_steering_options(part, tempo=False, instruments=False)
    part.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return run_writing("accompany", _accompany, args)


def _accompany(args, written: list[Path]) -> int:
    from composer.core.generation import load_model
    from composer.core.generation.accompany import Accompaniment
    from composer.core.generation.fill import bar_span
    from composer.core.generation.steering_text import parse_program
    from composer.core.midi.piece import gm_program_name
    from composer.resources import default_model

    try:
        program = 0 if args.drums else parse_program(args.program)
    except SettingsError as exc:
        raise SettingsError(f"--program: {exc}") from None
    settings, paths, piece = span_start(args, "give a piece with music to play along with")
    heard = parse_tracks(args.heard, len(piece.tracks))
    start = end = None
    where = "the whole piece"
    if args.bars:
        first, last = parse_bars(args.bars)
        try:
            start, end = bar_span(piece, first, last)
        except SettingsError as exc:
            raise SettingsError(f"--bars {args.bars}: {exc}") from None
        where = f"bar {first}" if first == last else f"bars {first}-{last}"
    model = load_model(args.model or default_model())
    constraints = constraints_from(args, model.vocab.config.steps_per_beat, piece)
    part = Accompaniment(
        model,
        piece,
        settings,
        program=program,
        drums=args.drums,
        start=start,
        end=end,
        heard=heard,
        constraints=constraints,
    )
    name = "drums" if args.drums else gm_program_name(program)
    if part.hears_inside:
        how = "hearing the other tracks as it plays"
    else:
        how = (
            f"hearing only the music before and after ({model.name} was not trained with "
            "--context, so it cannot hear the other tracks inside those bars)"
        )
    print(f"Model {model.name}; seed {settings.seed}; a new {name} part for {where}, {how}")
    sample_whole_pieces(
        "accompany", part, paths, args, written,
        said=lambda piece: f"{len(piece.tracks[-1].notes)} notes in the new part",
        empty=(f"in {where} of {{path}}", "so its new track is written empty"),
    )  # fmt: skip
    return 0
