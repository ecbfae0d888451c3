"""The transport bar: bar/beat/time/tempo arithmetic (composer.core.midi.timeline), the bar itself,
its place in the window, and Space playing or pausing from anywhere but a text field."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QLineEdit, QPushButton, QWidget

from composer.core.midi import write_midi
from composer.core.midi.piece import (
    TIME_SIGNATURE_DTYPE,
    Piece,
    Track,
    make_notes,
    make_tempos,
)
from composer.core.midi.timeline import BarBeat, Timeline, format_bpm, format_clock
from tests.conftest import corpus

TPB = 480  # ticks per quarter note


def signatures(*rows) -> np.ndarray:
    """Time signatures from (tick, numerator, denominator) rows."""
    return np.array(list(rows), dtype=TIME_SIGNATURE_DTYPE)


# --- the arithmetic ------------------------------------------------------------------------------


def test_without_a_time_signature_bars_are_four_four():
    line = Timeline(TPB, make_tempos(), signatures())
    assert line.bar_beat(0) == BarBeat(1, 1, 0)
    assert line.bar_beat(480) == BarBeat(1, 2, 0)
    assert line.bar_beat(1919) == BarBeat(1, 4, 479)
    assert line.bar_beat(1920 + 960 + 100) == BarBeat(2, 3, 100)
    assert str(line.bar_beat(1920 * 4 + 480 * 2)) == "5.3"
    assert line.bar_beat(-50) == BarBeat(1, 1, 0)


def test_three_four_counts_three_quarter_notes_a_bar():
    line = Timeline(TPB, make_tempos(), signatures((0, 3, 4)))
    assert line.bar_beat(1440) == BarBeat(2, 1, 0)
    assert line.bar_beat(1440 * 4 + 480 * 2 + 7) == BarBeat(5, 3, 7)
    assert line.signature(10_000) == (3, 4)


def test_six_eight_counts_six_eighth_notes_a_bar():
    line = Timeline(TPB, make_tempos(), signatures((0, 6, 8)))
    assert line.bar_beat(240) == BarBeat(1, 2, 0)  # an eighth note is a beat
    assert line.bar_beat(1440 + 240 * 5 + 10) == BarBeat(2, 6, 10)
    assert line.bar_beat(2880) == BarBeat(3, 1, 0)
    assert line.signature(0) == (6, 8)


def test_a_signature_change_mid_piece_starts_a_new_bar_in_the_new_metre():
    # Two bars of 4/4, three of 3/4, then 6/8; then a change to 2/4 half way through a bar.
    line = Timeline(
        TPB,
        make_tempos(),
        signatures((0, 4, 4), (3840, 3, 4), (3840 + 3 * 1440, 6, 8), (12_000, 2, 4)),
    )
    assert line.bar_beat(3839) == BarBeat(2, 4, 479)
    assert line.bar_beat(3840) == BarBeat(3, 1, 0)
    assert line.bar_beat(3840 + 1440 + 960) == BarBeat(4, 3, 0)
    six_eight = 3840 + 3 * 1440
    assert line.bar_beat(six_eight) == BarBeat(6, 1, 0)
    assert line.bar_beat(six_eight + 1440 + 480) == BarBeat(7, 3, 0)
    # 12,000 is 2,400 ticks (bar 7 and 2/3 of bar 8) into the 6/8: the short bar 8 still counts.
    assert line.bar_beat(11_999) == BarBeat(8, 4, 239)
    assert line.bar_beat(12_000) == BarBeat(9, 1, 0)
    assert line.bar_beat(12_000 + 960 + 480) == BarBeat(10, 2, 0)
    for tick in range(0, 14_000, 240):  # tick_of is the inverse on beats
        where = line.bar_beat(tick)
        assert line.tick_of(where.bar, where.beat) + where.ticks == tick


def test_tempo_and_clock_time_follow_the_tempo_map():
    line = Timeline(TPB, make_tempos([(0, 500_000), (1920, 400_000)]), signatures())
    assert line.bpm(0) == line.bpm(1919) == 120.0
    assert line.bpm(1920) == 150.0
    assert line.seconds(1920 + 480) == pytest.approx(2.4)
    late = Timeline(TPB, make_tempos([(960, 1_000_000)]), signatures())  # 120 BPM until then
    assert late.bpm(0) == 120.0 and late.bpm(960) == 60.0
    assert Timeline(TPB, make_tempos([]), signatures()).bpm(5000) == 120.0


def test_readouts_read_as_a_musician_writes_them():
    assert format_clock(0) == "0:00.0"
    assert format_clock(7.36) == "0:07.3"
    assert format_clock(67.25) == "1:07.2"
    assert format_clock(59.99) == "0:59.9"  # a clock does not round up to the next second
    assert format_clock(3600) == "60:00.0"
    assert format_bpm(120.0) == "120 BPM"
    assert format_bpm(92.5) == "92.5 BPM"
    assert format_bpm(60e6 / 461_538) == "130 BPM"


# --- the bar -------------------------------------------------------------------------------------


@pytest.fixture
def bar(qtbot):
    from composer.app.playback.transport import TransportBar

    owner = QWidget()  # owns the actions and the bar, as the window does
    qtbot.addWidget(owner)
    names = ("play_pause", "stop_playback", "loop_selection")
    actions = {name: QAction(name, owner) for name in names}
    transport = TransportBar(actions, owner)
    transport.actions_given = actions
    yield transport
    owner.close()


def test_the_bar_shows_bar_beat_time_and_tempo_at_the_position(bar):
    assert (bar.position.text(), bar.clock.text(), bar.tempo.text()) == ("1.1", "0:00.0", "120 BPM")
    tempos = make_tempos([(0, 500_000), (1440 * 4, 400_000)])
    bar.set_timing(TPB, tempos, signatures((0, 3, 4)))
    bar.set_position(1440 * 4 + 480 * 2)  # bar 5, beat 3: 6 s, then 0.8 s at 150 BPM
    assert (bar.position.text(), bar.clock.text(), bar.tempo.text()) == ("5.3", "0:06.8", "150 BPM")
    bar.set_timing(TPB, make_tempos(), signatures((0, 6, 8)))  # the position stays, read anew
    assert (bar.position.text(), bar.clock.text(), bar.tempo.text()) == ("5.5", "0:07.0", "120 BPM")


def test_the_play_button_offers_pause_while_playing(bar):
    play = bar.actions_given["play_pause"]
    assert bar.actions()[:3] == list(bar.actions_given.values())
    bar.set_playing(True)
    assert play.text() == "&Pause"
    bar.set_playing(False)
    assert play.text() == "&Play"
    assert not play.icon().isNull()


def test_the_window_has_the_transport_and_it_follows_the_piece_shown(window, tmp_path):
    assert window.transport.objectName() == "transport-toolbar"
    assert window.toolBarArea(window.transport) == Qt.ToolBarArea.TopToolBarArea
    window.transport.hide()  # closed by the user: the window remembers that
    state = window.saveState()
    window.transport.show()
    assert window.restoreState(state) and window.transport.isHidden()
    window.transport.show()
    names = ("play_pause", "stop_playback", "loop_selection")
    assert [window.actions_by_name[n] for n in names] == window.transport.actions()[:3]
    notes = make_notes([0, 1440, 2880], [480, 1920, 3360], [60, 64, 67], [80] * 3)
    piece = Piece(
        TPB,
        [Track(0, False, "", notes)],
        make_tempos([(0, 750_000)]),
        signatures((0, 3, 4)),
    )
    assert window.pieces.open_midi_file(write_midi(piece, tmp_path / "waltz.mid"))
    assert window.transport.tempo.text() == "80 BPM"
    window.pieces.current()[1].set_selection(2880, 3360)  # a drag on the ruler over bar 3
    assert window.transport.position.text() == "3.1"
    assert window.transport.clock.text() == "0:04.5"


# --- Space ---------------------------------------------------------------------------------------


def _press_space_on(widget, window, qtbot) -> int:
    """Give `widget` the focus, press Space on it; how often Play/Pause was triggered."""
    triggered = []
    action = window.actions_by_name["play_pause"]
    count = lambda *checked: triggered.append(1)  # noqa: E731
    action.triggered.connect(count)
    widget.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(widget.hasFocus, timeout=5_000)
    qtbot.keyClick(widget, Qt.Key.Key_Space)
    action.triggered.disconnect(count)
    window.player.stop_playback()
    return len(triggered)


def test_space_plays_from_anywhere_but_a_text_field(window, qtbot):
    assert window.pieces.open_midi_file(sorted(corpus("bach_chorales").glob("*.mid"))[0])
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    panel = window.generation
    for dock in window.docks.values():
        dock.show()
    plays = {
        "the piano roll": window.pieces.current()[1],
        "a button": next(b for b in panel.findChildren(QPushButton) if b.isEnabled()),
        "a list to choose from": next(
            c for c in panel.findChildren(QComboBox) if c.isEnabled() and not c.isEditable()
        ),
    }
    for what, widget in plays.items():
        assert _press_space_on(widget, window, qtbot) == 1, f"Space did not play from {what}"
    spin = panel.findChildren(QAbstractSpinBox)[0]
    assert _press_space_on(spin, window, qtbot) == 0, "Space played from a number field"
    edit = QLineEdit(panel)  # a text field in a panel: the space belongs to the text
    edit.show()
    assert _press_space_on(edit, window, qtbot) == 0, "Space played from a text field"
    assert edit.text() == " "
