"""Notes on the system clipboard, so that copy and paste work between tabs (and windows).

The notes travel as JSON under a MIME type of our own, with times relative to the first copied
note and the resolution they were copied at; pasting scales them to the target piece. What comes
back from the clipboard is checked like any input: another program can put anything there.
"""

from __future__ import annotations

import json

import numpy as np
from PySide6.QtCore import QMimeData

from composer.app.piece.notes import ROLL_DTYPE

MIME_TYPE = "application/x-composer-notes"
MAX_BYTES = 64 * 1024 * 1024  # more than any piece; refuse anything larger unread
MAX_NOTES = 1_000_000


def to_mime(rows: np.ndarray, ticks_per_beat: int) -> QMimeData:
    """`rows` (ROLL_DTYPE) as clipboard data, times relative to the earliest start."""
    origin = int(rows["start"].min()) if len(rows) else 0
    notes = [
        [int(r["start"]) - origin, int(r["end"]) - origin, int(r["pitch"]), int(r["velocity"]),
         int(r["program"]), bool(r["drum"])]
        for r in rows
    ]  # fmt: skip
    data = QMimeData()
    data.setData(MIME_TYPE, json.dumps({"ticks_per_beat": ticks_per_beat, "notes": notes}).encode())
    data.setText(f"{len(notes)} notes copied from Composer")
    return data


def from_mime(data: QMimeData | None, ticks_per_beat: int, at_tick: int) -> np.ndarray | None:
    """The notes on the clipboard (ROLL_DTYPE) moved to start at `at_tick` and scaled to
    `ticks_per_beat`, or None when the clipboard holds no (valid) notes."""
    if data is None or not data.hasFormat(MIME_TYPE):
        return None
    raw = bytes(data.data(MIME_TYPE))
    if len(raw) > MAX_BYTES:
        return None
    try:
        payload = json.loads(raw)
        source_tpb = int(payload["ticks_per_beat"])
        notes = np.array(payload["notes"], dtype=np.float64).reshape(-1, 6)
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
    if source_tpb <= 0 or len(notes) > MAX_NOTES or not np.isfinite(notes).all():
        return None
    scale = ticks_per_beat / source_tpb
    rows = np.zeros(len(notes), ROLL_DTYPE)  # the track: the one pasted into (operations.py)
    rows["start"] = np.round(np.clip(notes[:, 0], 0, 2**40) * scale) + at_tick
    rows["end"] = np.maximum(
        np.round(np.clip(notes[:, 1], 0, 2**40) * scale) + at_tick, rows["start"]
    )
    rows["pitch"] = np.clip(notes[:, 2], 0, 127)
    rows["velocity"] = np.clip(notes[:, 3], 1, 127)
    rows["program"] = np.clip(notes[:, 4], 0, 127)
    rows["drum"] = notes[:, 5] != 0
    return rows
