"""What the commands that write MIDI files share (generate, fill, accompany): how they end when
the musician presses Ctrl-C or asks for something that cannot be, and how a span command writes
its variations."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from composer.cli.fixes import in_cli_words
from composer.core.errors import SettingsError


def run_writing(command: str, body: Callable, args) -> int:
    """body(args, written) -> exit status, where `written` collects the files written so far:
    Ctrl-C says which were (130), a problem the musician can fix is one sentence (2)."""
    from composer.core.generation import ModelFileError
    from composer.core.midi.reader import MidiReadError
    from composer.core.training.distributed import DeviceError

    written: list[Path] = []
    try:
        return body(args, written)
    except KeyboardInterrupt:
        said = stopped_sentence(written, args.variations)
        print(f"\ncomposer {command}: {said}.", file=sys.stderr)
        return 130
    except (
        ModelFileError,
        MidiReadError,
        DeviceError,
        SettingsError,
        OSError,  # the output cannot be written (FileExistsError without --force, a full disk)
    ) as exc:
        print(f"composer {command}: {in_cli_words(exc).rstrip('.')}.", file=sys.stderr)
        return 2


def stopped_sentence(written: list[Path], variations: int) -> str:
    """What Ctrl-C left behind, truthfully."""
    if not written:
        return "stopped before any piece was finished; nothing was written"
    return (
        f"stopped; {len(written)} of {variations} variation(s) were finished and written "
        "(listed above), the others were not written"
    )


def show_sampling(sampler) -> None:
    """Run the sampler to the end, showing progress on a terminal."""
    show = sys.stderr.isatty()
    for update in sampler.run():
        if show:
            sys.stderr.write(
                f"\rGenerating: {update.step} tokens, {max(update.seconds):.1f} s of music"
            )
    if show:
        sys.stderr.write("\n")


def sample_whole_pieces(
    command: str, job, paths: list[Path], args, written: list[Path], *, said, empty
) -> None:
    """Run a job that rewrites part of a piece (SpanFiller, Accompaniment) and write each
    variation as a whole piece, also when its new part has no note (the rest is music), with a
    sentence then; on Ctrl-C, the variations finished by then are written before it goes on.
    said(piece): what follows "Wrote PATH"; empty: (where, so) for silent_sentence, where
    given the path."""
    try:
        show_sampling(job)
    except KeyboardInterrupt:
        _write_whole(command, job, job.finished(), paths, args, written, said, empty)
        raise
    _write_whole(command, job, range(args.variations), paths, args, written, said, empty)


def _write_whole(command, job, which, paths, args, written, said, empty) -> None:
    from composer.core.midi import write_midi

    which = list(which)
    for index, piece in zip(which, job.pieces(which)):
        write_midi(piece, paths[index], overwrite=args.force)
        written.append(paths[index])
        print(f"Wrote {paths[index]} ({said(piece)})")
        if index in job.silent():
            where, so = empty
            sentence = job.silent_sentence(where.format(path=paths[index]), so)
            print(f"composer {command}: {sentence}.", file=sys.stderr)
