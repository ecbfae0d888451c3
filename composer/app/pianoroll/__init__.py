"""The piano roll: a fast view of MIDI notes (ticks across, pitches up) that edits them through
undoable commands, with a velocity lane."""

from composer.app.pianoroll.mapping import RollMapping
from composer.app.pianoroll.view import PianoRollView
from composer.app.piece.notes import NOTE_FIELDS, NoteModel

__all__ = ["NOTE_FIELDS", "NoteModel", "PianoRollView", "RollMapping"]
