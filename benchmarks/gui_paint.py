"""Piano roll paint time: PianoRollView against a naive paint of the same view, in one run.

Baseline ("naive"): the same widget, but its notes layer draws ALL notes of the piece, one
`QPainter.drawRect` per note, the way a first piano roll usually does. Ours: only the notes in
view, batched into one `drawRects` per colour straight from NumPy. Both render offscreen into a
QImage through `QWidget.render`, with the cached image dropped before every repeat so each
measures a full repaint (as after a scroll or zoom), after one warm-up. 50,000 random notes of
ten instruments and drums over ~700 bars; a 1600x900 view showing ~8 bars and ~3 octaves; then
the whole piece at once.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_paint.py [--notes 50000] [--repeats 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QRectF, Qt  # noqa: E402
from PySide6.QtGui import QImage, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from composer.app.pianoroll import NoteModel, PianoRollView, draw_notes, render  # noqa: E402
from composer.app.piece.notes import ROLL_DTYPE  # noqa: E402

TICKS_PER_BEAT = 480
SIZE = (1600, 900)


def random_notes(count: int, seed: int = 0) -> np.ndarray:
    """`count` notes, ~70 a bar: ten pitched instruments around middle C, plus drums."""
    rng = np.random.default_rng(seed)
    notes = np.empty(count, ROLL_DTYPE)
    bars = count / 70
    notes["start"] = np.sort(rng.integers(0, int(bars * 4 * TICKS_PER_BEAT), count))
    notes["end"] = notes["start"] + rng.choice([120, 240, 480, 960], count)
    notes["program"] = rng.choice([0, 24, 33, 40, 48, 56, 65, 73, 81, 89], count)
    notes["drum"] = rng.random(count) < 0.15
    notes["pitch"] = np.where(
        notes["drum"],
        rng.choice([36, 38, 42, 46, 49], count),
        rng.normal(62, 9, count).clip(21, 108),
    )
    notes["velocity"] = rng.integers(30, 127, count)
    return notes


class NaiveRollView(PianoRollView):
    """The baseline: every note of the piece, one drawRect each, whether in view or not."""

    def _render(self, width: int, height: int, ratio: float) -> QImage:
        image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
        m, colors = self.mapping, self.colors()
        painter = QPainter(image)
        render.paint_background(painter, m, width, height, colors)
        render.paint_grid(painter, m, width, height, colors)
        notes = self.model.notes
        groups = draw_notes.note_groups(notes)
        painter.setPen(Qt.PenStyle.NoPen)
        for note, group in zip(notes.tolist(), groups.tolist()):
            start, end, pitch = note[0], note[1], note[2]
            width_px = max((end - start) * m.pixels_per_tick, 1)
            painter.setBrush(colors.notes[group // 4][group % 4])
            painter.drawRect(
                QRectF(m.tick_to_x(start), m.pitch_to_y(pitch), width_px, m.key_height - 1)
            )
        render.paint_keyboard(painter, m, height, colors)
        render.paint_ruler(painter, m, width, colors)
        painter.end()
        return image


def _median_ms(widget, repeats: int, view: PianoRollView, full: bool = True) -> float:
    """Median ms of `widget.render` into an image; `full` drops the view's cached image first,
    so every repeat paints everything (else it measures the blit a playhead move costs)."""
    target = QImage(widget.size(), QImage.Format.Format_ARGB32_Premultiplied)
    times = []
    for _ in range(repeats + 1):  # the first is the warm-up
        if full:
            view.redraw()
        started = time.perf_counter()
        widget.render(target)
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:]) * 1000


def _view(cls, notes: np.ndarray) -> PianoRollView:
    model = NoteModel()
    model.set_notes(notes, TICKS_PER_BEAT)
    view = cls(model)
    view.resize(*SIZE)
    view.show()
    QApplication.processEvents()
    # ~8 bars of 4/4 across and ~3 octaves (36 rows) down, in the middle of the piece.
    m = view.mapping
    area_width = view.viewport().width() - m.keyboard_width
    m.pixels_per_tick = area_width / (8 * m.bar_ticks)
    m.key_height = (view.viewport().height() - m.ruler_height) / 36
    m.left_tick = model.end_tick / 2
    m.top_pitch = 80
    view.refresh()
    return view


def paint_time_ms(notes: int = 50_000, repeats: int = 20) -> dict:
    """Median milliseconds of one full paint. `*_ms`: the whole widget (frame, scroll bars and
    playhead layer included); `*_roll_ms`: the roll alone (its viewport). At a typical zoom for
    ours and the naive baseline, then ours with the whole piece in view, and a repaint that only
    blits the cached image."""
    QApplication.instance() or QApplication([])
    rows = random_notes(notes)
    ours, naive = _view(PianoRollView, rows), _view(NaiveRollView, rows)
    m, width, height = ours.mapping, ours.viewport().width(), ours.viewport().height()
    t0, t1 = m.visible_ticks(width)
    result = {
        "notes": notes,
        "notes_in_view": len(ours.model.visible(t0, t1, *m.visible_pitches(height))),
        "ours_ms": _median_ms(ours, repeats, ours),
        "ours_roll_ms": _median_ms(ours.viewport(), repeats, ours),
        "naive_ms": _median_ms(naive, repeats, naive),
        "naive_roll_ms": _median_ms(naive.viewport(), repeats, naive),
        "cached_roll_ms": _median_ms(ours.viewport(), repeats, ours, full=False),
    }
    ours.framing.zoom_to_fit()
    result["whole_piece_ms"] = _median_ms(ours, repeats, ours)
    result["whole_piece_roll_ms"] = _median_ms(ours.viewport(), repeats, ours)
    result["speedup"] = result["naive_ms"] / result["ours_ms"]
    for view in (ours, naive):
        view.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    r = paint_time_ms(args.notes, args.repeats)
    size = f"{SIZE[0]}x{SIZE[1]}"
    print(
        f"piano roll full paint, {r['notes']:,} notes, {size} offscreen, median of {args.repeats}"
    )
    print(f"{'':40}{'widget':>10}{'roll only':>12}")
    print(f"~8 bars x 3 octaves ({r['notes_in_view']} notes in view)")
    row = "  {:38}{:7.2f} ms{:9.2f} ms"
    print(row.format("naive (drawRect per note, all notes)", r["naive_ms"], r["naive_roll_ms"]))
    print(row.format("PianoRollView", r["ours_ms"], r["ours_roll_ms"]), end="")
    print(f"   {r['speedup']:.0f}x faster than naive")
    print(f"whole piece in view ({r['notes']:,} notes)")
    print(row.format("PianoRollView", r["whole_piece_ms"], r["whole_piece_roll_ms"]))
    print(f"repaint from the cached image (playhead, selection): {r['cached_roll_ms']:.2f} ms")
    print(f"goal <= 16 ms per full paint: {'met' if r['ours_ms'] <= 16 else 'NOT met'}")


if __name__ == "__main__":
    main()
