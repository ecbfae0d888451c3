"""One autosaved piece: what the app hands the session (SavedPiece), its entry in session.json
and its .npz file, written from a SavedPiece and read back, checked, from hostile files.
session.py decides when and where; this module decides what one piece looks like on disk."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from composer.core.checks import is_finite_number
from composer.core.midi.piece import (
    MAX_TICK,
    MAX_US_PER_BEAT,
    NOTE_VALUE_RANGES,
    TEMPO_DTYPE,
    TIME_SIGNATURE_DTYPE,
    ticks_per_beat_problem,
    time_signature_problem,
)
from composer.core.session.files import (
    ARRAYS,
    Damaged,
    entry_field,
    load_npz,
    read_regular,
)

#: The largest piece file read (about 28 million notes of NOTE_DTYPE).
MAX_PIECE_FILE_BYTES = 512 * 1024 * 1024
PIECE_FILE = re.compile(r"[0-9a-f]{64}\.npz")  # <SHA-256 of the arrays>.npz
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(eq=False)  # arrays make == ambiguous; compare fields instead
class SavedPiece:
    """One open piece as autosaved: its arrays plus what the tab needs to look as it did."""

    title: str  # the tab's title
    notes: np.ndarray  # a structured array; any dtype without object fields
    ticks_per_beat: int
    tempos: np.ndarray  # TEMPO_DTYPE
    time_signatures: np.ndarray  # TIME_SIGNATURE_DTYPE
    source: str | None = None  # the MIDI file it was opened from, if any
    export_path: str | None = None  # where it was last exported, if anywhere
    modified: bool = False  # changes not exported yet
    metadata: dict = field(default_factory=dict)  # JSON-safe (tuples come back as lists)
    view: dict = field(default_factory=dict)  # str -> int or float: zoom and scroll
    # The tracks (JSON-safe dicts the app reads and checks: name, instrument, mute...); empty
    # from a session saved before there were tracks.
    tracks: list = field(default_factory=list)


# --- writing ------------------------------------------------------------------------------------
def prepare(piece: SavedPiece) -> tuple[dict, dict[str, np.ndarray]]:
    """Check a piece and return its session.json entry (without sha256 and size) and its arrays."""
    if not isinstance(piece, SavedPiece):
        raise TypeError(f"pieces must be SavedPiece objects, not {type(piece).__name__}")
    if not isinstance(piece.title, str):
        raise TypeError(f"a piece's title must be a string, not {piece.title!r}")
    arrays = {
        "notes": piece.notes,
        "tempos": piece.tempos,
        "time_signatures": piece.time_signatures,
    }
    for key, array in arrays.items():
        if not isinstance(array, np.ndarray) or array.ndim != 1:
            raise TypeError(f"{key} of {piece.title!r} must be a one-dimensional NumPy array")
    if piece.notes.dtype.names is None or piece.notes.dtype.hasobject:
        raise TypeError(f"notes of {piece.title!r} must be a structured array without objects")
    if piece.tempos.dtype != TEMPO_DTYPE:
        raise TypeError(f"tempos of {piece.title!r} must have TEMPO_DTYPE")
    if piece.time_signatures.dtype != TIME_SIGNATURE_DTYPE:
        raise TypeError(f"time_signatures of {piece.title!r} must have TIME_SIGNATURE_DTYPE")
    if isinstance(piece.ticks_per_beat, bool) or int(piece.ticks_per_beat) != piece.ticks_per_beat:
        raise TypeError(f"ticks_per_beat of {piece.title!r} must be an integer")
    if problem := ticks_per_beat_problem(piece.ticks_per_beat):
        raise ValueError(f"ticks_per_beat of {piece.title!r} cannot be saved: {problem}")
    if not isinstance(piece.metadata, dict) or not isinstance(piece.view, dict):
        raise TypeError(f"metadata and view of {piece.title!r} must be dicts")
    if not all(isinstance(k, str) and is_finite_number(v) for k, v in piece.view.items()):
        raise TypeError(f"the view of {piece.title!r} must map names to numbers")
    if not isinstance(piece.tracks, list):
        raise TypeError(f"the tracks of {piece.title!r} must be a list")
    entry = {
        "title": piece.title,
        "file": content_key(arrays) + ".npz",
        "lengths": {key: len(array) for key, array in arrays.items()},
        "ticks_per_beat": int(piece.ticks_per_beat),
        "source": _optional_path(piece.source, "source", piece.title),
        "export_path": _optional_path(piece.export_path, "export_path", piece.title),
        "modified": bool(piece.modified),
        "metadata": piece.metadata,
        "view": piece.view,
        "tracks": piece.tracks,
    }
    try:
        json.dumps(entry)  # fail here, before any file is written
    except (TypeError, ValueError, RecursionError) as exc:
        raise TypeError(f"the metadata of {piece.title!r} must be JSON-safe ({exc})") from None
    return entry, arrays


def _optional_path(value: object, name: str, title: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{name} of {title!r} must be a string or None, not {value!r}")


def content_key(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of the arrays' names, dtypes, shapes and bytes: the piece file's name.

    (Not of the .npz bytes: savez stamps the time into the archive, so those change each save.)"""
    digest = hashlib.sha256(b"composer-piece-arrays-1\0")
    for key, array in arrays.items():
        header = repr((key, np.lib.format.dtype_to_descr(array.dtype), array.shape)).encode()
        digest.update(len(header).to_bytes(8, "little") + header)
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


