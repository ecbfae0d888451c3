"""Reading Standard MIDI Files into a Piece.

symusic (a C++ parser) does the parsing: measured here it reads files hundreds of times faster than
mido or pretty_midi, and it rejects malformed files with an exception. Two of its habits are
corrected on purpose, each covered by tests/core/test_midi_reader.py:

- A note that is never turned off is dropped by symusic (and by pretty_midi). We keep it, ending
  at the end of its track, as a DAW would play it: before parsing, every track gets note-offs for all
  pitches of the channels it plays appended just before its end-of-track event. Those only pair with notes still
  sounding, so they change nothing else (FIFO pairing of same-pitch notes is untouched).
- A file with no tempo event gets the standard's 120 BPM at tick 0 (see Piece).

Other quirks pass through as they are: zero-length notes stay zero-length (the tokenizer gives them
one grid step), overlapping same-pitch notes stay overlapping (paired first-on, first-off), type 0
files are split into one track per channel, and channel 10 is marked as drums.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np
import symusic

from composer.core.files.safe_files import MAX_MIDI_BYTES, UnsafeFileError, read_regular
from composer.core.midi.piece import (
    TEMPO_DTYPE,
    TIME_SIGNATURE_DTYPE,
    Piece,
    Track,
    make_notes,
)

_END_OF_TRACK = b"\xff\x2f\x00"
# Per channel: a note-off for every pitch, each followed by a zero delta time (so that the next
# event, another note-off or the end-of-track meta event, happens at the same tick).
_NOTES_OFF = [b"".join(bytes([0x80 | ch, pitch, 0, 0]) for pitch in range(128)) for ch in range(16)]
_NOTE_ON_STATUS = [bytes([0x90 | ch]) for ch in range(16)]


def _all_notes_off(track: bytes) -> bytes:
    """Note-offs for every pitch of each channel that may have a note-on in `track`.

    A channel's first note-on carries its status byte (running status only repeats it), so a
    channel whose status byte never occurs has no notes. Other bytes with that value (long delta
    times, meta data) only add a few unneeded note-offs, which pair with nothing.
    """
    return b"".join(off for off, on in zip(_NOTES_OFF, _NOTE_ON_STATUS) if on in track)


class MidiReadError(ValueError):
    """A file that cannot be read as MIDI. `reason` is one sentence a musician can act on;
    `detail` is the parser's own words (for the log and `composer ingest --json`), or ""."""

    def __init__(self, path: str | Path, reason: str, detail: str = ""):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason
        self.detail = detail


_FIX = "export it again or remove it"
# What the parsers' error texts mean, in words: (regular expression, what is wrong, the fix).
# symusic's (MiniMidi's) texts come first; mido's are here for files read or checked with mido.
_PARSER_ERRORS = [
    (r"velocity=(\d+)", "has a note with velocity {0}, above MIDI's 127", _FIX),
    (r"pitch_bend=(-?\d+)", "has a pitch bend of {0}, outside MIDI's range", _FIX),
    (r"pitch=(\d+)", "has a note with pitch {0}, above MIDI's 127", _FIX),
    (
        r"midi format \((\d+)\)",
        "is not a valid MIDI file: its header is damaged (it names format {0}, but only 0, 1 "
        "and 2 exist)",
        _FIX,
    ),
    (
        r"header is not MThd|first chunk length is not 6|MThd not found",
        "is not a valid MIDI file: its header is damaged",
        _FIX,
    ),
    (r"File size is less than", "is damaged or truncated: it ends inside its header", _FIX),
    (
        r"Division type",
        "counts time in SMPTE frames instead of beats, which Composer cannot read",
        "export it again with beat-based (PPQ) timing",
    ),
    (
        r"chunk length|Unexpected EOF|Unexcepted EOF",
        "is damaged or truncated: it ends in the middle of a track",
        "copy or download it again, or remove it",
    ),
    (
        r"status byte|running status",
        "is damaged: one of its tracks holds bytes that are not MIDI events",
        _FIX,
    ),
    (
        r"Meta value is out of bound",
        "is damaged: a tempo, key or time-signature event holds an impossible value",
        _FIX,
    ),
    (r"data byte must be in range", "has a MIDI event with a value above 127", _FIX),
]


def explain_parser_error(message: str) -> str:
    """One sentence (without the file's name) saying what a parser's error text means for the
    file and what to do; a generic sentence for texts we do not know."""
    for pattern, what, fix in _PARSER_ERRORS:
        found = re.search(pattern, message, re.IGNORECASE)
        if found:
            return f"{what.format(*found.groups())}; {fix}"
    return f"is damaged and cannot be read as MIDI; {_FIX}"


