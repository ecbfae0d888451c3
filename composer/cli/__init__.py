"""The `composer` command. Thin: parses arguments, calls the core, prints progress and results.

Heavy modules (torch, the MIDI parser) are imported inside the commands that need them, so that
`composer --help` and a cached `composer ingest` start fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from composer import __version__


def default_cache_dir() -> Path:
    """Where token caches live: $COMPOSER_CACHE_DIR, else the platform's user cache folder."""
    if os.environ.get("COMPOSER_CACHE_DIR"):
        return Path(os.environ["COMPOSER_CACHE_DIR"])
    import platformdirs

    return Path(platformdirs.user_cache_dir("composer", appauthor=False)) / "tokens"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="composer",
        description="Train an LSTM on your own MIDI collection and generate new music.",
    )
    parser.add_argument("--version", action="version", version=f"composer {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    ingest = commands.add_parser(
        "ingest",
        help="read a folder of MIDI files into the token cache and summarise it",
        description="Scan DIR recursively for MIDI files, tokenise every usable one into the "
        "cache, and list the files that could not be used with the reason.",
    )
    ingest.add_argument("folder", metavar="DIR", type=Path, help="folder of .mid/.midi files")
    ingest.add_argument("--cache-dir", metavar="D", type=Path, help="token cache folder")
    ingest.add_argument(
        "--jobs",
        metavar="N",
        type=int,
        default=None,
        help="worker processes (default: one per CPU core; 0: no worker processes)",
    )
    ingest.add_argument("--json", action="store_true", help="print one JSON object instead")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return {"ingest": _ingest}[args.command](args)
    except KeyboardInterrupt:
        print("\nStopped. Work finished so far is kept in the cache.", file=sys.stderr)
        return 130


def _ingest(args: argparse.Namespace) -> int:
    from composer.core.corpus.ingest import ingest

    if args.jobs is not None and args.jobs < 0:
        print("--jobs must be 0 or more.", file=sys.stderr)
        return 2
    progress = _ProgressBar("Reading MIDI") if sys.stderr.isatty() else None
    try:
        report = ingest(
            args.folder,
            args.cache_dir or default_cache_dir(),
            jobs=args.jobs,
            on_progress=progress.update if progress else None,
        )
    except (FileNotFoundError, NotADirectoryError) as exc:
        print(f"composer ingest: {exc}.", file=sys.stderr)
        return 2
    finally:
        if progress:
            progress.close()

    if args.json:
        print(json.dumps(report.to_json_dict(), indent=2))
    else:
        _print_ingest_summary(report)
    if report.ok == 0:
        print(
            f"composer ingest: no usable MIDI file in {args.folder} "
            f"({report.files} found); add .mid or .midi files that contain notes.",
            file=sys.stderr,
        )
        return 1
    return 0


def _print_ingest_summary(report) -> None:
    hours = report.seconds_of_music / 3600
    print(
        f"{report.folder}: {report.files:,} MIDI files, {report.ok:,} usable, "
        f"{report.duplicates:,} duplicates counted once, {len(report.failed):,} could not be used"
    )
    if report.ok:
        low, high = report.pitch_range or (0, 0)
        print(
            f"  {report.notes:,} notes, {report.tokens:,} tokens, {hours:.1f} hours of music, "
            f"pitches {_note_name(low)}-{_note_name(high)}"
        )
        instruments = ", ".join(f"{name} ({n})" for name, n in list(report.instruments.items())[:8])
        more = len(report.instruments) - 8
        print(f"  instruments: {instruments}" + (f" and {more} more" if more > 0 else ""))
    print(
        f"  {report.from_cache:,} files from the cache, {report.elapsed_s:.2f} s; "
        f"cache: {report.cache_dir}"
    )
    if report.failed:
        print(f"Could not use {len(report.failed)} file(s):")
        for failure in report.failed:
            print(f"  {failure.path}: {failure.reason}")


def _note_name(pitch: int) -> str:
    names = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
    return f"{names[pitch % 12]}{pitch // 12 - 1}"


class _ProgressBar:
    """A one-line progress bar on stderr, redrawn at most every 1% of progress."""

    def __init__(self, label: str, width: int = 30):
        self.label, self.width, self.last = label, width, -1

    def update(self, progress) -> None:
        fraction = progress.done / progress.total if progress.total else 1.0
        percent = int(fraction * 100)
        if percent == self.last:
            return
        self.last = percent
        filled = int(fraction * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        sys.stderr.write(f"\r{self.label} [{bar}] {progress.done}/{progress.total}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.last >= 0:
            sys.stderr.write("\n")
