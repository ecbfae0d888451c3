"""Reading and writing MIDI files; the note model (times in ticks, instruments, tempo map)."""

from composer.core.midi.piece import NOTE_DTYPE, Piece, Track, gm_program_name, make_notes
from composer.core.midi.reader import MidiReadError, read_midi, read_midi_bytes
from composer.core.midi.writer import write_midi

__all__ = [
    "NOTE_DTYPE",
    "MidiReadError",
    "Piece",
    "Track",
    "gm_program_name",
    "make_notes",
    "read_midi",
    "read_midi_bytes",
    "write_midi",
]
