"""How long a run trains: a time budget (--minutes), early stopping that keeps the best
checkpoint, and the thread count chosen by measuring."""

from __future__ import annotations

import json

import pytest

from composer.cli import main
from composer.core.training import TrainControl, new_run, resume_run
from composer.core.training.checkpoint import read_checkpoint
from composer.core.training.schedule import Schedule
from composer.core.training.threads import ThreadTuner, candidate_counts
from tests.conftest import corpus
from tests.training_helpers import collection_of, copy_chorales, tiny_model, tiny_training


@pytest.fixture(scope="module")
def chorales(tmp_path_factory):
    folder = tmp_path_factory.mktemp("budget")
    return copy_chorales(corpus("bach_chorales"), folder / "chorales", 6), folder / "cache"


def _events(trainer):
    return list(trainer.run())


# --- a time budget ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_time_budget_stops_on_time_and_decays_the_rate_over_it(chorales, tmp_path):
    folder, cache = chorales
    # 3 s: long enough for several steps even on a loaded machine (1.5 s gave 2 steps there).
    config = tiny_training(steps=None, minutes=3 / 60, eval_every=100_000)
    trainer = new_run(tmp_path / "run", collection_of(folder, cache), tiny_model(), config)
    events = _events(trainer)
    last = events[-1]
    assert last.event == "finished" and "in the 0.05 minutes given" in last.message
    assert trainer.schedule.elapsed_s >= 3
    steps = [e for e in events if e.event == "step"]
    assert len(steps) >= 3 and last.total_steps == last.step == steps[-1].step
    rates = [e.learning_rate for e in steps[config.warmup_steps :]]
    assert rates == sorted(rates, reverse=True)  # decaying over the budget, not over steps
    assert rates[-1] < 0.5 * config.learning_rate
    assert [e.event for e in events].count("validation") == 1  # once, at the end
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    info = read_checkpoint(tmp_path / "run" / run["latest"])
    assert info["elapsed_s"] >= 1.5 and run["best"] == run["latest"]


def test_a_resumed_run_counts_the_time_it_already_trained(chorales, tmp_path):
    folder, cache = chorales
    control = TrainControl()
    config = tiny_training(steps=None, minutes=1.0, eval_every=100_000)
    trainer = new_run(tmp_path / "run", collection_of(folder, cache), tiny_model(), config,
                      control=control)  # fmt: skip
    for progress in trainer.run():
        if progress.event == "step" and progress.step == 3:
            control.stop()
    assert progress.event == "stopped"
    spent = trainer.schedule.elapsed_s
    resumed = resume_run(tmp_path / "run", collection_of(folder, cache))
    assert resumed.schedule.elapsed_s == pytest.approx(spent, abs=0.01)
    assert resumed.config.minutes == 1.0
    resumed.close()  # built, not run: it still holds the folder until closed
    # Less time in all than already spent: it takes one step and ends, without starting again.
    short = resume_run(tmp_path / "run", collection_of(folder, cache), minutes=spent / 120)
    assert _events(short)[-1].event == "finished" and short.step == 4


@pytest.mark.slow
def test_minutes_on_the_command_line(chorales, tmp_path, capsys):
    folder, cache = chorales
    tiny = ["--batch-size", "4", "--window", "64", "--device", "cpu", "--preset", "small"]
    out = tmp_path / "run"
    code = main(["train", str(folder), "--out", str(out), "--minutes", "0.02", *tiny,
                 "--cache-dir", str(cache)])  # fmt: skip
    assert code == 0
    assert "Finished" in capsys.readouterr().out
    assert json.loads((out / "run.json").read_text())["training"]["minutes"] == 0.02
    with pytest.raises(SystemExit) as exit:  # one length or the other, not both
        main(["train", str(folder), "--out", str(tmp_path / "x"), "--minutes", "1", "--steps", "4"])
    assert exit.value.code == 2
    assert "--steps: not allowed with argument --minutes" in capsys.readouterr().err


def test_the_schedule_in_steps_and_in_time():
    steps = Schedule(tiny_training(steps=100, warmup_steps=10, learning_rate=1e-3,
                                   min_learning_rate=1e-5), 100)  # fmt: skip
    assert steps.learning_rate(0) == pytest.approx(1e-4)
    assert steps.learning_rate(10) == pytest.approx(1e-3)
    assert steps.learning_rate(100) == pytest.approx(1e-5)
    assert steps.total_steps(50, 0.1) == 100 and steps.out_of_steps(100)
    timed = Schedule(tiny_training(steps=None, minutes=1.0, warmup_steps=0, learning_rate=1e-3,
                                   min_learning_rate=0.0), None)  # fmt: skip
    timed.elapsed_s = 30.0
    assert timed.learning_rate(1000) == pytest.approx(0.5e-3)  # half the time: half way down
    assert timed.total_steps(10, 0.5) == 10 + 60  # 30 s left at 0.5 s a step
    assert not timed.out_of_time() and not timed.out_of_steps(10**9)
    timed.elapsed_s = 60.0
    assert timed.out_of_time() and timed.learning_rate(5) == pytest.approx(0.0)


