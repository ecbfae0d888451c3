"""Turning one file into tokens: the unit of work that ingest runs in worker processes.

Kept apart from ingest.py so that a second ingest served from the cache never imports the parser.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

from composer.core.corpus.cache import parts_text
from composer.core.files.safe_files import MAX_MIDI_BYTES, UnsafeFileError, read_regular
from composer.core.midi.reader import MidiReadError, read_midi_bytes
from composer.core.tokens.codec import TooLongError, encode_grid, grid_tracks, note_on_order
from composer.core.tokens.config import TokenizerConfig
from composer.core.tokens.meter import signature_rows
from composer.core.tokens.vocab import Vocabulary


@lru_cache(maxsize=4)
def _vocabulary(config_json: str) -> Vocabulary:
    return Vocabulary(TokenizerConfig.from_json(config_json))


def tokenize_file(path: str, config_json: str) -> tuple[dict, np.ndarray | None]:
    """Read and tokenise one file. Returns (facts, tokens); tokens are uint16, shape (L,).

    facts["sha"] is the SHA-256 of the bytes that were parsed: the caller hashed the file earlier,
    and if it changed in between, these tokens belong to the new content, not the old hash.
    Never raises for a bad file: the facts then say {"ok": False, "reason": ..., "detail": ...}
    (a sentence in words, and the parser's or Python's own text) and tokens is None.
    A reason that may not hold another day (the file system, a bug, no memory) also says
    {"retry": True}, so that it is not remembered.
    """
    try:
        data = read_regular(path, MAX_MIDI_BYTES, "MIDI file")
    except UnsafeFileError as exc:
        return {"ok": False, "reason": exc.reason, "detail": str(exc), "retry": True}, None
    except OSError as exc:  # gone, unreadable: a matter of the file system, not of the content
        reason = f"could not be read ({exc.strerror or type(exc).__name__})"
        return {"ok": False, "reason": reason, "detail": str(exc), "retry": True}, None
    meta, tokens = _tokenize_bytes(data, path, config_json)
    meta["sha"] = hashlib.sha256(data).hexdigest()
    return meta, tokens


def _tokenize_bytes(data: bytes, path: str, config_json: str) -> tuple[dict, np.ndarray | None]:
    try:
        piece = read_midi_bytes(data, path)
        tokens, on_parts = _encode(piece, _vocabulary(config_json))
    except MidiReadError as exc:
        return {"ok": False, "reason": exc.reason, "detail": exc.detail}, None
    except TooLongError as exc:
        reason = f"is too long: it {exc}; split it or export it again"
        return {"ok": False, "reason": reason, "detail": str(exc)}, None
    except Exception as exc:  # noqa: BLE001 - a bug or an exhausted resource costs one file, not the run
        reason = "could not be read because of a problem in Composer; try again, or report it"
        detail = f"{type(exc).__name__}: {exc}"
        return {"ok": False, "reason": reason, "detail": detail, "retry": True}, None
    if tokens is None:
        return {
            "ok": False,
            "reason": "contains no notes; nothing to learn from it",
            "detail": "",
        }, None
    pitch_range = piece.pitch_range
    meta = {
        "ok": True,
        "notes": piece.note_count,
        "tokens": int(len(tokens)),
        "seconds": round(piece.duration_seconds, 3),
        "instruments": sorted({t.label for t in piece.tracks}),
        "pitch_range": list(pitch_range) if pitch_range else None,
        # The time signatures on the token grid (tokens/meter.py): the bars a model that
        # follows the meter counts.
        "meter": signature_rows(piece, _vocabulary(config_json).config.steps_per_beat),
        # Which track each note comes from: the parts training gives and asks for when they
        # play one instrument (training/given_data.py).
        "parts": parts_text(on_parts),
    }
    return meta, tokens


def _encode(piece, vocab) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(token ids, the track of each NoteOn token in token order), or (None, None) for a piece
    without notes."""
    if not piece.note_count:
        return None, None
    notes, tempos, tracks = grid_tracks(piece, vocab)
    return encode_grid(notes, tempos, vocab), tracks[note_on_order(notes)]