def read_midi(path: str | Path) -> Piece:
    """Read a .mid/.midi file (a regular file of at most MAX_MIDI_BYTES). Raises MidiReadError
    (with the path and a reason) if it is unusable."""
    path = Path(path)
    try:
        data = read_regular(path, MAX_MIDI_BYTES, "MIDI file")
    except UnsafeFileError as exc:  # a FIFO, a device, 2 GB of zeros: never read it
        raise MidiReadError(path, exc.reason) from exc
    except OSError as exc:
        raise MidiReadError(
            path, f"could not be read ({exc.strerror or type(exc).__name__})"
        ) from exc
    return read_midi_bytes(data, path)


def read_midi_bytes(data: bytes, name: str | Path = "<bytes>") -> Piece:
    """Parse the bytes of a MIDI file; `name` is used only in error messages."""
    data = _unwrap_rmid(data)
    if not data:
        raise MidiReadError(name, "the file is empty; remove it or export it again")
    if not data.startswith(b"MThd"):
        raise MidiReadError(
            name, "is not a MIDI file (it has no MIDI header); remove it or export it again as MIDI"
        )
    try:
        score = symusic.Score.from_midi(_close_hanging_notes(data))
    except Exception as exc:  # the parser's errors are plain RuntimeErrors with a C++ message
        detail = _clean_parser_message(exc)
        raise MidiReadError(name, explain_parser_error(detail), detail) from exc
    if score.ticks_per_quarter <= 0:  # a zeroed or SMPTE-mangled time division
        raise MidiReadError(
            name, "has no usable time division (0 ticks per beat); export it again or remove it"
        )
    try:
        return _piece_from_score(score)
    except ValueError as exc:  # the note model's own checks: times or values no file should have
        raise MidiReadError(
            name, f"has impossible values ({exc}); export it again or remove it", str(exc)
        ) from exc


def _piece_from_score(score: symusic.Score) -> Piece:
    tracks = []
    for track in score.tracks:
        if track.note_num() == 0:
            continue
        cols = track.notes.numpy()
        start = cols["time"].astype(np.int64)
        notes = make_notes(
            start,
            start + cols["duration"].astype(np.int64),
            cols["pitch"].astype(np.uint8),
            cols["velocity"].astype(np.uint8),
        )
        tracks.append(Track(int(track.program), bool(track.is_drum), str(track.name), notes))

    tempos = _last_per_tick(score.tempos.numpy(), TEMPO_DTYPE, ("time", "mspq"))
    signatures = _last_per_tick(
        score.time_signatures.numpy(), TIME_SIGNATURE_DTYPE, ("time", "numerator", "denominator")
    )
    if len(signatures) == 0 or signatures["tick"][0] != 0:
        signatures = np.concatenate([np.array([(0, 4, 4)], TIME_SIGNATURE_DTYPE), signatures])
    return Piece(score.ticks_per_quarter, tracks, tempos, signatures)


def _last_per_tick(cols: dict, dtype: np.dtype, keys: tuple[str, ...]) -> np.ndarray:
    """Events sorted by tick; of several at one tick, the last in the file wins (as when playing)."""
    out = np.empty(len(cols[keys[0]]), dtype=dtype)
    for name, key in zip(dtype.names, keys):
        out[name] = cols[key]
    out = out[np.argsort(out["tick"], kind="stable")]
    if len(out) > 1:
        keep = np.append(out["tick"][1:] != out["tick"][:-1], True)
        out = out[keep]
    if "us_per_beat" in dtype.names:
        out = out[out["us_per_beat"] > 0]  # a zero tempo would stop time; ignore it
    return out


def _close_hanging_notes(data: bytes) -> bytes:
    """Append note-offs for every channel and pitch at the end of each track chunk (see module doc)."""
    out = bytearray(data[:8])
    header_len = struct.unpack(">I", data[4:8])[0] if len(data) >= 8 else 0
    out += data[8 : 8 + header_len]
    pos = 8 + header_len
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        length = struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + length]
        if len(body) < length:
            break  # a truncated chunk stays as it was, so the parser reports it
        if chunk_id == b"MTrk":
            if body.endswith(_END_OF_TRACK):
                # The end-of-track's own delta time now precedes the first appended note-off.
                body = body[: -len(_END_OF_TRACK)] + _all_notes_off(body) + _END_OF_TRACK
            else:  # a track without an end-of-track marker: the next byte would be a delta time
                body = body + b"\x00" + _all_notes_off(body) + _END_OF_TRACK
        out += chunk_id + struct.pack(">I", len(body)) + body
        pos += 8 + length
    out += data[pos:]
    return bytes(out)


def _unwrap_rmid(data: bytes) -> bytes:
    """RIFF MIDI (.rmi) wraps a standard MIDI file in a RIFF 'data' chunk; return the inner file."""
    if data[:4] == b"RIFF" and data[8:12] == b"RMID":
        start = data.find(b"MThd", 12)
        if start >= 0:
            return data[start:]
    return data


def _clean_parser_message(exc: Exception) -> str:
    """The parser's text without its prefix and suffix (kept for the log, not shown as a reason)."""
    message = str(exc).replace("MiniMidi: ", "").replace(": iostream error", "").strip()
    return message or type(exc).__name__
