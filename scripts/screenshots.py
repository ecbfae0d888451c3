"""Screenshots of the real app for the README: train on the Bach chorales, generate, edit,
regenerate some bars, add a part, show a song's tracks, steer, grab.

    python scripts/screenshots.py [--run RUN] [--steps 300] [--out docs/screenshots]

Runs offscreen unless a display is set (under Xvfb: `xvfb-run python scripts/screenshots.py`).
Without --run it fine-tunes the base model for --steps steps first (about a minute on two cores),
in a data folder of its own, so nothing of the user's is touched.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "bach_chorales"


def settle(app, seconds: float = 0.5) -> None:
    """Let the window finish what it does after a change (note counts follow on a timer)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def wait_until(app, condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="an existing run folder to generate with")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    os.environ.setdefault("COMPOSER_DATA_DIR", tempfile.mkdtemp(prefix="composer-screens-"))

    from composer.app.main import create_app
    from composer.app.window import MainWindow

    app = create_app()
    window = MainWindow()
    window.tell = lambda text: print(text, file=sys.stderr)
    window.resize(1600, 940)
    window.show()
    args.out.mkdir(parents=True, exist_ok=True)

    window.library.open_folder(CORPUS)
    wait_until(app, lambda: window.training.start_button.isEnabled(), 300)
    if args.run is None:  # fine-tune the base model (the suggestion for 348 files) for --steps
        window.training.length.set_unit("steps")
        window.training.steps.setValue(args.steps)
        window.training.context.setChecked(True)  # it hears the parts it plays along with
        window.learning.start_training()
        wait_until(app, lambda: not window.training.is_running, 3600)
        run = window.training.run_dir
    else:
        run = args.run
        window.generation.refresh_models()
        window.generation.model.insertItem(0, run.name, str(run))
        window.generation.model.setCurrentIndex(0)
    window.docks["training"].raise_()
    window.grab().save(str(args.out / "training.png"))

    panel = window.generation
    panel.random_seed.setChecked(False)
    panel.seed.setValue(7)
    panel.seconds.setValue(40)
    panel.variations.setValue(3)
    panel.temperature.setValue(90)
    window.generating.generate()
    wait_until(app, lambda: not panel.is_running, 600)
    model, view = window.pieces.variations[0]
    view.framing.zoom_to_fit()
    beat = model.ticks_per_beat
    view.set_selection(8 * beat, 16 * beat)
    app.processEvents()
    window.grab().save(str(args.out / "generate.png"))
    view.grab().save(str(args.out / "piano-roll.png"))
    edit(app, window, args.out)
    regenerate(app, window, args.out)
    add_part(app, window, args.out)
    tracks(app, window, args.out)
    steer(app, panel, args.out)

    from composer.app.about_dialog import AboutDialog

    about = AboutDialog(window)
    about.show()
    app.processEvents()
    about.grab().save(str(args.out / "about.png"))
    about.close()
    print(f"screenshots in {args.out} (run: {run})")
    window.close_keeping_session()  # its own data folder: nothing to ask about
    return 0


def regenerate(app, window, out: Path) -> None:
    """Regenerate bars 5-6 of the second variation (Music > Regenerate selection), show the
    second alternative, grab the window, and restore the original."""
    window.documents.tabs.setCurrentIndex(window.documents.tabs.currentIndex() + 1)
    editor = window.documents.current_editor()
    view, beat = editor.view, editor.document.model.ticks_per_beat
    view.mapping.fit_ticks(0, 40 * beat, view.viewport().width())
    view.framing.fit_pitch_range()
    view.set_selection(16 * beat, 24 * beat)
    app.processEvents()
    window.regenerating.regenerate_selection()
    wait_until(
        app, lambda: getattr(window.regenerating.regeneration, "state", None) == "choosing", 300
    )
    window.regenerating.next_alternative()
    app.processEvents()
    window.grab().save(str(out / "regenerate.png"))
    window.regenerating.restore_original()
    app.processEvents()


def add_part(app, window, out: Path) -> None:
    """Add a cello part to bars 1-4 of a chorale (Music > Add a part), grab the dialog and the
    window with the second alternative, and restore the original."""
    from composer.core.midi.timeline import Timeline

    chorale = sorted(CORPUS.glob("*.mid"))[3]
    window.pieces.open_midi_file(chorale)
    editor = window.documents.current_editor()
    view, model = editor.view, editor.document.model
    timeline = Timeline(model.ticks_per_beat, model.tempos, model.time_signatures)
    view.mapping.fit_ticks(0, timeline.tick_of(7), view.viewport().width())
    view.framing.fit_pitch_range()
    view.set_selection(0, timeline.tick_of(5))
    app.processEvents()
    window.regenerating.add_part()
    dialog = window.regenerating.part_dialog
    dialog.select(42)  # Cello
    settle(app)
    dialog.grab().save(str(out / "add-part-dialog.png"))
    dialog.accept()
    wait_until(
        app, lambda: getattr(window.regenerating.regeneration, "state", None) == "choosing", 300
    )
    window.regenerating.next_alternative()
    settle(app)
    window.grab().save(str(out / "add-part.png"))
    window.regenerating.restore_original()
    app.processEvents()


