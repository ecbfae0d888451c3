"""The piano roll: the tick/pitch mapping, the note model, and the view as a user drives it."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPalette, QWheelEvent
from PySide6.QtWidgets import QApplication

from composer.app.pianoroll import NOTE_FIELDS, NoteModel, PianoRollView, RollMapping
from composer.app.pianoroll.mapping import MAX_KEY_HEIGHT, MIN_GRID_GAP_PX, MIN_KEY_HEIGHT
from composer.app.piece.notes import INSTRUMENT_FIELDS
from composer.core.midi import read_midi
from tests.conftest import corpus_file

DTYPE = np.dtype(NOTE_FIELDS)


def random_notes(count: int, seed: int = 0, span: int = 200_000) -> np.ndarray:
    """Random notes: some of zero length, a few very long, pitches all over."""
    rng = np.random.default_rng(seed)
    notes = np.zeros(count, DTYPE)
    notes["start"] = rng.integers(0, span, count)
    length = rng.choice([0, 30, 240, 480, 1920], count, p=[0.05, 0.3, 0.4, 0.2, 0.05])
    notes["end"] = notes["start"] + length
    notes["pitch"] = rng.integers(0, 128, count)
    notes["velocity"] = rng.integers(1, 128, count)
    notes["program"] = rng.integers(0, 128, count)
    notes["drum"] = rng.random(count) < 0.1
    return notes


def canonical(notes: np.ndarray) -> list[tuple]:
    """Notes as a sorted list of tuples: order-free comparison (without the track, which the
    model gives notes that come without one: test_tracks.py tests it)."""
    return sorted(notes[list(INSTRUMENT_FIELDS)].tolist())


# --- RollMapping --------------------------------------------------------------------------------


def test_ticks_and_pitches_round_trip_through_pixels():
    m = RollMapping(480, pixels_per_tick=0.1, key_height=10, left_tick=960, top_pitch=80.5)
    ticks = np.array([960.0, 1000.0, 12345.5])
    assert np.allclose(m.x_to_tick(m.tick_to_x(ticks)), ticks)
    assert m.tick_to_x(960) == m.keyboard_width  # the left edge of the notes area
    pitches = np.arange(0, 128)
    assert np.allclose(m.y_to_pitch(m.pitch_to_y(pitches)), pitches)
    # The row of pitch 70 runs from its top edge down key_height pixels.
    top = m.pitch_to_y(70)
    assert m.pitch_at(top + 0.5) == 70
    assert m.pitch_at(top + m.key_height - 0.5) == 70
    assert m.pitch_at(top + m.key_height + 0.5) == 69


@pytest.mark.parametrize("factor", [0.5, 0.8, 1.3, 4.0])
@pytest.mark.parametrize("anchor", [56.0, 300.0, 1234.5])
def test_zoom_keeps_the_tick_and_pitch_under_the_pointer(factor, anchor):
    m = RollMapping(480, left_tick=100_000, top_pitch=100, view_height=500)
    tick = m.x_to_tick(anchor)
    m.zoom_x(factor, anchor)
    assert m.x_to_tick(anchor) == pytest.approx(tick)
    y = 24 + anchor / 4  # inside the notes area
    pitch = m.y_to_pitch(y)
    m.zoom_y(factor, y)
    assert m.y_to_pitch(y) == pytest.approx(pitch)


def test_scroll_and_zoom_are_clamped():
    m = RollMapping(480, view_height=24 + 600)
    m.left_tick = -50
    assert m.left_tick == 0
    m.zoom_x(0.5, 800)  # zooming out near the start would scroll before tick 0
    assert m.left_tick == 0
    low, high = m.zoom_x_limits()
    m.pixels_per_tick = 1e9
    assert m.pixels_per_tick == high
    m.zoom_x(1e-9, 300)
    assert m.pixels_per_tick == low
    m.key_height = 1000
    assert m.key_height == MAX_KEY_HEIGHT
    m.key_height = 0.01
    assert m.key_height == MIN_KEY_HEIGHT
    m.key_height = 10
    m.top_pitch = 500
    assert m.top_pitch == 127
    m.top_pitch = -40  # no empty space may show below pitch 0
    assert m.pitch_to_y(-1) == pytest.approx(m.view_height)
    assert m.visible_pitches(m.view_height) == (0, 59)


def test_visible_ranges_cover_exactly_what_is_on_screen():
    m = RollMapping(480, pixels_per_tick=0.05, key_height=12, left_tick=4800, top_pitch=72.5)
    width, height = 1000, 24 + 12 * 20
    t0, t1 = m.visible_ticks(width)
    assert (t0, m.tick_to_x(t1)) == (4800, pytest.approx(width))
    low, high = m.visible_pitches(height)
    assert high == 73  # the lower half of row 73 peeks in at the top
    assert m.pitch_to_y(high) < m.ruler_height < m.pitch_to_y(high - 1)
    assert m.pitch_to_y(low) < height <= m.pitch_to_y(low - 1)


@pytest.mark.parametrize("meter", [(4, 4), (3, 4), (6, 8), (7, 8)])
def test_grid_lines_are_never_closer_than_the_minimum_gap(meter):
    m = RollMapping(480)
    m.set_meter(*meter)
    low, high = m.zoom_x_limits()
    for ppt in np.geomspace(low, high, 60):
        m.pixels_per_tick = ppt
        m.left_tick = 123_457
        t0, t1 = m.visible_ticks(1600)
        grid = m.grid_lines(t0, t1)
        lines = np.sort(np.concatenate([grid.bars, grid.beats, grid.subdivisions]))
        assert len(lines) >= 1 or t1 - t0 < grid.step_ticks
        assert np.all(np.diff(lines) * ppt >= MIN_GRID_GAP_PX - 1e-9)
        assert np.all((lines >= t0) & (lines <= t1))
        # Bar lines fall on bars, every bar_step-th one when zoomed out.
        bars = grid.bars / (m.bar_ticks * grid.bar_step)
        assert np.allclose(bars, np.round(bars))
        if m.beat_ticks * ppt >= MIN_GRID_GAP_PX:  # beats (or finer) shown once they fit
            assert grid.bar_step == 1 and grid.step_ticks <= m.beat_ticks
        else:
            assert len(grid.beats) == 0 and grid.bar_step & (grid.bar_step - 1) == 0


def test_bar_length_follows_the_time_signature():
    m = RollMapping(480)
    m.set_meter(6, 8)
    assert (m.beat_ticks, m.bar_ticks) == (240, 1440)
    m.set_meter(3, 4)
    assert m.bar_ticks == 1440
    m.pixels_per_tick = 60 / 480  # 60 px a beat: beats and eighths, no sixteenths
    grid = m.grid_lines(0, 2880)
    assert grid.bars.tolist() == [0, 1440, 2880]
    assert grid.beats.tolist() == [480, 960, 1920, 2400]
    assert grid.subdivisions.tolist() == [240, 720, 1200, 1680, 2160, 2640]
    assert m.snap_tick(500) == 480


# --- NoteModel ----------------------------------------------------------------------------------


def test_set_piece_shows_every_note_of_a_real_piece(qtbot):
    piece = read_midi(
        corpus_file("library_testdata", "note_seq/note_seq/testdata/example_complex.mid")
    )
    model = NoteModel()
    with qtbot.waitSignal(model.changed):
        model.set_piece(piece)
    assert len(model) == piece.note_count
    assert model.end_tick == piece.end_tick and model.ticks_per_beat == piece.ticks_per_beat
    for track in piece.tracks:
        notes = model.notes
        mine = notes[(notes["program"] == track.program) & (notes["drum"] == track.is_drum)]
        assert set(map(tuple, track.notes.tolist())) <= {tuple(n)[:4] for n in mine.tolist()}
    assert model.notes["drum"].any()
    # Back to a Piece: one track per instrument, the same notes, tempo map and meter.
    again = model.to_piece()
    assert again.note_count == piece.note_count and again.ticks_per_beat == piece.ticks_per_beat
    assert np.array_equal(again.tempos, piece.tempos)
    reloaded = NoteModel()
    reloaded.set_piece(again)
    assert canonical(reloaded.notes) == canonical(model.notes)


def test_appending_in_chunks_equals_setting_at_once(qtbot):
    notes = random_notes(5000)
    whole = NoteModel()
    whole.set_notes(notes, 480)
    streamed = NoteModel()
    added = []
    streamed.notes_added.connect(lambda first, count: added.append((first, count)))
    rng = np.random.default_rng(1)
    bounds = np.sort(rng.choice(np.arange(1, len(notes)), 40, replace=False))
    for chunk in np.split(notes, bounds):  # out of start order: the model must cope
        streamed.append([tuple(row)[:6] for row in chunk.tolist()])  # as a generation sends
    assert [first for first, _ in added] == [0, *bounds.tolist()]
    assert sum(count for _, count in added) == len(notes)
    assert canonical(streamed.notes) == canonical(whole.notes)
    for model in (streamed, whole):  # each note in a track of its instrument
        tracks = model.tracks
        programs = np.array([t.program for t in tracks])[model.notes["track"]]
        drums = np.array([t.drum for t in tracks])[model.notes["track"]]
        assert (programs == model.notes["program"]).all() and (drums == model.notes["drum"]).all()
    assert streamed.end_tick == whole.end_tick
    assert np.array_equal(streamed.sorted_notes()["start"], whole.sorted_notes()["start"])
    for window in [(0, 10_000, 0, 127), (50_000, 52_000, 40, 80), (199_000, 300_000, 0, 127)]:
        assert canonical(streamed.visible(*window)) == canonical(whole.visible(*window))
    with qtbot.waitSignal(streamed.changed):
        streamed.clear()
    assert len(streamed) == 0 and streamed.end_tick == 0 and len(streamed.visible(0, 1e9)) == 0


@pytest.mark.parametrize("streamed", [False, True])
def test_visible_returns_exactly_the_notes_overlapping_a_window(streamed):
    notes = random_notes(20_000, seed=2)
    model = NoteModel()
    if streamed:
        for chunk in np.array_split(notes, 7):
            model.append(chunk)
    else:
        model.set_notes(notes, 480)
    rng = np.random.default_rng(3)
    for _ in range(200):
        t0 = rng.uniform(-1000, 210_000)
        t1 = t0 + rng.choice([1, 100, 5000, 300_000])
        low = int(rng.integers(0, 128))
        high = int(rng.integers(low, 128))
        end = np.maximum(notes["end"], notes["start"] + 1)  # zero-length notes last a tick
        brute = notes[
            (notes["start"] < t1) & (end > t0) & (notes["pitch"] >= low) & (notes["pitch"] <= high)
        ]
        found = model.visible(t0, t1, low, high)
        assert canonical(found) == canonical(brute)
        assert np.all(np.diff(found["start"]) >= 0)  # sorted by start


# --- PianoRollView ------------------------------------------------------------------------------


def shown_view(qtbot, notes: np.ndarray, width: int, height: int) -> PianoRollView:
    model = NoteModel()
    model.set_notes(notes, 480)
    widget = PianoRollView(model)
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def view(qtbot):
    return shown_view(qtbot, random_notes(3000, span=480 * 4 * 64), 1000, 600)


def wheel(view: PianoRollView, x: float, y: float, notches: float, modifiers=Qt.NoModifier):
    event = QWheelEvent(
        QPointF(x, y), view.viewport().mapToGlobal(QPointF(x, y)), QPoint(0, 0),
        QPoint(0, int(120 * notches)), Qt.NoButton, modifiers, Qt.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(view.viewport(), event)


def test_the_view_opens_on_the_piece_and_follows_resizes(view, qtbot):
    m = view.mapping
    assert m.view_height == view.viewport().height()
    low, high = view.model.pitch_range()
    assert m.visible_pitches(view.viewport().height()) == (max(low - 2, 0), min(high + 2, 127))
    assert view.horizontalScrollBar().maximum() > 0  # 64 bars do not fit: it scrolls
    view.resize(1400, 800)
    qtbot.waitUntil(lambda: m.view_height == view.viewport().height())
    image = view.grab()
    assert image.width() == 1400 and view.render_count >= 1


def test_ctrl_wheel_zooms_time_around_the_pointer(view):
    m = view.mapping
    m.left_tick = 20_000
    x, y = 600.0, 300.0
    tick, ppt, top = m.x_to_tick(x), m.pixels_per_tick, m.top_pitch
    wheel(view, x, y, 1, Qt.ControlModifier)
    assert m.pixels_per_tick > ppt
    assert m.x_to_tick(x) == pytest.approx(tick)
    assert m.top_pitch == top  # pitch untouched
    wheel(view, x, y, -2, Qt.ControlModifier)
    assert m.pixels_per_tick < ppt and m.x_to_tick(x) == pytest.approx(tick)


def test_other_wheels_zoom_pitch_and_scroll(view):
    m = view.mapping
    m.key_height, m.top_pitch, m.left_tick = 8, 90, 20_000
    ppt, left, key, pitch = m.pixels_per_tick, m.left_tick, m.key_height, m.y_to_pitch(300)
    wheel(view, 500, 300, 1, Qt.ControlModifier | Qt.ShiftModifier)
    assert m.key_height > key and m.y_to_pitch(300) == pytest.approx(pitch)
    assert m.pixels_per_tick == ppt
    key = m.key_height
    wheel(view, 500, 300, -1, Qt.AltModifier)
    assert m.key_height < key
    top = m.top_pitch
    wheel(view, 500, 300, -1)  # wheel down: lower pitches
    assert m.top_pitch < top and m.left_tick == left
    wheel(view, 500, 300, -1, Qt.ShiftModifier)  # shift: later in time
    assert m.left_tick > left


def test_plus_and_minus_keys_zoom_time(view, qtbot):
    ppt = view.mapping.pixels_per_tick
    qtbot.keyClick(view, Qt.Key_Plus)
    assert view.mapping.pixels_per_tick == pytest.approx(ppt * 1.25)
    qtbot.keyClick(view, Qt.Key_Minus)
    qtbot.keyClick(view, Qt.Key_Minus)
    assert view.mapping.pixels_per_tick == pytest.approx(ppt / 1.25)


def test_dragging_on_the_ruler_selects_a_time_range(view, qtbot):
    m = view.mapping
    m.pixels_per_tick = 60 / 480  # 60 px a beat
    view.refresh()
    beat = m.ticks_per_beat
    a, b = (
        QPoint(round(m.tick_to_x(2 * beat)) + 3, 10),
        QPoint(round(m.tick_to_x(9 * beat)) - 4, 10),
    )
    viewport = view.viewport()
    with qtbot.waitSignal(view.selection_changed) as signal:
        qtbot.mousePress(viewport, Qt.LeftButton, pos=b)
        qtbot.mouseMove(viewport, a)
        qtbot.mouseRelease(viewport, Qt.LeftButton, pos=a)
    assert signal.args == [2 * beat, 9 * beat]  # snapped to beats, start before end
    assert view.selection() == (2 * beat, 9 * beat)
    with qtbot.waitSignal(view.selection_changed) as signal:
        qtbot.mouseClick(viewport, Qt.LeftButton, pos=a)  # a click clears it
    assert signal.args == [0, 0] and view.selection() is None
    # Dragging among the notes (not on the ruler) selects nothing.
    qtbot.mousePress(viewport, Qt.LeftButton, pos=QPoint(a.x(), 300))
    qtbot.mouseMove(viewport, QPoint(b.x(), 300))
    qtbot.mouseRelease(viewport, Qt.LeftButton, pos=QPoint(b.x(), 300))
    assert view.selection() is None


class PaintSpy(QObject):
    """Records the regions of the paint events a widget receives."""

    def __init__(self, widget):
        super().__init__()
        self.regions = []
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Paint:
            self.regions.append([r for r in event.region()])
        return False


def test_moving_the_playhead_repaints_the_overlay_not_the_notes(view, qtbot):
    view.set_playhead(480)
    view.repaint()
    renders, overlay_paints = view.render_count, view.overlay.paint_count
    spy = PaintSpy(view.viewport())
    for tick in range(960, 960 * 20, 960):
        view.set_playhead(tick)
        QApplication.processEvents()  # paint what the move asked for
    assert view.overlay.paint_count > overlay_paints
    assert view.render_count == renders  # no note was drawn again
    # What the view repainted at all is the thin strips the line left and entered, from cache.
    assert spy.regions
    assert all(sum(r.width() for r in rects) <= 2 * 16 for rects in spy.regions)
    image = view.viewport().grab().toImage()
    x = int(view.mapping.tick_to_x(view.playhead()))
    assert image.pixel(x, 300) == view.colors().playhead.rgb()


def test_zoom_to_fit_and_follow_show_the_notes(view):
    view.framing.zoom_to_fit()
    m, model = view.mapping, view.model
    t0, t1 = m.visible_ticks(view.viewport().width())
    low, high = m.visible_pitches(view.viewport().height())
    pitches = model.pitch_range()
    assert t0 == 0 and t1 >= model.end_tick and low <= pitches[0] and high >= pitches[1]
    m.pixels_per_tick = 0.1
    m.left_tick = 0
    view.refresh()
    end = model.end_tick
    model.append([(end + 10_000, end + 10_480, 60, 100, 0, False)])
    assert m.left_tick == 0  # not following: the view stays
    view.set_follow(True)
    model.append([(end + 20_000, end + 20_480, 60, 100, 0, False)])
    t0, t1 = m.visible_ticks(view.viewport().width())
    assert t0 <= end + 20_480 <= t1
    left = m.left_tick
    model.set_notes(model.notes.copy(), 480)  # the stream's final version keeps the view
    assert m.left_tick == left and m.pixels_per_tick == 0.1
    view.set_playhead(0)  # following applies to the playhead too
    assert m.visible_ticks(view.viewport().width())[0] == 0


def test_zoom_to_fit_before_the_view_is_shown_applies_when_it_is(qtbot):
    model = NoteModel()
    view = PianoRollView(model)
    qtbot.addWidget(view)
    model.set_notes(random_notes(500, span=480 * 4 * 200), 480)  # 200 bars: opens on 16
    view.framing.zoom_to_fit()
    view.resize(900, 500)
    view.show()
    qtbot.waitExposed(view)
    assert view.mapping.visible_ticks(view.viewport().width())[1] >= model.end_tick


def note_pixel(view, note) -> int:
    """0xAARRGGBB of the view's pixel a little inside the start of `note`."""
    m = view.mapping
    image = view.viewport().grab().toImage()
    x = m.tick_to_x(note["start"]) + 1
    return image.pixel(int(x), int(m.pitch_to_y(note["pitch"]) + m.key_height / 2))


