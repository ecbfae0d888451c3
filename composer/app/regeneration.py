"""Regenerate selection and Add a part: new music for some bars of a piece, written in the
background by the core's SpanFiller or Accompaniment (with the model, sampling settings and
steering of the Generate panel), then auditioned in place, one alternative at a time, until the
musician keeps one (one undo step) or restores the original. How the notes change is
editing/alternatives.py's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from composer.app.editing.alternatives import Alternatives, bars_text, rows_in_span
from composer.app.workers import UserError, Worker, WorkerThreads

#: How many alternatives one Regenerate selection writes (seeds: the panel's seed, seed + 1...).
ALTERNATIVES = 4
NOT_BOTH_SIDES = (
    "This model was not trained to fill in, so the new bars follow from the music before only."
)
NOT_HEARING_PARTS = (
    "This model was not trained with --context, so what it writes hears the other parts only "
    "before and after the bars, not while it plays."
)


class RegenerationState(str, Enum):
    """Where one Regenerate selection is: WRITING -> CHOOSING -> ENDED (or WRITING -> ENDED)."""

    WRITING = "writing"  # the alternatives are being written in the background
    CHOOSING = "choosing"  # one alternative is in the piano roll, the musician steps through
    ENDED = "ended"  # kept, restored or failed: the document is free again


@dataclass(frozen=True)
class FillRequest:
    """What the background job needs; ticks [start, end) are whole bars `first`-`last`."""

    model_path: Path | None  # None: the bundled model
    piece: object  # the composer Piece, as it was when the musician asked
    start: int
    end: int
    first: int
    last: int
    sampling: object  # SamplingSettings (its `variations` alternatives)
    constraints: object  # the Steer box's Constraints
    detect: tuple[bool, bool]  # take the key, the density from the piece itself
    # Add a part: the new part's (General MIDI program, drums); None: regenerate the bars
    part: tuple[int, bool] | None = None
    # Regenerate: the indices into piece.tracks rewritten (the tracks ticked in the Tracks
    # panel), the others kept and heard; None: every track
    tracks: tuple[int, ...] | None = None

    @property
    def bars(self) -> str:
        return bars_text(self.first, self.last)

    @property
    def undo_text(self) -> str:
        """What the undo step of the alternative kept says."""
        if self.part is None and self.tracks is not None:
            return f"Regenerate {self.track_names} in {self.bars}"
        if self.part is None:
            return f"Regenerate {self.bars}"
        return f"Add {part_name(*self.part)} part in {self.bars}"

    @property
    def what(self) -> str:
        """What is being written, in words: "bars 3–4", "the Cello in bars 3–4", "Tenor and Bass
        in bars 3–4", "a Cello part in bars 3–4"."""
        if self.part is not None:
            return f"a {part_name(*self.part)} part in {self.bars}"
        if self.tracks is not None:
            return f"{self.track_names} in {self.bars}"
        return self.bars

    @property
    def track_names(self) -> str:
        """The tracks rewritten, in words ("Tenor and Bass", "the Cello": a track named for its
        instrument); "" for all."""
        if self.tracks is None:
            return ""
        names = []
        for track in (self.piece.tracks[i] for i in self.tracks):
            instrument = part_name(track.program, track.is_drum)
            name = track.name or instrument
            names.append(f"the {name}" if name in (instrument, track.label) else name)
        return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def part_name(program: int, drums: bool) -> str:
    """A new part's instrument in a musician's words: 'drums', 'Acoustic Bass'."""
    from composer.core.midi.piece import gm_program_name

    return "drums" if drums else gm_program_name(program)


