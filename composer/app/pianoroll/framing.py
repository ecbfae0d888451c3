"""What part of the piece the piano roll shows: the opening view, zoom to fit, following a
stream or the playhead page by page, and the zoom and scroll saved with a session.

A part of PianoRollView (`view.framing`), given what it works with: the roll's mapping, its
notes, its viewport and two of its functions. Framing that needs the view's real size waits for
it: `pending` names what to apply on the first resize ("home", "fit" or "state").
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from composer.app.pianoroll.mapping import HIGHEST_PITCH, RollMapping
from composer.app.piece.notes import NoteModel

FOLLOW_MARGIN = 0.25  # following a stream jumps so the newest note sits this far across the view
PAGE_MARGIN = 0.02  # following the playhead turns the page: it lands this far across the view
HOME_BARS = 16  # a piece longer than twice this opens showing this many bars
HOME_KEY_HEIGHT, MAX_FIT_KEY_HEIGHT = 18.0, 48.0  # pixels: a few notes do not fill the height
VIEW_STATE_KEYS = ("pixels_per_tick", "key_height", "left_tick", "top_pitch")


class Framing:
    """mapping: the roll's zoom and scroll; model: its notes; viewport: the widget the notes
    are drawn in (its size); laid_out: whether that has its real size yet; refresh: brings the
    scroll bars and the picture up to date after the mapping changed."""

    def __init__(
        self,
        mapping: RollMapping,
        model: NoteModel,
        viewport: QWidget,
        laid_out: Callable[[], bool],
        refresh: Callable[[], None],
    ) -> None:
        self._mapping, self._model, self._viewport = mapping, model, viewport
        self._laid_out, self.refresh = laid_out, refresh
        self.pending: str | None = "home"  # what to apply once laid out
        self._restore: dict[str, float] = {}

    def in_view(self, tick: float) -> bool:
        t0, t1 = self._mapping.visible_ticks(self._viewport.width())
        return t0 <= tick <= t1

    def resized(self) -> None:
        """The viewport has a new size: apply what waited for it."""
        if self.pending == "home":
            self.home()
        elif self.pending == "fit":
            self.zoom_to_fit()
        elif self.pending == "state":
            self._apply_restore()

    def ensure_visible(self, tick: float, margin: float = FOLLOW_MARGIN) -> None:
        """Scroll, if needed, so `tick` is in view (page by page: it lands `margin` of the
        view's width from the left)."""
        if self.in_view(tick):
            return
        t0, t1 = self._mapping.visible_ticks(self._viewport.width())
        self._mapping.left_tick = tick - margin * (t1 - t0)
        self.refresh()

    def view_state(self) -> dict:
        """Zoom and scroll, to restore with `restore_view_state` (autosaved sessions)."""
        m = self._mapping
        return {
            "pixels_per_tick": m.pixels_per_tick,
            "key_height": m.key_height,
            "left_tick": m.left_tick,
            "top_pitch": m.top_pitch,
        }

    def restore_view_state(self, state: dict) -> None:
        """Zoom and scroll as `view_state` gave them (once laid out, if not yet); numbers that
        are missing or not finite are left alone, and every value is clamped as usual."""
        self._restore = {
            k: float(v)
            for k, v in state.items()
            if k in VIEW_STATE_KEYS and isinstance(v, (int, float)) and math.isfinite(v)
        }
        if not self._restore:
            return
        self.pending = "state"
        if self._laid_out():
            self._apply_restore()

    def _apply_restore(self) -> None:
        self.pending = None
        for name in VIEW_STATE_KEYS:
            if name in self._restore:
                setattr(self._mapping, name, self._restore[name])
        self.refresh()

    def fit_pitch_range(self) -> None:
        """Fit the notes' pitch range to the height, keeping the time zoom and scroll."""
        if self._laid_out():
            self._fit_pitches(HOME_KEY_HEIGHT)
            self.refresh()

    def zoom_to_fit(self) -> None:
        """Zoom both ways so the whole piece (every note) is in view (once laid out, when
        called before the view was shown)."""
        m, self.pending = self._mapping, "fit"
        if not self._laid_out():
            return  # resizeEvent comes back here
        self.pending = None
        end = self._model.end_tick or HOME_BARS * m.bar_ticks  # empty: the opening width
        m.fit_ticks(0, max(end, m.bar_ticks), self._viewport.width())
        self._fit_pitches(MAX_FIT_KEY_HEIGHT)
        self.refresh()

    def show_opening(self) -> None:
        """The view a piece opens with (a generated or continued piece once it is written, as
        an opened file)."""
        self.home()

    def home(self) -> None:
        """The opening view: the start of the piece, the whole of it when short (HOME_BARS when
        long or empty), its pitch range filling the height."""
        m, width, self.pending = self._mapping, self._viewport.width(), "home"
        if not self._laid_out():
            return  # resizeEvent comes back here
        self.pending = None
        bars = self._model.end_tick / m.bar_ticks
        bars = max(bars, 1) if 0 < bars <= 2 * HOME_BARS else HOME_BARS
        m.fit_ticks(0, bars * m.bar_ticks, width)
        self._fit_pitches(HOME_KEY_HEIGHT)
        self.refresh()

    def _fit_pitches(self, max_key_height: float) -> None:
        """Show the notes' pitch range, two semitones to spare (middle octaves if no notes)."""
        low, high = self._model.pitch_range() or (48, 83)
        low, high = max(low - 2, 0), min(high + 2, HIGHEST_PITCH)
        self._mapping.fit_pitches(low, high, self._viewport.height(), max_key_height)
