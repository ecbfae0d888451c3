"""Where things are on the piano roll: ticks <-> x and pitches <-> y, zoom, scroll and the grid.

Pure arithmetic with no Qt import, so it is unit-tested without a display and the view's code is
left with painting and events. Units: times are MIDI ticks (`ticks_per_beat` of them per quarter
note), positions are widget pixels measured from the view's top-left corner (the keyboard strip
and the ruler included), pitches are MIDI note numbers 0-127 (60 = middle C, C4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LOWEST_PITCH, HIGHEST_PITCH = 0, 127
#: Grid lines are never drawn closer together than this many pixels.
MIN_GRID_GAP_PX = 6.0
#: Lines between beats (eighths, sixteenths) appear only once they are this far apart, so that
#: they read as a finer grid rather than as noise.
SUBDIVISION_GAP_PX = 24.0
#: Horizontal zoom limits in pixels per quarter note: 0.02 shows 2,000 bars of 4/4 in 160 px;
#: 1,200 makes a 64th note ~19 px wide.
MIN_PIXELS_PER_QUARTER, MAX_PIXELS_PER_QUARTER = 0.02, 1200.0
#: Vertical zoom limits in pixels per semitone row.
MIN_KEY_HEIGHT, MAX_KEY_HEIGHT = 2.0, 48.0


@dataclass(frozen=True)
class Grid:
    """The vertical lines to draw over a range of ticks. Every array holds ticks (float64)."""

    bars: np.ndarray  # bar lines; only every `bar_step`-th bar when zoomed far out
    beats: np.ndarray  # beat lines that are not bar lines (empty when beats are dropped)
    subdivisions: np.ndarray  # finer lines between beats (empty unless zoomed in)
    bar_step: int  # 1, 2, 4, 8...: a bar line is drawn every `bar_step` bars
    step_ticks: float  # ticks between two adjacent lines of any kind (the finest spacing)
    spacing_px: float  # the same in pixels: never below the minimum gap asked for


class RollMapping:
    """Zoom and scroll state of a piano roll, and the conversions it implies.

    `pixels_per_tick` is the horizontal zoom, `key_height` (pixels per semitone) the vertical one.
    `left_tick` is the tick at the left edge of the notes area (just right of the keyboard strip);
    `top_pitch` is the pitch whose row's top edge lies at the top of the notes area (just below
    the ruler); both may be fractional, so scrolling is smooth. Setting any of them clamps it:
    zoom to its limits, `left_tick` to >= 0, `top_pitch` so that rows 0-127 fill the view.
    Conversions accept scalars or NumPy arrays.
    """

    def __init__(
        self,
        ticks_per_beat: int = 480,
        beats_per_bar: int = 4,
        *,
        beat_unit: int = 4,
        pixels_per_tick: float | None = None,
        key_height: float = 12.0,
        left_tick: float = 0.0,
        top_pitch: float = 84.0,
        keyboard_width: int = 56,
        ruler_height: int = 24,
        view_height: float = 0.0,
    ):
        if ticks_per_beat <= 0:
            raise ValueError(f"ticks_per_beat must be positive, got {ticks_per_beat}")
        #: MIDI resolution: ticks per quarter note.
        self.ticks_per_beat = int(ticks_per_beat)
        #: The time signature: `beats_per_bar` beats of a 1/`beat_unit` note (6/8: 6 and 8).
        self.beats_per_bar = int(beats_per_bar)
        self.beat_unit = int(beat_unit)
        self.keyboard_width = int(keyboard_width)  # pixels: the keyboard strip on the left
        self.ruler_height = int(ruler_height)  # pixels: the ruler with bar numbers on top
        #: Height of the whole view in pixels (the view sets it on resize); only used to stop
        #: scrolling past pitch 0. 0 means unknown.
        self.view_height = float(view_height)
        self._ppt = 0.0
        self._key_height = 0.0
        self._left = 0.0
        self._top = 0.0
        self.pixels_per_tick = pixels_per_tick or 48.0 / self.ticks_per_beat  # 48 px a quarter
        self.key_height = key_height
        self.left_tick = left_tick
        self.top_pitch = top_pitch

    # --- state, clamped on every assignment -------------------------------------------------

    @property
    def pixels_per_tick(self) -> float:
        """Horizontal zoom in pixels per tick."""
        return self._ppt

    @pixels_per_tick.setter
    def pixels_per_tick(self, value: float) -> None:
        low, high = self.zoom_x_limits()
        self._ppt = min(max(float(value), low), high)

    @property
    def key_height(self) -> float:
        """Vertical zoom: the height of one semitone row in pixels."""
        return self._key_height

    @key_height.setter
    def key_height(self, value: float) -> None:
        self._key_height = min(max(float(value), MIN_KEY_HEIGHT), MAX_KEY_HEIGHT)
        self.top_pitch = self._top  # the range of valid scroll positions depends on the zoom

    @property
    def left_tick(self) -> float:
        """Tick at the left edge of the notes area; never below 0."""
        return self._left

    @left_tick.setter
    def left_tick(self, value: float) -> None:
        self._left = max(float(value), 0.0)

    @property
    def top_pitch(self) -> float:
        """Pitch whose row's top edge is at the top of the notes area (fractional when scrolled
        part-way); at most 127, and high enough that no space shows below pitch 0."""
        return self._top

    @top_pitch.setter
    def top_pitch(self, value: float) -> None:
        self._top = min(max(float(value), self.min_top_pitch()), float(HIGHEST_PITCH))

    def min_top_pitch(self) -> float:
        """The lowest `top_pitch` that keeps the bottom of row 0 at or below the view's bottom."""
        rows = (self.view_height - self.ruler_height) / self._key_height
        return min(max(rows - 1.0, float(LOWEST_PITCH)), float(HIGHEST_PITCH))

    def zoom_x_limits(self) -> tuple[float, float]:
        """The smallest and largest `pixels_per_tick` allowed."""
        return (
            MIN_PIXELS_PER_QUARTER / self.ticks_per_beat,
            MAX_PIXELS_PER_QUARTER / self.ticks_per_beat,
        )

    def set_meter(self, beats_per_bar: int, beat_unit: int = 4) -> None:
        """Use a time signature for the grid, e.g. (3, 4) or (6, 8)."""
        self.beats_per_bar, self.beat_unit = max(int(beats_per_bar), 1), max(int(beat_unit), 1)

    @property
    def beat_ticks(self) -> float:
        """Ticks per beat of the time signature (a quarter note in 4/4, an eighth in 6/8)."""
        return self.ticks_per_beat * 4.0 / self.beat_unit

    @property
    def bar_ticks(self) -> float:
        """Ticks per bar."""
        return self.beat_ticks * self.beats_per_bar

    # --- conversions --------------------------------------------------------------------------

    def tick_to_x(self, tick):
        """Widget x in pixels of a tick (scalar or array)."""
        return self.keyboard_width + (tick - self._left) * self._ppt

    def x_to_tick(self, x):
        """Tick (fractional) at widget x in pixels."""
        return self._left + (x - self.keyboard_width) / self._ppt

    def pitch_to_y(self, pitch):
        """Widget y in pixels of the TOP edge of a pitch's row; the row is `key_height` tall."""
        return self.ruler_height + (self._top - pitch) * self._key_height

    def y_to_pitch(self, y):
        """Inverse of `pitch_to_y` (fractional): the row of pitch p spans values in (p - 1, p];
        `pitch_at` gives the integer row under a y."""
        return self._top - (y - self.ruler_height) / self._key_height

    def pitch_at(self, y: float) -> int:
        """The pitch whose row contains widget y, clamped to 0-127."""
        return min(max(math.ceil(self.y_to_pitch(y)), LOWEST_PITCH), HIGHEST_PITCH)

    def visible_ticks(self, width: float) -> tuple[float, float]:
        """(first, last) tick shown across a view `width` pixels wide (keyboard strip included)."""
        return self._left, self.x_to_tick(max(width, self.keyboard_width))

    def visible_pitches(self, height: float) -> tuple[int, int]:
        """(lowest, highest) pitch with at least part of its row in a view `height` pixels tall
        (ruler included), clamped to 0-127."""
        rows = max(height - self.ruler_height, 0) / self._key_height
        high = min(math.ceil(self._top), HIGHEST_PITCH)
        low = max(math.floor(self._top - rows) + 1, LOWEST_PITCH)
        return min(low, high), high

    # --- zoom and scroll ------------------------------------------------------------------------

    def zoom_x(self, factor: float, anchor_x: float) -> None:
        """Multiply the horizontal zoom by `factor`, keeping the tick under widget x `anchor_x`
        where it is (unless that would scroll before tick 0)."""
        tick = self.x_to_tick(anchor_x)
        self.pixels_per_tick = self._ppt * factor
        self.left_tick = tick - (anchor_x - self.keyboard_width) / self._ppt

    def zoom_y(self, factor: float, anchor_y: float) -> None:
        """Multiply the row height by `factor`, keeping the pitch under widget y `anchor_y` where
        it is (unless that would scroll past pitch 0 or 127)."""
        pitch = self.y_to_pitch(anchor_y)
        self.key_height = self._key_height * factor
        self.top_pitch = pitch + (anchor_y - self.ruler_height) / self._key_height

    def scroll_by(self, dx: float = 0.0, dy: float = 0.0) -> None:
        """Scroll by pixels: positive dx shows later ticks, positive dy lower pitches."""
        self.left_tick = self._left + dx / self._ppt
        self.top_pitch = self._top - dy / self._key_height

    def fit_ticks(self, start: float, end: float, width: float) -> None:
        """Zoom and scroll so ticks [start, end] fill a view `width` pixels wide (keyboard
        included), with 1% to spare."""
        self.pixels_per_tick = max(width - self.keyboard_width, 1) / (max(end - start, 1) * 1.01)
        self.left_tick = start

    def fit_pitches(self, low: int, high: int, height: float, max_key_height: float) -> None:
        """Zoom and scroll so pitches low..high fill a view `height` pixels tall (ruler
        included), centred, with rows no taller than `max_key_height`."""
        area = max(height - self.ruler_height, 1)
        self.key_height = min(area / (high - low + 1), max_key_height)
        # Row p spans (p - 1, p] in y_to_pitch units: centre (low - 1, high].
        self.top_pitch = (low - 1 + high) / 2 + area / self._key_height / 2

    def scroll_bars(self, width: float, height: float, end_tick: int) -> tuple[tuple, tuple]:
        """(maximum, page step, single step, value) of a horizontal scroll bar in ticks and of
        a vertical one in pixels from the top of pitch 127, for a view of `width` x `height`
        pixels showing notes that end at `end_tick`: one bar of room after the end."""
        limit = 2**31 - 1  # QScrollBar holds ints
        span = max(width - self.keyboard_width, 1) / self._ppt  # ticks in view
        end = max(end_tick, self.bar_ticks) + self.bar_ticks
        horizontal = (
            min(max(math.ceil(end - span), math.ceil(self._left), 0), limit),
            min(max(int(span), 1), limit),
            min(max(int(span / 16), 1), limit),
            min(round(self._left), limit),
        )
        area = max(int(height) - self.ruler_height, 1)
        vertical = (
            max(math.ceil(128 * self._key_height - area), 0),
            area,
            max(round(self._key_height), 1),
            round((HIGHEST_PITCH - self._top) * self._key_height),
        )
        return horizontal, vertical

    # --- grid -----------------------------------------------------------------------------------

    def bar_step(self, min_gap_px: float = MIN_GRID_GAP_PX) -> int:
        """Smallest power of two n such that lines every n bars are at least `min_gap_px` apart."""
        bar_px = self.bar_ticks * self._ppt
        if bar_px >= min_gap_px:
            return 1
        return 2 ** math.ceil(math.log2(min_gap_px / bar_px))

    def grid_step(self, min_gap_px: float = MIN_GRID_GAP_PX) -> tuple[float, int, int]:
        """The finest line spacing to draw: (step in ticks, lines per beat, bars per bar line).

        Lines per beat is 0 once beats are dropped (then bar lines thin out to every 2, 4, 8...
        bars); above 1, beats are split into halves or quarters.
        """
        beat_px = self.beat_ticks * self._ppt
        if beat_px < min_gap_px:
            step = self.bar_step(min_gap_px)
            return self.bar_ticks * step, 0, step
        per_beat = 1
        while per_beat < 4 and beat_px / (per_beat * 2) >= max(SUBDIVISION_GAP_PX, min_gap_px):
            per_beat *= 2
        return self.beat_ticks / per_beat, per_beat, 1

    def grid_lines(self, t0: float, t1: float, min_gap_px: float = MIN_GRID_GAP_PX) -> Grid:
        """The bar, beat and subdivision lines whose ticks fall in [t0, t1]."""
        step, per_beat, bar_step = self.grid_step(min_gap_px)
        first, last = math.ceil(max(t0, 0.0) / step - 1e-9), math.floor(t1 / step + 1e-9)
        index = np.arange(first, max(last + 1, first), dtype=np.int64)
        # Classify by integer index rather than by float ticks, so rounding never turns a bar
        # line into a beat line.
        lines_per_bar = per_beat * self.beats_per_bar if per_beat else 1
        is_bar = index % lines_per_bar == 0
        is_beat = ~is_bar & (index % max(per_beat, 1) == 0)
        ticks = index * step
        return Grid(
            bars=ticks[is_bar],
            beats=ticks[is_beat],
            subdivisions=ticks[~is_bar & ~is_beat],
            bar_step=bar_step,
            step_ticks=step,
            spacing_px=step * self._ppt,
        )

    def snap_tick(self, tick: float, min_gap_px: float = MIN_GRID_GAP_PX) -> int:
        """The tick of the grid line nearest to `tick` (at the current zoom), never below 0."""
        step = self.grid_step(min_gap_px)[0]
        return max(round(round(tick / step) * step), 0)

    def copy(self) -> RollMapping:
        """An independent copy (for computing a zoom without applying it)."""
        other = RollMapping.__new__(RollMapping)
        other.__dict__.update(self.__dict__)
        return other

    def state(self) -> tuple:
        """Everything that decides where pixels go: equal states draw identical images."""
        return (
            self.ticks_per_beat,
            self.beats_per_bar,
            self.beat_unit,
            self._ppt,
            self._key_height,
            self._left,
            self._top,
            self.keyboard_width,
            self.ruler_height,
        )