class Regeneration(QObject):
    """One Regenerate selection on one document, in a RegenerationState. While it has not ended
    the document is busy (no edits, no closing).

    Signals: `state_changed()`; `shown(index)` when another alternative is in the piano roll;
    `status(sentence)` for the status bar; `failed(sentence)` when no alternative could be
    written; `text_changed(headline, hint)` for the bar above the piano roll."""

    state_changed = Signal()
    shown = Signal(int)
    status = Signal(str)
    failed = Signal(str)
    text_changed = Signal(str, str)

    def __init__(self, document, request: FillRequest, threads: WorkerThreads, parent=None):
        super().__init__(parent)
        self.document, self.request, self.threads = document, request, threads
        self.state = RegenerationState.WRITING
        self.both_sides = True
        self.hears_parts = True  # a model that hears the other parts inside the bars (Add a part)
        self.alternatives: Alternatives | None = None
        self.empty: frozenset[int] = frozenset()  # alternatives without a note in the span
        self.worker: Worker | None = None

    def start(self) -> None:
        request = self.request
        self.document.busy, self.document.regeneration = True, self
        self.worker = Worker(lambda worker: fill_job(worker, request), urgent=_is_start)
        self.worker.progress.connect(self._on_progress)
        self.worker.succeeded.connect(self._on_written)
        self.worker.failed.connect(self._on_failed)
        count = request.sampling.variations
        self.text_changed.emit(f"Writing {count} alternatives for {request.what}…", "Esc stops")
        self.threads.start(self.worker)

    # --- what the musician does -------------------------------------------------------------------
    def stop(self) -> None:
        """Stop writing: the alternatives finished by then are offered."""
        if self.worker is not None:
            self.worker.stop()

    def step(self, delta: int) -> None:
        """Show the next (+1) or previous (-1) alternative, round the ends."""
        if self.state == RegenerationState.CHOOSING:
            self._show((self.alternatives.shown + delta) % len(self.alternatives))

    def keep(self) -> None:
        """The alternative shown becomes part of the piece (one undo step)."""
        if self.state != RegenerationState.CHOOSING:
            return
        shown, count = self.alternatives.shown + 1, len(self.alternatives)
        changed = self.alternatives.keep(self.request.undo_text)
        self._end()
        if changed:
            self.status.emit(
                f"Kept alternative {shown} of {count} for {self.request.bars}; "
                "Ctrl+Z gives the original back."
            )
        else:
            self.status.emit(f"That alternative is the same as the original {self.request.bars}.")

    def restore(self) -> None:
        """Put the original back (also while writing: stops, offering nothing)."""
        if self.state == RegenerationState.ENDED:
            return
        if self.worker is not None:
            self.worker.stop()
            self.worker = None  # its result is not wanted any more
        if self.alternatives is not None:
            self.alternatives.restore()
        self._end()
        bars = self.request.bars
        self.status.emit(f"The original {bars} {'is' if bars.startswith('bar ') else 'are'} back.")

    def busy_sentence(self) -> str:
        """Why the piece cannot be edited, closed or exported now, and what to do."""
        if self.state == RegenerationState.WRITING:
            return f"New music for {self.request.bars} is being written; wait, or press Esc."
        return "Keep an alternative (Enter) or restore the original (Esc) first."

    def original_notes(self):
        """The piece's notes as the musician had them (what the autosave keeps meanwhile)."""
        if self.alternatives is None:
            return self.document.model.notes.copy()
        return self.alternatives.original_notes()

    def original_tracks(self):
        """The piece's tracks as the musician had them (what the autosave keeps meanwhile)."""
        if self.alternatives is None:
            return self.document.model.tracks
        return self.alternatives.original_tracks

    # --- the background job's signals -------------------------------------------------------------
    @Slot(object)
    def _on_progress(self, item) -> None:
        if self.sender() is not self.worker:
            return
        request, count = self.request, self.request.sampling.variations
        if _is_start(item):
            self.both_sides, self.hears_parts = item.both_sides, item.hears_parts
            keeps_parts = request.part is not None or request.tracks is not None
            if keeps_parts and not self.hears_parts:
                self.status.emit(NOT_HEARING_PARTS)
            elif not self.both_sides:
                self.status.emit(NOT_BOTH_SIDES)
            return
        done = sum(item.done)
        self.text_changed.emit(
            f"Writing {count} alternatives for {request.what}… {done} of {count} done", "Esc stops"
        )

    @Slot(object)
    def _on_written(self, written: Written) -> None:
        if self.sender() is not self.worker:
            return  # restored while it was writing
        self.worker = None
        request, pieces = self.request, written.pieces
        self.empty = written.empty
        if not pieces:
            self._end()
            self.status.emit("Stopped before any alternative was finished: the piece is as it was.")
            return
        choices = [rows_in_span(p, request.start, request.end) for p in pieces]
        self.alternatives = Alternatives(self.document, request.start, request.end, choices, pieces)
        self.state = RegenerationState.CHOOSING
        self._show(0)
        self.state_changed.emit()
        note = "" if self.both_sides else " " + NOT_BOTH_SIDES
        if request.part is not None or request.tracks is not None:
            note = "" if self.hears_parts else " " + NOT_HEARING_PARTS
        count = f"{len(pieces)} alternative{'s' if len(pieces) > 1 else ''}"
        empty = f" {written.sentence[0].upper()}{written.sentence[1:]}." if written.sentence else ""
        self.status.emit(f"{count} for {request.what}, seed {request.sampling.seed}.{note}{empty}")

    @Slot(str, bool)
    def _on_failed(self, message: str, unexpected: bool) -> None:
        if self.sender() is not self.worker:
            return
        self.worker = None
        self._end()
        self.failed.emit(message)

    # --- the rest ---------------------------------------------------------------------------------
    def _show(self, index: int) -> None:
        self.alternatives.show(index)
        count = len(self.alternatives)
        empty = " (no notes)" if index in self.empty else ""
        self.text_changed.emit(
            f"{self.request.bars.capitalize()}: alternative {index + 1} of {count}{empty}",
            "Enter keeps it, Esc restores the original",
        )
        self.shown.emit(index)

    def _end(self) -> None:
        self.state = RegenerationState.ENDED
        self.document.busy = False
        self.document.regeneration = None
        self.state_changed.emit()


