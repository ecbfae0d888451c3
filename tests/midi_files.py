"""Writing small MIDI files event by event, so that tests can make files with exact quirks."""

from __future__ import annotations

from pathlib import Path

import mido

on = lambda note, velocity=80, time=0, channel=0: mido.Message(  # noqa: E731
    "note_on", note=note, velocity=velocity, time=time, channel=channel
)
off = lambda note, time=0, channel=0: mido.Message(  # noqa: E731
    "note_off", note=note, velocity=0, time=time, channel=channel
)
program = lambda number, channel=0, time=0: mido.Message(  # noqa: E731
    "program_change", program=number, channel=channel, time=time
)
tempo = lambda bpm, time=0: mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=time)  # noqa: E731


def write_midi_events(path: Path, *tracks: list, ticks_per_beat: int = 480, type_: int = 1) -> Path:
    """Write tracks of mido messages (delta times in ticks) as a MIDI file at `path`."""
    midi = mido.MidiFile(type=type_, ticks_per_beat=ticks_per_beat)
    for messages in tracks:
        midi.tracks.append(mido.MidiTrack(messages))
    midi.save(path)
    return path


def simple_tune(path: Path, pitches=(60, 62, 64, 65, 67), beat: int = 480) -> Path:
    """A one-track tune of quarter notes."""
    events = []
    for pitch in pitches:
        events += [on(pitch), off(pitch, time=beat)]
    return write_midi_events(path, events, ticks_per_beat=beat)
