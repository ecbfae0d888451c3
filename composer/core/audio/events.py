"""A Piece as timed note events in seconds, on the channels the MIDI writer would use."""

from __future__ import annotations

import numpy as np

from composer.core.midi.piece import Piece, track_channel

#: One note event: time in seconds, 0 for off / 1 for on (offs first at one time), channel, pitch,
#: velocity.
EVENT_DTYPE = np.dtype(
    [("time", "<f8"), ("on", "u1"), ("channel", "u1"), ("pitch", "u1"), ("velocity", "u1")]
)


def channel_programs(piece: Piece) -> dict[int, tuple[int, bool]]:
    """channel -> (program, is drum), as composer.core.midi.write_midi assigns them."""
    out = {}
    for index, track in enumerate(piece.tracks):
        channel = track_channel(index, track.is_drum)
        out.setdefault(channel, (track.program, track.is_drum))
    return out


def note_events(piece: Piece) -> np.ndarray:
    """Every note-on and note-off of the piece in playing order (EVENT_DTYPE)."""
    parts = []
    for index, track in enumerate(piece.tracks):
        notes = track.notes
        if not len(notes):
            continue
        channel = track_channel(index, track.is_drum)
        for on, column in ((1, "start"), (0, "end")):
            events = np.empty(len(notes), EVENT_DTYPE)
            events["time"] = piece.seconds(notes[column])
            events["on"] = on
            events["channel"] = channel
            events["pitch"] = notes["pitch"]
            events["velocity"] = notes["velocity"]
            parts.append(events)
    if not parts:
        return np.empty(0, EVENT_DTYPE)
    events = np.concatenate(parts)
    return events[np.lexsort((events["on"], events["time"]))]