# --- reading ------------------------------------------------------------------------------------
class FileFinder:
    """Finds a slot's piece file by its checksum when the one an entry names is missing or holds
    something else (two files swapped by hand, a save killed while it moved one). Looks at the
    files whose names `pattern` matches and whose size is the one saved; each is hashed once."""

    def __init__(self, folder: Path, pattern: re.Pattern):
        self.folder, self.pattern = folder, pattern
        self._sha: dict[str, str] = {}  # name -> SHA-256 of the files read so far

    def find(self, sha: str, size: int) -> tuple[Path, bytes] | None:
        try:
            names = sorted(n for n in os.listdir(self.folder) if self.pattern.fullmatch(n))
        except OSError:
            return None
        for name in names:
            if self._sha.get(name, sha) != sha:
                continue
            path = self.folder / name
            try:
                data = read_regular(path, self.folder, MAX_PIECE_FILE_BYTES, expected_size=size)
            except (FileNotFoundError, Damaged):
                continue  # another size, or not a file to read
            self._sha[name] = hashlib.sha256(data).hexdigest()
            if self._sha[name] == sha:
                return path, data
        return None


def read_piece(
    entry: object,
    folder: Path,
    *,
    notes_dtype: np.dtype | None = None,
    notes_optional: tuple[str, ...] = (),
    finder: FileFinder | None = None,
) -> tuple[SavedPiece, Path, str, tuple[str, int]]:
    """The piece a session.json `entry` describes, read from its file in `folder` and checked;
    also the file it was read from (the one the entry names or, when that one is missing or
    holds something else, one `finder` finds with the entry's checksum), the content key of its
    arrays and the file's (SHA-256, size). With `notes_dtype`, the notes must have its fields
    (but those in `notes_optional`, which come back as -1 where missing) and come back as it. Damaged (naming the file where it is the file's fault) when anything
    does not match or lies outside what MIDI can hold."""
    if not isinstance(entry, dict):
        raise Damaged("it is not a JSON object")
    name = entry_field(entry, "file", str)
    if not PIECE_FILE.fullmatch(name):
        raise Damaged("its file name is not a piece file's")
    sha = entry_field(entry, "sha256", str)
    if not _SHA256.fullmatch(sha):
        raise Damaged("its sha256 is not a SHA-256")
    size = entry_field(entry, "size", int)
    lengths = entry_field(entry, "lengths", dict)
    for key in ARRAYS:
        if type(lengths.get(key)) is not int:
            raise Damaged(f"its lengths lack a whole number of {key}")
    ticks_per_beat = entry_field(entry, "ticks_per_beat", int)
    if problem := ticks_per_beat_problem(ticks_per_beat):
        raise Damaged(f"its resolution of {ticks_per_beat:,} ticks per beat cannot be: {problem}")
    piece_fields = {
        "title": entry_field(entry, "title", str),
        "ticks_per_beat": ticks_per_beat,
        "source": entry_field(entry, "source", str, optional=True),
        "export_path": entry_field(entry, "export_path", str, optional=True),
        "modified": entry_field(entry, "modified", bool),
        "metadata": entry_field(entry, "metadata", dict),
        # Zoom and scroll are not the musician's work: a value that is not a finite number is
        # left out (the view starts as for a new piece) rather than costing the piece.
        "view": {k: v for k, v in entry_field(entry, "view", dict).items() if is_finite_number(v)},
        "tracks": entry.get("tracks") if isinstance(entry.get("tracks"), list) else [],
    }
    path = folder / name
    try:
        data = _read_checked(path, folder, sha, size)
    except Damaged:
        found = finder.find(sha, size) if finder is not None else None
        if found is None:
            raise
        path, data = found
    try:
        arrays = load_npz(data)
    except Damaged as exc:
        raise Damaged(exc.reason, path) from None
    except Exception as exc:  # noqa: BLE001 - a crafted archive fails in many ways; none stops the rest
        raise Damaged(f"it is not a readable piece file: {exc}", path) from None
    for key, array in arrays.items():
        if len(array) != lengths[key]:
            raise Damaged(f"its {key} do not match the lengths saved", path)
    key = content_key(arrays)
    try:
        arrays["notes"] = _checked_notes(arrays["notes"], notes_dtype, notes_optional)
        _check_tempo_map(arrays["tempos"], arrays["time_signatures"])
    except Damaged as exc:
        raise Damaged(exc.reason, path) from None
    return SavedPiece(**piece_fields, **arrays), path, key, (sha, size)


