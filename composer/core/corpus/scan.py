"""Finding MIDI files in a folder, and saying which folders could not be read."""

from __future__ import annotations

import os
from pathlib import Path

from composer.core.errors import SettingsError

MIDI_SUFFIXES = (".mid", ".midi", ".rmi", ".kar")


def is_midi_name(name: str) -> bool:
    """True for names ending in .mid, .midi, .rmi or .kar, in any letter case."""
    return name.lower().endswith(MIDI_SUFFIXES)


def find_midi_files(folder: str | Path) -> list[Path]:
    """Every MIDI file under `folder`, recursively, in a stable (sorted) order; the folders that
    could not be read are left out (scan_midi_files names them)."""
    return scan_midi_files(folder)[0]


def scan_midi_files(folder: str | Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(every MIDI file under `folder` in a stable order, the subfolders that could not be read
    with why in the system's words). SettingsError when `folder` itself cannot be read: it would
    otherwise look like a folder without MIDI files.

    Hidden folders (starting with '.') are skipped: they hold caches and version-control data,
    not music. Symbolic links to folders are not followed, so a link loop cannot hang the scan.
    """
    folder = Path(folder)
    found, errors = [], []
    for root, dirs, files in os.walk(folder, onerror=errors.append):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root) / name for name in files if is_midi_name(name))
    unreadable = sorted((Path(e.filename or folder), _why(e)) for e in errors)
    if unreadable and unreadable[0][0] == folder:
        raise SettingsError(
            f"could not read the folder {folder} ({unreadable[0][1]}); choose a folder you may "
            "open, or allow reading it"
        )
    return sorted(found), unreadable


def unreadable_sentence(path: Path, why: str) -> str:
    """A subfolder scan_midi_files could not read, in words (ingest's report says it)."""
    return f"could not read the folder {path} ({why}), so the MIDI files in it are left out"


def _why(error: OSError) -> str:
    return error.strerror or type(error).__name__
