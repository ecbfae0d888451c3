"""Writing a Piece as a Standard MIDI File (type 1) with mido, atomically."""

from __future__ import annotations

from pathlib import Path

import mido

from composer.core.errors import SettingsError
from composer.core.files.atomic import atomic_path, check_target
from composer.core.midi.metadata import metadata_text
from composer.core.midi.piece import (
    Piece,
    ticks_per_beat_problem,
    time_signature_problem,
    track_channel,
)


def write_midi(
    piece: Piece, path: str | Path, *, overwrite: bool = False, metadata: dict | None = None
) -> Path:
    """Write `piece` to `path`: a conductor track (tempo, time signatures, and `metadata`, how
    the piece was made, as metadata.py keeps it), then one track per track of the piece, drums on
    channel 10. Refuses to replace an existing file unless `overwrite`, and
    anything that is not a file (a folder, a device, a pipe) always: WriteError, an OSError whose
    message names `path` and the fix, as for a folder that cannot be written. A piece MIDI cannot
    hold (a resolution above MAX_TICKS_PER_BEAT, a time signature outside TIME_SIGNATURE_RANGES)
    is a SettingsError naming `path`, before anything is written."""
    path = Path(path)
    if problem := ticks_per_beat_problem(piece.ticks_per_beat):
        raise SettingsError(
            f"{path} cannot hold this piece: {problem} and it has {piece.ticks_per_beat}"
        )
    if problem := time_signature_problem(piece.time_signatures):
        raise SettingsError(f"{path} cannot hold this piece: it has {problem}")
    check_target(path)  # before "already exists": allowing overwriting would not help
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; choose another name or allow overwriting")
    midi = mido.MidiFile(type=1, ticks_per_beat=piece.ticks_per_beat)
    conductor = _conductor_track(piece)
    if text := metadata_text(metadata or {}):
        conductor.insert(0, mido.MetaMessage("text", text=text, time=0))
    midi.tracks.append(conductor)
    for index, track in enumerate(piece.tracks):
        channel = track_channel(index, track.is_drum)
        events: list[tuple[int, int, mido.Message]] = []
        if not track.is_drum:
            events.append(
                (0, 0, mido.Message("program_change", program=track.program, channel=channel))
            )
        for start, end, pitch, velocity in track.notes.tolist():
            # At one tick, note-offs (order 1) come before note-ons (order 2) so repeated notes sound.
            events.append(
                (start, 2, mido.Message("note_on", note=pitch, velocity=velocity, channel=channel))
            )
            events.append(
                (end, 1, mido.Message("note_off", note=pitch, velocity=0, channel=channel))
            )
        mtrack = mido.MidiTrack()
        if track.name:
            mtrack.append(mido.MetaMessage("track_name", name=track.name))
        mtrack.extend(_with_delta_times(events))
        midi.tracks.append(mtrack)
    with atomic_path(path) as tmp:
        midi.save(tmp)
    return path


def _conductor_track(piece: Piece) -> mido.MidiTrack:
    events = [
        (int(tick), 0, mido.MetaMessage("set_tempo", tempo=int(us)))
        for tick, us in piece.tempos.tolist()
    ]
    for tick, numerator, denominator in piece.time_signatures.tolist():  # checked: MIDI holds them
        events.append(
            (
                int(tick),
                0,
                mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator),
            )
        )
    track = mido.MidiTrack()
    track.extend(_with_delta_times(events))
    return track


def _with_delta_times(events: list) -> list:
    """Sort (tick, order, message) triples and give each message its delta time in ticks."""
    events.sort(key=lambda e: (e[0], e[1]))
    out, now = [], 0
    for tick, _, message in events:
        out.append(message.copy(time=int(tick) - now))
        now = int(tick)
    return out