def _read_checked(path: Path, folder: Path, sha: str, size: int) -> bytes:
    try:
        data = read_regular(path, folder, MAX_PIECE_FILE_BYTES, expected_size=size)
    except FileNotFoundError:
        raise Damaged("it is missing", path) from None
    except Damaged as exc:
        raise Damaged(exc.reason, path) from None
    if hashlib.sha256(data).hexdigest() != sha:
        raise Damaged("its checksum does not match the one saved", path)
    return data


def _checked_notes(notes: np.ndarray, dtype: np.dtype | None, optional=()) -> np.ndarray:
    """`notes` checked against MIDI's ranges (and made `dtype`, whose fields it must have but
    those `optional`, filled with -1)."""
    names = notes.dtype.names
    if dtype is not None:
        missing = [name for name in dtype.names if name not in names and name not in optional]
        if missing:
            raise Damaged(f"its notes lack the fields {', '.join(missing)}")
        if any(notes.dtype[name].kind not in "biu" for name in dtype.names if name in names):
            raise Damaged("its notes hold fields that are not whole numbers")
    if len(notes) and "start" in names and notes["start"].min() < 0:
        raise Damaged("its notes start before the beginning")
    if len(notes) and "end" in names and "start" in names and np.any(notes["end"] < notes["start"]):
        raise Damaged("its notes end before they start")
    for name in ("start", "end"):
        if len(notes) and name in names and notes[name].max() > MAX_TICK:
            raise Damaged(f"its notes {name} later than Composer can place (tick {MAX_TICK:,})")
    for name, (low, high) in NOTE_VALUE_RANGES.items():
        if len(notes) and name in names:
            column = notes[name]
            if column.min() < low or column.max() > high:
                raise Damaged(f"its notes hold a {name} outside MIDI's {low} to {high}")
    if dtype is None or notes.dtype == dtype:
        return notes
    out = np.zeros(len(notes), dtype)
    for name in dtype.names:
        out[name] = notes[name] if name in names else -1
    return out


def _check_tempo_map(tempos: np.ndarray, signatures: np.ndarray) -> None:
    """Tempos and time signatures within what MIDI holds, so that the piece can be exported."""
    if tempos["tick"].min(initial=0) < 0 or signatures["tick"].min(initial=0) < 0:
        raise Damaged("its tempo map starts before the beginning")
    if max(tempos["tick"].max(initial=0), signatures["tick"].max(initial=0)) > MAX_TICK:
        raise Damaged(f"its tempo map changes later than Composer can place (tick {MAX_TICK:,})")
    us = tempos["us_per_beat"]
    if us.min(initial=1) < 1 or us.max(initial=1) > MAX_US_PER_BEAT:
        raise Damaged("its tempo map holds a tempo MIDI cannot")
    if problem := time_signature_problem(signatures):
        raise Damaged(f"it has {problem}")
