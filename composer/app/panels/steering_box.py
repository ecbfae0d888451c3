"""The Generate panel's *Steer* box: key and scale, range, polyphony, instruments, drums, tempo,
rhythm grid and density, turned into core Constraints (composer.core.generation.constraints)."""

from __future__ import annotations

import math

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from composer.app.tooltips import STEERING
from composer.core.errors import SettingsError
from composer.core.midi.piece import KEY_NAMES, note_name

TONICS = list(KEY_NAMES)  # the tonic box: keys as they are written
DETECT = "detect"  # the scale choice that takes the primer's key
GRIDS = [("Anything the model likes", None), ("1/8", "1/8"), ("1/16", "1/16"),
         ("1/8 triplets", "1/12"), ("1/16 triplets", "1/24")]  # fmt: skip
#: Time signatures offered for music from silence: (label, (numerator, denominator) or None).
METERS = [("4/4 (common time)", None), ("2/4", (2, 4)), ("3/4 (waltz)", (3, 4)),
          ("5/4", (5, 4)), ("6/8 (jig)", (6, 8)), ("9/8", (9, 8)), ("12/8", (12, 8)),
          ("2/2 (cut time)", (2, 2))]  # fmt: skip


class NoteBox(QSpinBox):
    """A MIDI note number shown as a note name (C4 = 60, middle C)."""

    def textFromValue(self, value: int) -> str:  # noqa: N802 (Qt's name)
        return note_name(value)  # as the piano roll's keys read

    def valueFromText(self, text: str) -> int:  # noqa: N802
        from composer.core.generation.steering_text import parse_note

        try:
            return parse_note(text)
        except SettingsError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: N802 (Qt's name)
        """Note names as they are typed: "C", "C#", "C#3" on the way, a note when whole (the
        spin box's own check wants digits and turned C3 into Eb-1)."""
        import re

        from PySide6.QtGui import QValidator

        from composer.core.generation.steering_text import parse_note

        try:
            number = parse_note(text)
        except SettingsError:
            typing = re.fullmatch(r"\s*([A-Ga-g][#b]?-?|\d{0,3})\s*", text)
            state = QValidator.State.Intermediate if typing else QValidator.State.Invalid
            return state, text, pos
        ok = self.minimum() <= number <= self.maximum()
        state = QValidator.State.Acceptable if ok else QValidator.State.Intermediate
        return state, text, pos


class SteeringBox(QGroupBox):
    """Every control off by default: the model plays as it learnt to."""

    def __init__(self, parent: QWidget | None = None) -> None:
        from composer.core.generation.settings import MAX_TEMPO_BPM, MIN_TEMPO_BPM
        from composer.core.generation.steering_text import SCALES

        super().__init__("Steer", parent)
        self.setCheckable(True)
        self.setChecked(False)
        self.tonic = QComboBox()
        self.tonic.addItems(TONICS)
        self.scale = QComboBox()
        self.scale.addItem("any key", None)
        self.scale.addItem("the primer's key", DETECT)
        for name in SCALES:
            self.scale.addItem(name, name)
        key = QHBoxLayout()
        key.addWidget(self.tonic)
        key.addWidget(self.scale, 1)
        self.lowest, self.highest = NoteBox(), NoteBox()
        for box, value in ((self.lowest, 21), (self.highest, 108)):  # a piano's keys
            box.setRange(0, 127)
            box.setValue(value)
        note_range = QHBoxLayout()
        note_range.addWidget(self.lowest)
        note_range.addWidget(self.highest)
        self.instrument_ranges = QLineEdit()
        self.instrument_ranges.setPlaceholderText("as above (e.g. 40=G3-E7, 32=E1-G3)")
        self.polyphony = QSpinBox()
        self.polyphony.setRange(0, 32)
        self.polyphony.setSpecialValueText("any")
        self.programs = QLineEdit()
        self.programs.setPlaceholderText("any (numbers or names, e.g. 0, 40 or piano, strings)")
        self.drums = QCheckBox("Drums")
        self.drums.setChecked(True)
        instruments = QHBoxLayout()
        instruments.addWidget(self.programs, 1)
        instruments.addWidget(self.drums)
        self.tempo = QSpinBox()
        # The value just below the slowest tempo reads "the model's" (no tempo asked for).
        self.tempo.setRange(math.ceil(MIN_TEMPO_BPM) - 1, math.floor(MAX_TEMPO_BPM))
        self.tempo.setSpecialValueText("the model's")
        self.tempo.setSuffix(" BPM")
        self.meter = QComboBox()
        for label, value in METERS:
            self.meter.addItem(label, value)
        self.grid = QComboBox()
        for label, value in GRIDS:
            self.grid.addItem(label, value)
        self.density = QDoubleSpinBox()
        self.density.setRange(0.0, 16.0)
        self.density.setSingleStep(0.25)
        self.density.setSpecialValueText("the model's")
        self.density.setSuffix(" notes/beat")
        self.primer_density = QCheckBox("like the primer")
        self.primer_density.toggled.connect(lambda on: self.density.setEnabled(not on))
        density = QHBoxLayout()
        density.addWidget(self.density, 1)
        density.addWidget(self.primer_density)

        form = QFormLayout()
        form.addRow("Key", key)
        form.addRow("Range", note_range)
        form.addRow("Per instrument", self.instrument_ranges)
        form.addRow("Polyphony", self.polyphony)
        form.addRow("Instruments", instruments)
        form.addRow("Tempo", self.tempo)
        form.addRow("Time signature", self.meter)
        form.addRow("Rhythm grid", self.grid)
        form.addRow("Density", density)
        inner = QWidget()
        inner.setLayout(form)
        inner.setVisible(False)
        self.toggled.connect(inner.setVisible)
        QVBoxLayout(self).addWidget(inner)
        self.setToolTip(STEERING["steer"])
        for name in ("tonic", "scale", "lowest", "highest", "instrument_ranges", "polyphony",
                     "programs", "drums", "tempo", "meter", "grid", "density", "primer_density"):  # fmt: skip
            getattr(self, name).setToolTip(STEERING[name])

    def constraints(self, steps_per_beat: int = 12):
        """The Constraints these controls ask for (all off while the box is unchecked).
        SettingsError with a sentence for an instrument list that is not one."""
        from composer.core.generation.constraints import Constraints
        from composer.core.generation.steering_text import (
            Key,
            parse_grid,
            parse_instrument_range,
            parse_programs,
        )

        if not self.isChecked():
            return Constraints()
        try:
            programs = (
                parse_programs(self.programs.text()) if self.programs.text().strip() else None
            )
        except SettingsError as exc:
            raise SettingsError(f"Instruments: {exc}") from None
        try:
            parts = (p.strip() for p in self.instrument_ranges.text().split(","))
            ranges = [parse_instrument_range(part) for part in parts if part]
        except SettingsError as exc:
            raise SettingsError(f"Per instrument: {exc}") from None
        scale = self.scale.currentData()
        grid = self.grid.currentData()
        return Constraints(
            key=Key(self.tonic.currentIndex(), scale) if scale and scale != DETECT else None,
            lowest=min(self.lowest.value(), self.highest.value()),
            highest=max(self.lowest.value(), self.highest.value()),
            ranges=tuple(ranges),
            polyphony=self.polyphony.value() or None,
            programs=programs,
            drums=self.drums.isChecked(),
            tempo_bpm=float(self.tempo.value()) if self.asks_tempo else None,
            meter=self.meter.currentData(),
            grid_steps=parse_grid(grid, steps_per_beat) if grid else None,
            density=None if self.primer_density.isChecked() else self.density.value() or None,
        )

    @property
    def asks_tempo(self) -> bool:
        """A tempo is chosen, not the special value below the slowest (the model's)."""
        return self.tempo.value() > self.tempo.minimum()

    @property
    def wants_primer_density(self) -> bool:
        """The density is to be the primer's (worked out when the primer is read)."""
        return self.isChecked() and self.primer_density.isChecked()

    @property
    def wants_primer_key(self) -> bool:
        """The key is to be taken from the primer (worked out when the primer is read)."""
        return self.isChecked() and self.scale.currentData() == DETECT

    def describe(self) -> dict:
        """The settings as plain data, kept with each generated piece (and in the session)."""
        c = self.constraints()
        return {
            "key": "the primer's" if self.wants_primer_key else str(c.key) if c.key else None,
            "range": [c.lowest, c.highest],
            "ranges": [list(r) for r in c.ranges],
            "polyphony": c.polyphony,
            "programs": sorted(c.programs) if c.programs is not None else None,
            "drums": c.drums,
            "tempo": c.tempo_bpm,
            "meter": list(c.meter) if c.meter else None,
            "grid": self.grid.currentData() if self.isChecked() else None,
            "density": "the primer's" if self.wants_primer_density else c.density,
        }
