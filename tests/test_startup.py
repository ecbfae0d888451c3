"""The app starts whatever it reads back (issue 25): an autosaved session or a settings file
holding what the app never writes opens the real window, says what was set aside or replaced in
one sentence naming the file, and keeps every piece file. Also: pieces two windows left in two
slots open together, and a resolution MIDI cannot hold is refused with a sentence on export."""

from __future__ import annotations

import numpy as np
import pytest

from composer.app.pianoroll.notes import ROLL_DTYPE
from composer.core.midi.piece import TIME_SIGNATURE_DTYPE, make_tempos
from composer.core.session import SavedPiece


def app_piece(title: str, notes: np.ndarray | None = None, **fields) -> SavedPiece:
    """A piece as the app autosaves it (ROLL_DTYPE notes: a bar of quarter notes)."""
    if notes is None:
        notes = np.zeros(4, ROLL_DTYPE)
        notes["start"] = np.arange(4) * 480
        notes["end"], notes["pitch"], notes["velocity"] = notes["start"] + 400, 60, 90
    signatures = np.array([(0, 4, 4)], dtype=TIME_SIGNATURE_DTYPE)
    return SavedPiece(title, notes, 480, make_tempos(), signatures, **fields)


def test_exporting_a_resolution_midi_cannot_hold_says_so(window, tmp_path):
    from composer.core.errors import SettingsError
    from composer.core.midi import Piece, write_midi

    with pytest.raises(SettingsError, match="32767 ticks per beat") as refused:
        write_midi(Piece(40_000), tmp_path / "refused.mid")
    assert str(tmp_path / "refused.mid") in str(refused.value)
    assert not (tmp_path / "refused.mid").exists()

    document = window.documents.new_document("wide")
    document.model.set_notes(app_piece("x").notes, 40_000)  # no event loop runs till it is 480
    window.documents.add_documents([document])
    assert window.export_variation(0, tmp_path / "wide.mid") is None
    assert "32767 ticks per beat" in window.told[-1] and not (tmp_path / "wide.mid").exists()
    document.model.set_notes(app_piece("x").notes, 480)  # what a session can hold
