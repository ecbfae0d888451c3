"""The piano roll: a fast, read-only view of MIDI notes (ticks across, pitches up)."""

from composer.app.pianoroll.mapping import RollMapping
from composer.app.pianoroll.notes import NOTE_FIELDS, NoteModel
from composer.app.pianoroll.view import PianoRollView

__all__ = ["NOTE_FIELDS", "NoteModel", "PianoRollView", "RollMapping"]