@dataclass(frozen=True)
class Written:
    """What a fill job wrote: the alternatives, which of them hold no note in the span (by
    index into `pieces`), and the sentence that says so ("" when every one holds notes)."""

    pieces: list
    empty: frozenset[int]
    sentence: str


@dataclass(frozen=True)
class FillStarted:
    """A fill job's first report: whether the model hears both sides of the bars and the
    other parts inside them, and its name."""

    both_sides: bool
    model: str
    hears_parts: bool


def _is_start(item) -> bool:
    return isinstance(item, FillStarted)


def fill_job(worker, request: FillRequest) -> list:
    """The background job: load the model, fill the bars, report progress. Returns the finished
    alternatives as whole pieces (fewer than asked when stopped), with those left empty."""
    from composer.core.generation import ModelFileError, load_model
    from composer.core.generation.accompany import Accompaniment
    from composer.core.generation.fill import SpanFiller
    from composer.resources import default_model

    try:
        loaded = load_model(request.model_path or default_model())
    except (ModelFileError, FileNotFoundError) as exc:  # damaged, or no bundled model
        raise UserError(str(exc)) from None
    constraints = _detected(request)  # a SettingsError here or below is the Worker's sentence
    if request.part is None:
        tracks = None if request.tracks is None else list(request.tracks)
        filler = SpanFiller(
            loaded, request.piece, request.start, request.end, request.sampling, tracks,
            constraints,
        )  # fmt: skip
    else:
        program, drums = request.part
        filler = Accompaniment(
            loaded, request.piece, request.sampling, program=program, drums=drums,
            start=request.start, end=request.end, constraints=constraints,
        )  # fmt: skip
    worker.report(FillStarted(filler.both_sides, loaded.name, filler.hears_inside))
    if worker.stop_requested:  # stopped while the model was loading
        return Written([], frozenset(), "")
    try:
        for update in filler.run():
            if worker.stop_requested:
                filler.stop()
            worker.report(update)
    except ModelFileError as exc:  # a model that went wrong while sampling
        raise UserError(str(exc)) from None
    finished = filler.finished()
    silent = set(filler.silent())
    empty = [k for k, index in enumerate(finished) if index in silent]
    said = ""
    if empty:
        which = ", ".join(str(k + 1) for k in empty)
        said = filler.silent_sentence(
            f"in alternative{'s' * (len(empty) > 1)} {which}",
            f"so {'they leave' if len(empty) > 1 else 'it leaves'} {request.bars} empty",
        )
    return Written(filler.pieces(finished), frozenset(empty), said)


def _detected(request: FillRequest):
    """The constraints, with the key or density the Steer box takes "from the primer" taken
    from the piece itself."""
    key, density = request.detect
    return request.constraints.with_primer(request.piece, key=key, density=density)