# --- early stopping ----------------------------------------------------------------------------------
def test_early_stopping_keeps_the_best_checkpoint(chorales, tmp_path):
    folder, cache = chorales
    config = tiny_training(steps=100, eval_every=2, patience=3)
    trainer = new_run(tmp_path / "run", collection_of(folder, cache), tiny_model(), config)
    # The validation losses a run over-fitting a small collection shows: better, then worse.
    losses = iter([3.0, 2.5, 2.6, 2.55, 2.7, 2.8, 2.9])
    trainer.validation.loss = lambda model, autocast: next(losses)
    events = _events(trainer)
    assert events[-1].event == "finished"
    assert "has not improved for 3 validations" in events[-1].message
    assert "best checkpoint (step 4, 2.500 nats per token)" in events[-1].message
    assert trainer.step == 10  # validations at 2, 4 (best), 6, 8, 10: three without a new best
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["best"] == "checkpoints/step-00000004.json" and run["best_val_loss"] == 2.5
    assert (tmp_path / "run" / run["best"]).exists()
    assert read_checkpoint(tmp_path / "run" / run["latest"])["stale_validations"] == 3


# --- threads -----------------------------------------------------------------------------------------
def test_thread_candidates():
    assert candidate_counts(1) == [1]
    assert candidate_counts(2) == [2, 1]
    assert candidate_counts(16) == [16, 15, 8, 1]


def _feed(tuner, rates: dict[int, float], steps: int, tokens: int = 4096) -> None:
    """`steps` steps at the tokens/s that each thread count gets on the imagined machine."""
    for _ in range(steps):
        tuner.step_done(tokens, tokens / rates[tuner.threads])


def test_the_tuner_keeps_both_cores_alone_and_drops_to_one_beside_a_busy_program():
    applied = []
    tuner = ThreadTuner(2, stretch=10, settle=2, hold=1000, set_threads=applied.append)
    alone = {2: 19_500.0, 1: 11_300.0}  # measured on this project's 2-core machine
    busy = {2: 6_100.0, 1: 11_400.0}
    _feed(tuner, alone, 40)
    assert tuner.threads == 2 and not tuner.measuring
    _feed(tuner, busy, 60)  # a DAW starts: the pace drops, the tuner measures again
    assert tuner.threads == 1 and tuner.rates[2] < tuner.rates[1]
    _feed(tuner, alone, 1100)  # the DAW quits: after `hold` steps it tries both cores again
    assert tuner.threads == 2
    assert applied[0] == 2 and applied[-1] == 2 and 1 in applied


def test_one_core_is_never_measured():
    tuner = ThreadTuner(1, set_threads=lambda n: None)
    _feed(tuner, {1: 1000.0}, 50)
    assert tuner.threads == 1 and tuner.changes == 0 and not tuner.measuring


def test_a_count_clearly_slower_is_dropped_early_so_measuring_costs_few_slow_steps():
    """On an idle 2-core machine one thread trains at 58% of two: its probe stops after its
    settle and `early` steps instead of a whole stretch."""
    applied = []
    tuner = ThreadTuner(2, stretch=12, settle=2, early=2, set_threads=applied.append)
    alone = {2: 19_500.0, 1: 11_300.0}
    at_one = 0
    for _ in range(40):
        at_one += tuner.threads == 1
        _feed(tuner, alone, 1)
    assert tuner.threads == 2 and not tuner.measuring
    assert at_one == 4  # settle 2 + early 2, not 12
    busy = {2: 6_100.0, 1: 11_400.0}  # beside a busy process one thread still wins
    tuner = ThreadTuner(2, stretch=12, settle=2, early=2, set_threads=applied.append)
    _feed(tuner, busy, 40)
    assert tuner.threads == 1


def _feed_measured(tuner, rates, use, steps, tokens=4096):
    """As _feed, with the process's CPU time: `use` of the wall time x threads, per count."""
    for _ in range(steps):
        seconds = tokens / rates[tuner.threads]
        tuner.step_done(tokens, seconds, use[tuner.threads] * seconds * tuner.threads)


def test_a_round_that_finds_the_cores_free_measures_no_fewer_threads():
    """Measured here: the process's CPU time is 0.99 of wall x 2 threads alone, 0.62-0.66 beside
    one busy process. Alone, the tuner never spends a step on one thread; busy, it measures and
    moves; and a drop in pace makes it measure every count whatever the CPU time says."""
    alone, busy = {2: 19_500.0, 1: 11_300.0}, {2: 6_100.0, 1: 11_400.0}
    applied = []
    tuner = ThreadTuner(2, stretch=12, settle=2, hold=100, set_threads=applied.append)
    _feed_measured(tuner, alone, {2: 0.99, 1: 1.0}, 350)  # three rounds, one per `hold`
    assert applied == [2] and tuner.threads == 2 and tuner.probes_skipped >= 3
    tuner = ThreadTuner(2, stretch=12, settle=2, set_threads=applied.append)
    _feed_measured(tuner, busy, {2: 0.64, 1: 1.0}, 40)
    assert tuner.threads == 1 and tuner.probes_skipped == 0
    # Our own second torch thread (the app generating) keeps the CPU time high, but the pace
    # drops: that round measures one thread too, and takes it.
    tuner = ThreadTuner(2, stretch=12, settle=2, hold=1000, set_threads=applied.append)
    _feed_measured(tuner, alone, {2: 0.99, 1: 1.0}, 30)
    assert tuner.threads == 2 and not tuner.measuring
    _feed_measured(tuner, busy, {2: 0.99, 1: 1.0}, 60)
    assert tuner.threads == 1
