"""The `composer` command. Thin: parses arguments, calls the core, prints progress and results.

`composer` alone opens the desktop app, and `composer FILE.mid` opens it showing that file (what
a file manager runs for "Open with Composer"): main() hands those to the `open_app` it is given,
which composer.launch (the installed command) passes, so this package never imports the app.
Heavy modules (Qt, torch, the MIDI parser) are imported inside the commands that need them, so
that `composer --help` and a cached `composer ingest` start fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from composer import __version__


def build_parser() -> argparse.ArgumentParser:
    from composer.cli import (
        about,
        accompany,
        desktop,
        evaluate,
        fill,
        generate,
        ingest,
        render,
        train,
    )

    parser = argparse.ArgumentParser(
        prog="composer",
        description="Train an LSTM on your own MIDI collection and generate new music.",
        epilog="Without a COMMAND, composer opens the desktop app; `composer FILE.mid` opens it "
        "showing that file in the piano roll.",
    )
    parser.add_argument("--version", action="version", version=f"composer {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    ingest.add_parser(commands)
    train.add_parser(commands)
    generate.add_parser(commands)
    fill.add_parser(commands)
    accompany.add_parser(commands)
    render.add_parser(commands)
    evaluate.add_parser(commands)
    desktop.add_parser(commands)
    about.add_parser(commands)
    parser.command_names = frozenset(commands.choices)  # read by main() to tell files from commands
    return parser


def files_to_open(argv: list[str], commands: frozenset[str]) -> list[Path] | None:
    """The paths in `composer PATH...` when the first argument is not a command or an option and
    names a MIDI file or an existing path; None when argparse should read the arguments."""
    if not argv or argv[0].startswith("-") or argv[0] in commands:
        return None
    paths = [Path(arg) for arg in argv]
    # The suffixes of composer.core.corpus.scan.MIDI_SUFFIXES, written out: importing that
    # package loads numpy and symusic (0.3 s), which `composer --version` should not pay.
    if any(p.suffix.lower() in (".mid", ".midi", ".kar", ".rmi") or p.exists() for p in paths):
        return paths
    return None


def main(
    argv: list[str] | None = None, open_app: Callable[[list[Path] | None], int] | None = None
) -> int:
    """Run the COMMAND in argv. With no command, or files to show, call open_app(files) (files is
    None for none); without an open_app, print the usage and return 2."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    files = files_to_open(argv, parser.command_names)
    if files is None:
        args = parser.parse_args(argv)
        if args.command is not None:
            try:
                return args.run(args)
            except KeyboardInterrupt:
                # Commands that keep partial work (ingest, train, generate) say so themselves.
                print("\nStopped.", file=sys.stderr)
                return 130
    if open_app is None:
        parser.print_usage(sys.stderr)
        print("composer: give a COMMAND (the desktop app opens from `composer`)", file=sys.stderr)
        return 2
    return open_app(files)