def test_notes_are_drawn_where_they_are_in_their_colours(qtbot):
    """A lone string note among 50,000 piano notes shows up green, at any zoom; drums are
    diamonds at their onset, not bars."""
    notes = random_notes(50_000, seed=4, span=480 * 4 * 700)
    notes["program"], notes["drum"], notes["velocity"] = 0, False, 127
    notes["pitch"] = np.clip(notes["pitch"], 30, 90)
    strings = np.array([(480 * 4 * 300, 480 * 4 * 302, 110, 127, 40, False, -1)], DTYPE)
    drum = np.array([(480 * 4 * 310, 480 * 4 * 340, 100, 127, 0, True, -1)], DTYPE)
    view = shown_view(qtbot, np.concatenate([notes, strings, drum]), 1600, 900)
    colors = view.colors()
    green, drum_color = colors.notes[40 // 8][3].rgb(), colors.notes[16][3].rgb()
    for zoom in ("fit", "close"):
        if zoom == "fit":
            view.framing.zoom_to_fit()  # all 50,002 notes in view
        else:
            view.mapping.left_tick = 480 * 4 * 299
            view.mapping.top_pitch = 112
            view.refresh()
        assert note_pixel(view, strings[0]) == green
    m = view.mapping
    m.left_tick = 480 * 4 * 309
    view.refresh()
    drum_x = m.tick_to_x(drum[0]["start"])
    image = view.viewport().grab().toImage()
    y = int(m.pitch_to_y(100) + m.key_height / 2)
    assert image.pixel(int(drum_x + m.key_height / 2), y) == drum_color
    assert image.pixel(int(drum_x + 10 * m.key_height), y) != drum_color


def test_streamed_notes_appear_and_off_screen_ones_cost_no_repaint(view, qtbot):
    m, viewport = view.mapping, view.viewport()
    t0, t1 = m.visible_ticks(viewport.width())
    pitch = m.visible_pitches(viewport.height())[1] - 3
    viewport.repaint()
    renders = view.render_count
    view.model.append([(int(t1) + 50_000, int(t1) + 50_480, pitch, 127, 40, False)])
    viewport.repaint()
    assert view.render_count == renders  # beyond the right edge: nothing to draw
    note = np.array([(int(t0) + 100, int(t0) + 2000, pitch, 127, 40, False, -1)], DTYPE)[0]
    view.model.append([tuple(note.tolist())])
    assert note_pixel(view, note) == view.colors().notes[40 // 8][3].rgb()


def test_colours_follow_the_palette(view):
    """A dark palette gives a dark roll, a light one a light roll."""
    lightness = []
    m = view.mapping
    for base, text in [((25, 25, 28), (230, 230, 230)), ((255, 255, 255), (0, 0, 0))]:
        palette = QPalette(view.palette())
        palette.setColor(QPalette.Base, QColor(*base))
        palette.setColor(QPalette.Text, QColor(*text))
        view.setPalette(palette)
        image = view.viewport().grab().toImage().convertToFormat(QImage.Format_Grayscale8)
        pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
        lightness.append(np.median(pixels[m.ruler_height :, m.keyboard_width : image.width()]))
    assert lightness[0] < 60 and lightness[1] > 200
