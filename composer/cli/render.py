"""`composer render`: a MIDI file to a WAV file, with FluidSynth and a General MIDI soundfont."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(commands) -> None:
    render = commands.add_parser(
        "render",
        help="render a MIDI file to a WAV file",
        description="Render MIDI to a 44.1 kHz stereo WAV with FluidSynth and a General MIDI "
        "soundfont (default: TimGM6mb, shipped with pretty_midi). Without FluidSynth, a simple "
        "built-in synthesiser is used and the command says so.",
    )
    render.add_argument("midi", metavar="MIDI", type=Path, help="the MIDI file to render")
    render.add_argument(
        "--out", metavar="WAV", type=Path, required=True, help="the WAV file to write"
    )
    render.add_argument("--soundfont", metavar="SF2", type=Path, help="a .sf2 soundfont")
    render.add_argument("--force", action="store_true", help="overwrite an existing WAV file")
    render.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from composer.core.audio import AudioError, render, write_wav
    from composer.core.midi import read_midi
    from composer.core.midi.reader import MidiReadError

    if args.out.exists() and not args.force:
        print(
            f"composer render: {args.out} already exists; choose another --out or add --force.",
            file=sys.stderr,
        )
        return 2
    try:
        piece = read_midi(args.midi)
        audio = render(piece, args.soundfont)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_wav(audio.samples, audio.sample_rate, args.out, overwrite=args.force)
    except (MidiReadError, AudioError, FileExistsError, OSError) as exc:
        print(f"composer render: {str(exc).rstrip('.')}.", file=sys.stderr)
        return 2
    if audio.note:
        print(f"Note: {audio.note}.", file=sys.stderr)
    engine = "FluidSynth" if audio.engine == "fluidsynth" else "the built-in synthesiser"
    print(f"Wrote {args.out} ({audio.seconds:.1f} s, rendered with {engine})")
    return 0
