"""Finding MIDI files in a folder."""

from __future__ import annotations

import os
from pathlib import Path

MIDI_SUFFIXES = (".mid", ".midi", ".rmi", ".kar")


def is_midi_name(name: str) -> bool:
    """True for names ending in .mid, .midi, .rmi or .kar, in any letter case."""
    return name.lower().endswith(MIDI_SUFFIXES)


def find_midi_files(folder: str | Path) -> list[Path]:
    """Every MIDI file under `folder`, recursively, in a stable (sorted) order.

    Hidden folders (starting with '.') are skipped: they hold caches and version-control data,
    not music. Symbolic links to folders are not followed, so a link loop cannot hang the scan.
    """
    folder = Path(folder)
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root) / name for name in files if is_midi_name(name))
    return sorted(found)