def tracks(app, window, out: Path) -> None:
    """A POP909 song in the Tracks panel: its three tracks (all piano), the bridge muted and
    drawn faded, the melody the active track with its notes selected."""
    song = ROOT.parent / "shared" / "corpora" / "pop909" / "001.mid"
    window.pieces.open_midi_file(song)
    editor = window.documents.current_editor()
    view, document = editor.view, editor.document
    panel = window.tracks
    panel.set_box(1, "muted", True)
    document.set_active_track(0)
    window.editing.select_all_notes()
    view.mapping.fit_ticks(0, 16 * 4 * document.model.ticks_per_beat, view.viewport().width())
    view.framing.fit_pitch_range()
    settle(app)
    window.grab().save(str(out / "tracks.png"))


def steer(app, panel, out: Path) -> None:
    """The Generate panel with Steer open and set as a musician might."""
    s = panel.steering
    s.setChecked(True)
    s.tonic.setCurrentText("D")
    s.scale.setCurrentIndex(s.scale.findData("minor"))
    s.lowest.setValue(48)
    s.highest.setValue(84)
    s.instrument_ranges.setText("40=G3-E7")
    s.polyphony.setValue(3)
    s.programs.setText("0, 40")
    s.drums.setChecked(False)
    s.tempo.setValue(96)
    s.grid.setCurrentIndex(s.grid.findData("1/16"))
    s.density.setValue(2.0)
    app.processEvents()
    panel.grab().save(str(out / "steer.png"))
    s.setChecked(False)


def edit(app, window, out: Path) -> None:
    """Edit the first variation as a person would (a rubber band, a drag, a velocity stroke,
    a click on the ruler) and grab the window and the editor."""
    from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    def drag(widget, start: QPoint, end: QPoint, release: bool = True) -> None:
        QTest.mousePress(widget, Qt.LeftButton, Qt.NoModifier, start)
        for i in range(1, 9):
            pos = QPointF(start + (end - start) * i / 8)
            event = QMouseEvent(
                QEvent.MouseMove, pos, widget.mapToGlobal(pos), Qt.NoButton, Qt.LeftButton,
                Qt.NoModifier,
            )  # fmt: skip
            QApplication.sendEvent(widget, event)
            app.processEvents()
        if release:
            QTest.mouseRelease(widget, Qt.LeftButton, Qt.NoModifier, end)

    window.docks["history"].show()
    editor = window.documents.current_editor()
    view, lane, m = editor.view, editor.lane, editor.view.mapping
    beat = editor.document.model.ticks_per_beat
    m.fit_ticks(0, 16 * beat, view.viewport().width())
    view.framing.fit_pitch_range()
    app.processEvents()
    ruler = QPoint(round(m.tick_to_x(6 * beat)), m.ruler_height // 2)
    QTest.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, ruler)  # the playhead
    high, low = view.mapping.visible_pitches(view.viewport().height())[::-1]
    middle = (high + low) // 2
    band = (QPoint(round(m.tick_to_x(8 * beat)) + 3, round(m.pitch_to_y(high - 1))),
            QPoint(round(m.tick_to_x(12 * beat)) - 3, round(m.pitch_to_y(middle))))  # fmt: skip
    drag(view.viewport(), *band)
    y = round(lane.velocity_to_y(50))
    drag(
        lane, QPoint(round(m.tick_to_x(8 * beat)), y), QPoint(round(m.tick_to_x(10 * beat)), y + 20)
    )
    chosen = editor.document.model.selected_indices()
    if len(chosen):
        note = editor.document.model.notes[chosen[0]]
        grab = QPoint(round(m.tick_to_x(int(note["start"]))) + 3,
                      round(m.pitch_to_y(int(note["pitch"])) + m.key_height / 2))  # fmt: skip
        drag(
            view.viewport(),
            grab,
            grab + QPoint(round(beat * m.pixels_per_tick), -round(2 * m.key_height)),
            release=False,
        )
    app.processEvents()
    window.grab().save(str(out / "editing.png"))
    editor.grab().save(str(out / "velocity-lane.png"))


if __name__ == "__main__":
    sys.exit(main())
