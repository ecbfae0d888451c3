"""The transport bar: play/pause, stop and loop, and where the playhead is (bar and beat, clock
time) with the tempo there.

The buttons are the window's own QActions (menu items and shortcuts stay the one source); the
readouts are worked out by `composer.core.midi.timeline`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QFontDatabase
from PySide6.QtWidgets import QLabel, QStyle, QToolBar, QWidget

from composer.core.midi.piece import TIME_SIGNATURE_DTYPE, make_tempos
from composer.core.midi.timeline import Timeline, format_bpm, format_clock


class TransportBar(QToolBar):
    """A toolbar with `actions['play_pause']`, `['stop_playback']` and `['loop_selection']`, then
    three readouts: `position` (bar.beat), `clock` (m:ss.s) and `tempo` (BPM at the position).

    Call `set_timing` when the piece shown changes, `set_position(tick)` when the playhead moves,
    and `set_playing(bool)` when playback starts or stops (the play button then reads Pause)."""

    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None):
        super().__init__("Transport", parent)
        self.setObjectName("transport-toolbar")  # so that QMainWindow.saveState can restore it
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.play_action = actions["play_pause"]
        style = self.style()
        self._play_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
        self._pause_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPause)
        actions["stop_playback"].setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop))
        for name in ("play_pause", "stop_playback", "loop_selection"):
            self.addAction(actions[name])
        self.addSeparator()
        self.position = self._readout("999.99", "Bar and beat at the playhead")
        self.clock = self._readout("99:99.9", "Time at the playhead (minutes:seconds)")
        self.tempo = self._readout("999.9 BPM", "Tempo at the playhead (quarter notes a minute)")
        self.timeline = Timeline(480, make_tempos(), np.array([], TIME_SIGNATURE_DTYPE))
        self.tick = 0
        self.set_playing(False)
        self.set_position(0)

    def _readout(self, widest: str, tip: str) -> QLabel:
        label = QLabel()
        label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        label.setMinimumWidth(label.fontMetrics().horizontalAdvance(widest) + 8)  # no jiggling
        label.setToolTip(tip)
        label.setContentsMargins(4, 0, 4, 0)
        self.addWidget(label)
        return label

    def set_timing(
        self, ticks_per_beat: int, tempos: np.ndarray, time_signatures: np.ndarray
    ) -> None:
        """The piece shown: ticks per quarter note, its tempo map (TEMPO_DTYPE) and time
        signatures (TIME_SIGNATURE_DTYPE). The readouts are worked out again at the position."""
        self.timeline = Timeline(ticks_per_beat, tempos, time_signatures)
        self.set_position(self.tick)

    @Slot(int)
    def set_position(self, tick: int) -> None:
        """Show where `tick` is: bar.beat, clock time and the tempo there."""
        self.tick = max(int(tick), 0)
        timeline = self.timeline
        self.position.setText(str(timeline.bar_beat(self.tick)))
        self.clock.setText(format_clock(timeline.seconds(self.tick)))
        self.tempo.setText(format_bpm(timeline.bpm(self.tick)))

    def set_playing(self, playing: bool) -> None:
        """While playing, the play button offers Pause; otherwise Play."""
        self.play_action.setText("&Pause" if playing else "&Play")
        self.play_action.setIcon(self._pause_icon if playing else self._play_icon)
