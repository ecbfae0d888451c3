"""The flags that steer generation (key, range, polyphony, instruments, tempo, meter, grid), shared by
the commands that sample, and their translation into core Constraints."""

from __future__ import annotations

import argparse

from composer.core.errors import SettingsError
from composer.core.generation.settings import MAX_TEMPO_BPM, MIN_TEMPO_BPM  # torch-free


def add_steering_options(parser, *, tempo: bool = True, instruments: bool = True) -> None:
    """The steering flags; `tempo=False` leaves out --tempo, for the commands that keep the
    piece's own tempo map (fill), `instruments=False` --programs and --drums, for the command
    that names its part's instrument itself (accompany)."""
    group = parser.add_argument_group(
        "steering", "constrain what the model may play (works with every model)"
    )
    group.add_argument(
        "--key",
        metavar="KEY",
        help='keep to a key and scale: "D minor", "C# dorian", "detect" (the primer\'s), "off"',
    )
    group.add_argument(
        "--range",
        action="append",
        metavar="[PROGRAM=]LOW-HIGH",
        help="lowest and highest note, e.g. C3-C6; PROGRAM=LOW-HIGH for one General MIDI "
        "instrument (40=G3-E7: the violin's); may be repeated",
    )
    group.add_argument(
        "--polyphony", type=int, metavar="N", help="at most N notes sounding per instrument"
    )
    if instruments:
        group.add_argument(
            "--programs",
            metavar="LIST",
            help="General MIDI instruments allowed, by number, name or family: 0,40 or "
            "'piano, violin' or strings; none: drums alone",
        )
        group.add_argument(
            "--drums",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="allow drums (yes)",
        )
    if tempo:
        group.add_argument(
            "--tempo",
            type=float,
            metavar="BPM",
            help=f"the new music's tempo, {MIN_TEMPO_BPM:g} to {MAX_TEMPO_BPM:g} BPM, written "
            "exactly (default: the primer's, else the model's)",
        )
        group.add_argument(
            "--meter",
            metavar="N/D",
            help="the time signature of music from silence, e.g. 3/4 or 6/8 (default 4/4; a "
            "primer keeps its own): written to the file, and the bar a model trained with "
            "--context counts",
        )
    group.add_argument(
        "--density",
        metavar="N",
        help="steer toward N notes per beat (all instruments), or 'primer' for the primer's",
    )
    group.add_argument(
        "--grid",
        metavar="G",
        help="onsets only on this grid: 1/16, 1/8, 1/12 (eighth triplets), 1/24, off",
    )


def constraints_from(args, steps_per_beat: int, primer=None):
    """Constraints from the parsed flags (primer: the primer's Piece, for 'detect' and
    'primer'); SettingsError (one sentence) for a value that is not one."""
    from composer.core.generation.constraints import Constraints, primer_key
    from composer.core.generation.steering_text import (
        parse_grid,
        parse_instrument_range,
        parse_key,
        parse_meter,
        parse_programs,
        parse_range,
    )

    key = None
    if args.key and args.key.strip().lower() == "detect":
        if primer is None:
            raise SettingsError("--key detect takes the key of the primer: add --primer FILE.mid")
        key = primer_key(primer)
    elif args.key:
        key = parse_key(args.key)
    density = None
    if args.density and args.density.strip().lower() == "primer":
        if primer is None:
            raise SettingsError(
                "--density primer takes the primer's density: add --primer FILE.mid"
            )
        density = Constraints().with_primer(primer, density=True).density
    elif args.density:
        try:
            density = float(args.density)
        except ValueError:
            raise SettingsError(
                f"--density {args.density!r}: give notes per beat, e.g. 2.5, or 'primer'"
            ) from None

    lowest, highest, ranges = 0, 127, []
    for text in args.range or []:
        try:
            if "=" in text:
                ranges.append(parse_instrument_range(text))
            else:
                lowest, highest = parse_range(text)
        except SettingsError as exc:
            raise SettingsError(f"--range: {exc}") from None
    programs = None
    if getattr(args, "programs", None):
        try:
            programs = parse_programs(args.programs)
        except SettingsError as exc:
            raise SettingsError(f"--programs: {exc}") from None
    return Constraints(
        key=key,
        lowest=lowest,
        highest=highest,
        ranges=tuple(ranges),
        polyphony=args.polyphony,
        programs=programs,
        drums=getattr(args, "drums", True),
        tempo_bpm=getattr(args, "tempo", None),
        meter=_meter(getattr(args, "meter", None), parse_meter),
        grid_steps=parse_grid(args.grid, steps_per_beat) if args.grid else None,
        density=density,
    )


def _meter(text: str | None, parse_meter):
    """The time signature --meter asks for, checked (one sentence naming the flag), or None."""
    from composer.core.generation.constraints import Constraints

    if not text:
        return None
    try:
        return Constraints(meter=parse_meter(text)).meter
    except SettingsError as exc:
        raise SettingsError(f"--meter: {exc}") from None
