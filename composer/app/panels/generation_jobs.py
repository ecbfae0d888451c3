"""The Generate panel's background job: load the model, read the primer, sample and stream the
notes, in the worker thread; and how throttled stream updates merge without losing a note."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from composer.app.workers import UserError


@dataclass(frozen=True)
class GenerationStarted:
    """A generation's first report: how many variations, and the primer piece (or None) shown
    as it will be written, before any note streams in."""

    variations: int
    primer: object


def is_started(item) -> bool:
    """Whether a worker's report is the start (sent at once, never merged with notes)."""
    return isinstance(item, GenerationStarted)


def merge_updates(old, new):
    """Two stream updates as one (progress is throttled; no note may be lost)."""
    if is_started(old) or is_started(new):
        return new
    notes = [a + b for a, b in zip(old.notes, new.notes)]
    return replace(new, notes=notes)


def generate_job(worker, model_path, sampling, primer, constraints=None, detect=(False, False)):
    """The background job: load, prime, sample, stream. Returns (pieces, description); the
    piece of a variation that wrote no note is None, never an empty tab passed off as music,
    and the description names it."""
    from composer.core.generation import ModelFileError, Sampler, load_model
    from composer.core.midi import read_midi
    from composer.core.midi.reader import MidiReadError
    from composer.resources import default_model

    try:
        loaded = load_model(model_path or default_model())
        if isinstance(primer, Path):
            primer = read_midi(primer)
    except (ModelFileError, MidiReadError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from None
    if primer is not None and any(detect):  # the primer's key (pitched notes) or density
        # A SettingsError (no notes to detect from, steering that leaves no note to play)
        # reaches the Worker, which shows it as the musician's sentence.
        constraints = constraints.with_primer(primer, key=detect[0], density=detect[1])
    sampler = Sampler(loaded, sampling, primer, constraints=constraints)
    # The primer is shown as it will be written, exactly, and the notes stream in its ticks.
    worker.report(GenerationStarted(sampling.variations, primer))
    try:
        for update in sampler.run():
            if worker.stop_requested:
                sampler.stop()
            worker.report(update)
    except ModelFileError as exc:  # a model that went wrong while sampling (see Sampler)
        raise UserError(str(exc)) from None
    what = "Stopped" if sampler.stopped else "Generated"
    style = f", style {sampler.style_name}" if sampler.style_name else ""
    count = f"{sampling.variations} variation{'s' * (sampling.variations != 1)}"
    said = f"{what} {count} with {loaded.name}{style}, seed {sampling.seed}."
    silent = sampler.silent()
    pieces = [None if i in silent else piece for i, piece in enumerate(sampler.pieces())]
    if not sampler.stopped and (ended := _ended_early(pieces, sampling.seconds)):
        said += f" {ended}"
    if silent:
        many = len(silent) > 1
        which = f"variation{'s' if many else ''} {', '.join(str(i + 1) for i in silent)}"
        sentence = sampler.silent_sentence(
            f"in {which}", f"so {'they were' if many else 'it was'} not opened"
        )
        said += f" {sentence[0].upper()}{sentence[1:]}."
    return pieces, said


#: A piece shorter than this share of the length asked for was ended by the model.
ENDED_EARLY = 0.9


def _ended_early(pieces, seconds: float) -> str:
    """The sentence for the variations the model ended before the length asked for (it wrote
    its end-of-piece token), or "" when none did."""
    early = [
        (i, p.duration_seconds)
        for i, p in enumerate(pieces)
        if p is not None and p.duration_seconds < ENDED_EARLY * seconds
    ]
    if not early:
        return ""
    which = ", ".join(f"variation {i + 1} at {s:.1f} s" for i, s in early)
    return (
        f"The model ended {which} (of {seconds:g} s asked): it finished the piece there, as "
        "pieces it learnt from end; generate again or continue it for more."
    )
