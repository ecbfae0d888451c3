"""The training panel's background jobs: build a trainer (new, from a model, or resumed) in the
worker thread and drive its loop, reporting progress to the panel."""

from __future__ import annotations

import time
from pathlib import Path

from composer.app import paths
from composer.app.workers import UserError


def new_run_dir(folder: str) -> Path:
    """A run folder named after the collection and the time, never one that exists already."""
    name = f"{Path(folder).name or 'run'}-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir, count = paths.runs_dir() / name, 1
    while run_dir.exists():
        count += 1
        run_dir = paths.runs_dir() / f"{name}-{count}"
    return run_dir


def new_job(worker, control, collection, run_dir, model, config, source, context=False):
    """A new run, from the weights at `source` (read_start) or, when None, an empty `model`;
    with `context`, its model hears the bar and the other parts (`composer train --context`)."""
    from composer.core.training import new_run
    from composer.core.training.start_from import hearing_context, read_start

    def build():
        start = read_start(source) if source is not None else None
        steps = collection.tokenizer.steps_per_beat
        if start is not None and context:
            start = hearing_context(start, steps)
        size = start.model if start is not None else model
        if context:
            size = size.hearing_context(steps)
        return new_run(run_dir, collection, size, config, control=control, start_from=start)

    return _drive(worker, control, build, run_dir)


def resume_job(worker, control, run_dir, steps, minutes):
    """Resume `run_dir` to `steps` in all (or `minutes` of training in all), after reading its
    folder through the cache."""
    from composer.core.corpus import TokenCache, ingest
    from composer.core.tokens import TokenizerConfig
    from composer.core.training import Collection, resume_run
    from composer.core.training.run_info import read_run_info

    def build():
        run = read_run_info(run_dir)
        tokenizer = TokenizerConfig.from_json(run.tokenizer)
        report = ingest(
            run.folder, paths.cache_dir(), tokenizer, should_stop=lambda: worker.stop_requested
        )
        collection = Collection.from_ingest(report, TokenCache(paths.cache_dir(), tokenizer))
        return resume_run(run_dir, collection, steps=steps, minutes=minutes, control=control)

    return _drive(worker, control, build, run_dir)


def _drive(worker, control, build, run_dir):
    """Build the trainer and run it, turning the engine's user errors into UserError."""
    from composer.core.training import USER_ERRORS

    try:
        trainer = build()
        for progress in trainer.run():
            if worker.stop_requested:
                control.stop()
            worker.report(progress)
    except USER_ERRORS as exc:
        raise UserError(in_app_words(exc)) from None
    return run_dir


def in_app_words(exc: BaseException) -> str:
    """One sentence for the engine's error `exc`: its own, or for a known failure its problem and
    the control of the training panel that fixes it."""
    from composer.core.training import DeviceError, NanLoss, OutOfMemory, RunExists

    if isinstance(exc, OutOfMemory):
        return (
            f"{exc.problem}; lower the batch size under Advanced (to {exc.smaller_batch_size}) "
            "or choose a smaller model size"
        )
    if isinstance(exc, NanLoss):
        return f"{exc.problem}; lower the learning rate under Advanced (now {exc.learning_rate:g})"
    if isinstance(exc, RunExists):
        return f"{exc.problem}; open it with Resume a run…, or start a new run"
    if isinstance(exc, DeviceError) and exc.device:
        other = f", or {exc.other_fix}" if exc.other_fix else ""
        return f"{exc.problem}; choose CPU as the device{other}"
    return str(exc)
