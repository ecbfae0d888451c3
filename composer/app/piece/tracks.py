"""The tracks of a piece on screen: what a DAW shows per track, held beside the notes.

Each note row (notes.ROLL_DTYPE) names its track by index into the NoteModel's track list. A track
keeps its name and instrument as the musician gave them (a MIDI file's track names come back on
export), a colour of its own, and whether it is muted or soloed. The instrument is also kept on
every note of the track (rows "program" and "drum"), because drawing, playing and the model read
the notes; the track edits in editing/track_commands.py change both together.

Mute and solo are how the piece is heard, not what it is, and `rewrite` (whether Regenerate
selection may rewrite the track) is what the musician asks of the model: all three are saved with
the session but are not undo steps and do not make a piece modified, as in most DAWs' mixers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from composer.core.midi.piece import GM_FAMILIES, gm_program_name

#: Colours a track can take: the family colours of the roll (render.FAMILY_COLORS), by index.
COLOURS = len(GM_FAMILIES)


@dataclass(frozen=True)
class TrackInfo:
    """One track: its name, General MIDI program (0-127), whether it is the drum kit, its colour
    (an index below COLOURS), whether it is muted or soloed, and whether Regenerate selection
    rewrites it (else it stays, and the model hears it)."""

    name: str
    program: int
    drum: bool
    colour: int
    muted: bool = False
    solo: bool = False
    rewrite: bool = True

    def mixed_as(self, live: TrackInfo | None) -> TrackInfo:
        """This track with the mute, solo and rewrite that `live` (the same track as it is now)
        has: what a track edit's undo and redo leave as they are."""
        if live is None:
            return self
        return replace(self, muted=live.muted, solo=live.solo, rewrite=live.rewrite)

    @property
    def instrument(self) -> str:
        """The instrument in words: 'Drums' or the General MIDI program name."""
        return "Drums" if self.drum else gm_program_name(self.program)

    def with_instrument(self, program: int, drum: bool) -> TrackInfo:
        return replace(self, program=int(program), drum=bool(drum))


def instrument_colour(program: int, drum: bool) -> int:
    """The colour a new track of an instrument gets first: its family's (drums: percussion's)."""
    return 14 if drum else int(program) // 8  # 14: the percussive family's colour


def new_track(tracks, program: int, drum: bool, name: str | None = None) -> TrackInfo:
    """A track for an instrument, named for it unless `name` is given, in its family's colour
    unless another track has that one (then the first colour no track has, if any)."""
    used = {t.colour for t in tracks}
    colour = instrument_colour(program, drum)
    if colour in used:
        colour = next((c for c in range(COLOURS) if c not in used), colour)
    label = "Drums" if drum else gm_program_name(int(program))
    return TrackInfo(label if name is None else name, int(program), bool(drum), colour)


def audible(tracks) -> np.ndarray:
    """Per track, whether it is heard: not muted, and soloed when any track is."""
    muted = np.array([t.muted for t in tracks], bool)
    solo = np.array([t.solo for t in tracks], bool)
    return ~muted & solo if solo.any() else ~muted


def fitted_tracks(rows: np.ndarray, tracks=()) -> tuple[np.ndarray, list[TrackInfo]]:
    """Each row's track: its own ("track") where that is one of `tracks` playing the row's
    instrument; else, for rows that come without one (-1: a generation's notes, an older
    session) or name one that is not there or plays another instrument, the first of `tracks`
    that plays its instrument, else a new track appended for it. Returns (track index per row:
    int16, the tracks with those appended): a note always plays its track's instrument."""
    tracks = list(tracks)
    index = np.asarray(rows["track"], np.int64).copy()
    if not len(rows):
        return index.astype(np.int16), tracks
    keys = rows["program"].astype(np.int64) * 2 + rows["drum"]
    if tracks:
        track_keys = np.array([t.program * 2 + t.drum for t in tracks], np.int64)
        named = (index >= 0) & (index < len(tracks))
        fits = named & (track_keys[np.clip(index, 0, len(tracks) - 1)] == keys)
    else:
        fits = np.zeros(len(rows), bool)
    for key in np.unique(keys[~fits]).tolist():
        program, drum = key // 2, bool(key % 2)
        found = next(
            (i for i, t in enumerate(tracks) if t.program == program and t.drum == drum), None
        )
        if found is None:
            tracks.append(new_track(tracks, program, drum))
            found = len(tracks) - 1
        index[~fits & (keys == key)] = found
    return index.astype(np.int16), tracks


#: The longest track name kept (a MIDI track name can be any length; a row shows about 30).
MAX_NAME = 200


def tracks_to_json(tracks) -> list[dict]:
    """The tracks as JSON-safe dicts (the session keeps them)."""
    return [
        {
            "name": t.name,
            "program": t.program,
            "drum": t.drum,
            "colour": t.colour,
            "muted": t.muted,
            "solo": t.solo,
            "rewrite": t.rewrite,
        }
        for t in tracks
    ]


def tracks_from_json(data) -> list[TrackInfo]:
    """Tracks from what tracks_to_json wrote; an entry that is not one (a hostile or damaged
    session) ends the list there, so its notes go to tracks of their instruments instead."""
    tracks = []
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, dict):
            break
        name, program, drum = item.get("name"), item.get("program"), item.get("drum")
        colour = item.get("colour")
        muted, solo = item.get("muted", False), item.get("solo", False)
        rewrite = item.get("rewrite", True)
        whole = all(type(v) is int for v in (program, colour))
        if not (
            isinstance(name, str)
            and whole
            and 0 <= program <= 127
            and 0 <= colour < COLOURS
            and all(type(v) is bool for v in (drum, muted, solo, rewrite))
        ):
            break
        tracks.append(TrackInfo(name[:MAX_NAME], program, drum, colour, muted, solo, rewrite))
    return tracks
