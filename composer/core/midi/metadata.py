"""How a piece was made (model, seed, sampling and steering settings), kept inside the MIDI file
Composer saves, so that reopening the file brings it back.

It travels as one text meta event (FF 01) in the conductor track, "composer-metadata:" and then
JSON: every DAW and MIDI library keeps or ignores text events, none plays them. Reading it back
scans the file's bytes for that event without parsing the rest (the notes are read by
reader.py), and treats what it finds as hostile: a text that is not the JSON object Composer
writes, or a larger one than it writes, is left out, never an error.
"""

from __future__ import annotations

import json

PREFIX = b"composer-metadata:"
#: The largest metadata written or read (far above what a generation's settings take).
MAX_BYTES = 64 * 1024
_TEXT_EVENT = b"\xff\x01"


def metadata_text(metadata: dict) -> str | None:
    """The text event's text for `metadata` (a JSON-safe dict), or None when it is empty, is not
    JSON-safe or is larger than MAX_BYTES (it is then not written: the notes matter, not it)."""
    if not metadata:
        return None
    try:
        text = PREFIX.decode() + json.dumps(metadata, ensure_ascii=True, sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        return None
    return text if len(text) <= MAX_BYTES else None


def read_metadata(data: bytes) -> dict:
    """The metadata a file's bytes hold (the first well-formed one), or {} when none."""
    start = 0
    while (found := data.find(_TEXT_EVENT, start)) >= 0:
        start = found + 2
        length, at = _varlen(data, found + 2)
        if length is None or not 0 < length <= MAX_BYTES:
            continue
        text = data[at : at + length]
        if not text.startswith(PREFIX):
            continue
        try:
            value = json.loads(text[len(PREFIX) :].decode("ascii"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            continue
        if isinstance(value, dict):
            return value
    return {}


def _varlen(data: bytes, at: int) -> tuple[int | None, int]:
    """A MIDI variable-length number at `at`: (its value, where it ends), (None, at) if cut."""
    value = 0
    for i in range(4):
        if at + i >= len(data):
            return None, at
        byte = data[at + i]
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, at + i + 1
    return None, at
