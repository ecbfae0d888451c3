"""`composer ingest`: read a folder into the token cache and summarise it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from composer.cli.progress import ProgressBar
from composer.core.files.folders import default_cache_dir


def add_parser(commands) -> None:
    ingest = commands.add_parser(
        "ingest",
        help="read a folder of MIDI files into the token cache and summarise it",
        description="Scan DIR recursively for MIDI files, tokenise every usable one into the "
        "cache, and list the files that could not be used with the reason.",
    )
    ingest.add_argument("folder", metavar="DIR", type=Path, help="folder of .mid/.midi files")
    add_cache_options(ingest)
    ingest.add_argument("--json", action="store_true", help="print one JSON object instead")
    ingest.set_defaults(run=run)


def add_cache_options(parser) -> None:
    parser.add_argument("--cache-dir", metavar="D", type=Path, help="token cache folder")
    parser.add_argument(
        "--jobs",
        metavar="N",
        type=int,
        default=None,
        help="worker processes for reading MIDI (default: one per CPU core; 0: none)",
    )


def run(args: argparse.Namespace) -> int:
    from composer.cli.signals import StopOnSignal
    from composer.core.corpus.cache import CacheWriteError
    from composer.core.corpus.ingest import ingest
    from composer.core.errors import SettingsError

    progress = ProgressBar("Reading MIDI") if sys.stderr.isatty() else None
    try:
        with StopOnSignal() as stop:
            report = ingest(
                args.folder,
                args.cache_dir or default_cache_dir(),
                jobs=args.jobs,
                on_progress=progress.update if progress else None,
                should_stop=stop,
            )
    except (FileNotFoundError, NotADirectoryError, CacheWriteError, SettingsError) as exc:
        print(f"composer ingest: {str(exc).rstrip('.')}.", file=sys.stderr)
        return 2
    finally:
        if progress:
            progress.close()

    if report.cancelled:
        print(
            f"composer ingest: stopped; the files read so far are kept in the cache and are not "
            f"read again next time ({report.cache_dir}).",
            file=sys.stderr,
        )
        return 130
    if args.json:
        print(json.dumps(report.to_json_dict(), indent=2))
    else:
        print_summary(report)
    if report.ok == 0:
        print(
            f"composer ingest: no usable MIDI file in {args.folder} "
            f"({report.files} found); add .mid or .midi files that contain notes.",
            file=sys.stderr,
        )
        return 1
    return 0


def print_summary(report) -> None:
    from composer.core.midi.piece import note_name

    hours = report.seconds_of_music / 3600
    print(
        f"{report.folder}: {report.files:,} MIDI files, {report.ok:,} usable, "
        f"{report.duplicates:,} duplicates counted once, {len(report.failed):,} could not be used"
    )
    if report.ok:
        low, high = report.pitch_range or (0, 0)
        print(
            f"  {report.notes:,} notes, {report.tokens:,} tokens, {hours:.1f} hours of music, "
            f"pitches {note_name(low)}-{note_name(high)}"
        )
        instruments = ", ".join(f"{name} ({n})" for name, n in list(report.instruments.items())[:8])
        more = len(report.instruments) - 8
        print(f"  instruments: {instruments}" + (f" and {more} more" if more > 0 else ""))
    print(
        f"  {report.from_cache:,} files from the cache, {report.elapsed_s:.2f} s; "
        f"cache: {report.cache_dir}"
    )
    for notice in report.notices:
        print(f"  {notice}.")
    if report.failed:
        print(f"Could not use {len(report.failed)} file(s):")
        for failure in report.failed:
            print(f"  {failure.path}: {failure.reason}")
