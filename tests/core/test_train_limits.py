"""The limits of a training run, told as one sentence wherever a value comes from: a flag of
`composer train` (or generate and fill, for seeds), run.json, or a checkpoint's JSON."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from composer.cli import main
from composer.core.errors import SettingsError
from composer.core.generation.settings import MAX_SEED, SamplingSettings
from composer.core.training.config import MAX_BATCH_TOKENS, TrainConfig
from composer.resources import default_model
from tests.conftest import corpus
from tests.training_helpers import copy_chorales

TINY = ["--hidden-size", "32", "--embedding-size", "16", "--layers", "1", "--window", "64",
        "--batch-size", "4", "--device", "cpu"]  # fmt: skip


@pytest.fixture
def chorales(tmp_path) -> Path:
    return copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 4)


def _train(tmp_path, chorales, *flags, length=("--steps", "2"), tiny=TINY) -> list[str]:
    args = ["train", str(chorales), "--out", str(tmp_path / "run"), *length, *tiny]
    return [*args, "--cache-dir", str(tmp_path / "cache"), *map(str, flags)]


def _one_sentence(err: str, command: str) -> str:
    assert err.startswith(f"composer {command}: ") and "Traceback" not in err, err
    assert err.count("\n") == 1 and err.endswith(".\n"), err
    return err


@pytest.mark.slow
@pytest.mark.parametrize("seed", [99999999999999999999, -1, MAX_SEED + 1])
def test_a_seed_out_of_range_is_one_sentence_for_train(tmp_path, chorales, capsys, seed):
    assert main(_train(tmp_path, chorales, "--seed", seed)) == 2
    err = _one_sentence(capsys.readouterr().err, "train")
    assert f"seed must be a whole number from 0 to {MAX_SEED:,}" in err
    assert not (tmp_path / "run" / "run.json").exists()


@pytest.mark.parametrize("command", ["generate", "fill", "evaluate"])
@pytest.mark.parametrize("seed", [99999999999999999999, -1])
def test_a_seed_out_of_range_is_one_sentence_for_generate_fill_and_evaluate(
    tmp_path, chorales, capsys, command, seed
):
    piece = sorted(chorales.glob("*.mid"))[0]
    where = {
        "fill": [str(piece), "--bars", "1", "--out", str(tmp_path / "out.mid")],
        "generate": ["--tokens", "10", "--out", str(tmp_path / "out.mid")],
        "evaluate": [str(default_model()), str(chorales)],  # evaluate --seed -1 was numpy's
    }[command]
    args = [command, *where, "--seed", str(seed)]
    assert main(args) == 2
    err = _one_sentence(capsys.readouterr().err, command)
    assert f"seed must be a whole number from 0 to {MAX_SEED:,}" in err
    assert not (tmp_path / "out.mid").exists()


def test_every_seed_has_the_same_limit():
    """The largest seed works everywhere (torch takes it, with seed + variations on top)."""
    SamplingSettings(seed=MAX_SEED, variations=64)
    TrainConfig(seed=MAX_SEED, split_seed=MAX_SEED)
    for make in (
        lambda: SamplingSettings(seed=MAX_SEED + 1),
        lambda: TrainConfig(seed=-1),
        lambda: TrainConfig(split_seed=MAX_SEED + 1),
    ):
        with pytest.raises(SettingsError, match="from 0 to"):
            make()


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--minutes", "inf"], "minutes must be more than 0 and at most"),
        (["--minutes", "1e308"], "minutes must be more than 0 and at most"),
        (["--minutes", "nan"], "minutes must be more than 0 and at most"),
        (["--epochs", "10" * 200], "epochs must be 1 to"),
        (["--batch-size", "100000"], "batch size must be 1 to 4,096"),
        (["--batch-size", "4096", "--window", "4096"], f"at most {MAX_BATCH_TOKENS:,} tokens"),
    ],
)
@pytest.mark.slow
def test_a_length_or_batch_out_of_range_is_one_sentence(tmp_path, chorales, capsys, flags, words):
    args = _train(tmp_path, chorales, *flags, length=(), tiny=["--hidden-size", "32"])
    assert main(args) == 2
    assert words in _one_sentence(capsys.readouterr().err, "train")


@pytest.mark.slow
@pytest.mark.parametrize("minutes", [float("inf"), 1e308])
def test_a_run_json_with_an_endless_budget_names_the_file_on_resume(
    tmp_path, chorales, capsys, minutes
):
    assert main(_train(tmp_path, chorales)) == 0
    run_file = tmp_path / "run" / "run.json"
    run = json.loads(run_file.read_text())
    run["training"]["minutes"] = minutes  # json writes inf as Infinity, as Python reads it
    run_file.write_text(json.dumps(run))
    capsys.readouterr()
    cache = ["--cache-dir", str(tmp_path / "cache")]
    resume = ["train", "--out", str(tmp_path / "run"), "--resume", *cache]
    assert main(resume) == 2
    err = _one_sentence(capsys.readouterr().err, "train")
    assert str(run_file) in err and "minutes must be more than 0 and at most" in err


@pytest.mark.slow
def test_a_batch_the_cpu_cannot_allocate_is_the_out_of_memory_sentence(tmp_path, chorales):
    """Real allocation failure: the process may use 3 GB more than torch itself, and a step of
    the largest batch allowed needs its logits (2**20 tokens x 503 ids x 4 bytes) several times."""
    if sys.platform != "linux":
        pytest.skip("RLIMIT_AS bounds the allocator this way on Linux only")
    probe = subprocess.run(
        [sys.executable, "-c", "import torch, resource; print(open('/proc/self/statm').read())"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    pages = int(probe.stdout.split()[0])
    limit = pages * resource.getpagesize() + 3 * 2**30
    tiny = [*TINY[:6], "--device", "cpu", "--batch-size", "4096", "--window", "256"]
    args = _train(tmp_path, chorales, "--jobs", "0", tiny=tiny)

    def bounded():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    done = subprocess.run(
        [sys.executable, "-m", "composer", *args],
        capture_output=True,
        text=True,
        preexec_fn=bounded,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "ran out of memory with batch size 4096" in done.stderr
    assert "try --batch-size 2048" in done.stderr


# --- hostile values in a run's files -------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny run of 2 steps (and its collection), to be copied and damaged by each test."""
    from composer.core.training import new_run
    from tests.training_helpers import collection_of, tiny_model, tiny_training

    root = tmp_path_factory.mktemp("trained")
    folder = copy_chorales(corpus("bach_chorales"), root / "chorales", 4)
    collection = collection_of(folder, root / "cache")
    trainer = new_run(root / "run", collection, tiny_model(), tiny_training(steps=2, eval_every=2))
    for _ in trainer.run():
        pass
    return root / "run", collection


def _damaged_copy(trained, tmp_path, change) -> tuple[Path, Path]:
    """A copy of the trained run with `change(info, run)` applied to its latest checkpoint's JSON
    and its run.json; (run folder, the file changed)."""
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(trained[0], run_dir)
    run = json.loads((run_dir / "run.json").read_text())
    checkpoint = run_dir / run["latest"]
    info = json.loads(checkpoint.read_text())
    changed = change(info, run)
    (run_dir / "run.json").write_text(json.dumps(run))
    checkpoint.write_text(json.dumps(info))
    return run_dir, run_dir / "run.json" if changed == "run" else checkpoint


def _resume_refused(run_dir: Path, collection, named: Path) -> str:
    from composer.core.training import USER_ERRORS, resume_run

    with pytest.raises(USER_ERRORS) as refused:
        resume_run(run_dir, collection).close()
    text = str(refused.value)
    assert str(named) in text and "\n" not in text, text
    return text


HOSTILE = ["4", [4], True, 1.5, -1, 10**30]


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
@pytest.mark.parametrize("field", ["step", "tokens_seen", "stale_validations", "bytes"])
def test_a_count_of_the_wrong_kind_in_a_checkpoint_names_the_file(trained, tmp_path, field, value):
    run_dir, named = _damaged_copy(trained, tmp_path, lambda info, run: info.update({field: value}))
    assert "damaged" in _resume_refused(run_dir, trained[1], named)


@pytest.mark.parametrize("value", ["4", [4], True, -1, float("inf"), float("nan")], ids=repr)
def test_elapsed_seconds_of_the_wrong_kind_names_the_checkpoint(trained, tmp_path, value):
    run_dir, named = _damaged_copy(
        trained, tmp_path, lambda info, run: info.update(elapsed_s=value)
    )
    assert "its training time is not a number of seconds" in _resume_refused(
        run_dir, trained[1], named
    )


def _optimizer(change):
    def damage(info, run):
        change(info["optimizer"]["param_groups"][0])

    return damage


@pytest.mark.parametrize(
    "damage",
    [
        *(lambda info, run, v=v: info.update(optimizer=v) for v in HOSTILE),
        lambda info, run: info.update(optimizer={"param_groups": "x"}),
        lambda info, run: info.update(optimizer={"param_groups": [1, 2]}),
        _optimizer(lambda group: group.update(lr="0.001")),
        _optimizer(lambda group: group.update(betas="ab")),
        _optimizer(lambda group: group.update(betas=[0.9, [0.99]])),
        _optimizer(lambda group: group.update(eps=10**400)),
        _optimizer(lambda group: group.update(amsgrad=[])),
        _optimizer(lambda group: group.update(params=[0])),
        _optimizer(lambda group: group.pop("weight_decay")),
    ],
)
def test_an_optimizer_state_of_the_wrong_kind_names_the_checkpoint(trained, tmp_path, damage):
    run_dir, named = _damaged_copy(trained, tmp_path, damage)
    assert "damaged" in _resume_refused(run_dir, trained[1], named)


@pytest.mark.parametrize("value", [*HOSTILE, 12.0, None], ids=repr)
def test_a_tokenizer_setting_of_the_wrong_kind_names_the_run_json(trained, tmp_path, value):
    def damage(info, run):
        run["tokenizer"]["steps_per_beat"] = value
        return "run"

    run_dir, named = _damaged_copy(trained, tmp_path, damage)
    assert "steps_per_beat" in _resume_refused(run_dir, trained[1], named)


def test_a_run_json_step_beyond_the_limit_names_the_file(trained, tmp_path):
    run_dir, named = _damaged_copy(
        trained, tmp_path, lambda info, run: run.update(step=10**30) or "run"
    )
    assert "its step count is not a whole number" in _resume_refused(run_dir, trained[1], named)


def test_an_undamaged_copy_resumes(trained, tmp_path):
    """The damage above is what the tests refuse: the copy itself resumes."""
    from composer.core.training import resume_run

    run_dir, _ = _damaged_copy(trained, tmp_path, lambda info, run: None)
    trainer = resume_run(run_dir, trained[1], steps=3)
    assert [p.step for p in trainer.run()][-1] == 3


# --- the step limit ------------------------------------------------------------------------------


def test_a_run_by_minutes_ends_at_the_step_limit_and_can_be_resumed(trained, tmp_path, monkeypatch):
    """A run given only minutes used to train past MAX_STEPS, and its checkpoints (step above
    the limit) were refused as damaged ever after. Here the limit is 3 steps, not 10 million."""
    import importlib

    from composer.core.training import new_run, resume_run
    from tests.training_helpers import tiny_model, tiny_training

    for name in ("config", "trainer", "messages", "checkpoint"):
        module = importlib.import_module(f"composer.core.training.{name}")
        monkeypatch.setattr(module, "MAX_STEPS", 3)
    config = tiny_training(steps=None, minutes=0.1, eval_every=100_000)
    last = list(new_run(tmp_path / "run", trained[1], tiny_model(), config).run())[-1]
    assert last.event == "finished" and last.step == 3, last.message
    assert "the most one run trains" in last.message, last.message
    assert json.loads((tmp_path / "run" / "run.json").read_text())["step"] == 3
    again = list(resume_run(tmp_path / "run", trained[1]).run())  # not refused as damaged
    assert again[-1].event == "finished" and again[-1].step == 3


# --- a full disk ---------------------------------------------------------------------------------

PAGE = 4096  # tmpfs allocates whole pages


@pytest.fixture
def small_disk(tmp_path):
    """A real file system of 4 MiB (tmpfs), which the test fills; skipped where one cannot
    be mounted (not root, not Linux, a container without the capability)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root on Linux")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path, leave_pages: int) -> None:
    """Fill `disk` but for `leave_pages` free pages."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        while os.write(fd, b"x" * PAGE) == PAGE:
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    size = os.stat(disk / "filler").st_size // PAGE * PAGE
    os.truncate(disk / "filler", size - leave_pages * PAGE)


def _new_trainer(disk, trained):
    from composer.core.training import new_run
    from tests.training_helpers import tiny_model, tiny_training

    return new_run(disk / "run", trained[1], tiny_model(), tiny_training(steps=2))


def test_a_full_disk_at_the_first_run_json_is_one_sentence_and_leaves_no_file(small_disk, trained):
    from composer.core.training import TrainingError

    trainer = _new_trainer(small_disk, trained)  # its lock file is written
    _fill(small_disk, leave_pages=1)  # run.json takes several
    with pytest.raises(TrainingError) as failed:
        list(trainer.run())
    text = str(failed.value)
    assert f"the disk holding {small_disk / 'run'} is full" in text and "\n" not in text, text
    assert "nothing was trained" in text
    assert sorted(p.name for p in (small_disk / "run").iterdir()) == [".lock"]
    os.remove(small_disk / "filler")  # with space again, the folder takes the run
    assert list(_new_trainer(small_disk, trained).run())[-1].event == "finished"


def test_a_full_disk_at_metrics_jsonl_leaves_no_half_line_and_stops_at_the_checkpoint(
    small_disk, trained
):
    """run.json fits in what is left, the log's next line does not: it crosses into a page the
    disk no longer has, so the system writes part of it before saying the disk is full. A log
    line does not stop the run; the first checkpoint, which does not fit either, does, and the
    sentence says that nothing was kept (it used to tell to resume from a checkpoint)."""
    from composer.core.training import TrainingError
    from composer.core.training import checkpoint as ckpt

    trainer = _new_trainer(small_disk, trained)
    log = small_disk / "run" / "metrics.jsonl"
    line = json.dumps({"event": "note", "text": ""})
    earlier = (json.dumps({"event": "note", "text": "x" * (4090 - len(line) - 1)}) + "\n").encode()
    log.write_bytes(earlier)  # 4090 bytes: the next line crosses into a second page
    run = {"format": ckpt.RUN_FORMAT, "version": ckpt.FORMAT_VERSION, **trainer.info.to_json()}
    _fill(small_disk, leave_pages=-(-len(json.dumps(run, indent=1).encode()) // PAGE))
    with pytest.raises(TrainingError) as failed:
        list(trainer.run())
    text = str(failed.value)
    assert "Could not write a checkpoint" in text and "\n" not in text, text
    assert f"the disk holding {small_disk / 'run'}" in text and "is full" in text, text
    assert "before its first checkpoint and nothing was kept" in text
    assert log.read_bytes() == earlier  # not a byte of the new lines
    assert json.loads((small_disk / "run" / "run.json").read_text())["step"] == 0


def test_a_metrics_log_that_cannot_be_written_does_not_stop_the_run(trained, tmp_path):
    """metrics.jsonl is a folder here, so no line of it is written: the run trains and keeps
    its checkpoints all the same, and its last message says what the log lacks. It used to
    stop at the first line, saying to resume a run that had no checkpoint."""
    from composer.core.training import new_run
    from tests.training_helpers import tiny_model, tiny_training

    config = tiny_training(steps=4, eval_every=2)
    trainer = new_run(tmp_path / "run", trained[1], tiny_model(), config)
    (tmp_path / "run" / "metrics.jsonl").mkdir()
    events = list(trainer.run())
    assert events[-1].event == "finished", events[-1].message
    assert [e.step for e in events if e.event == "checkpoint"] == [2, 4]
    assert json.loads((tmp_path / "run" / "run.json").read_text())["step"] == 4
    lost = f"lines of {tmp_path / 'run' / 'metrics.jsonl'} could not be written"
    assert lost in events[-1].message and "gaps" in events[-1].message, events[-1].message


# --- weights to start from -----------------------------------------------------------------------


def _scaled_copy(trained, tmp_path, factor: float) -> Path:
    """A copy of the trained run's checkpoint with its weights multiplied by `factor` (its
    size and SHA-256 recorded anew, as a person who meant it would): the checkpoint's JSON."""
    import hashlib
    import shutil

    from safetensors.torch import load_file, save_file

    folder = tmp_path / "scaled"
    shutil.copytree(trained[0], folder)
    run = json.loads((folder / "run.json").read_text())
    checkpoint = folder / run["latest"]
    info = json.loads(checkpoint.read_text())
    weights = checkpoint.with_suffix(".safetensors")
    tensors = load_file(weights)
    save_file({k: v * factor if k.startswith("model.") else v for k, v in tensors.items()}, weights)
    data = weights.read_bytes()
    info.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    checkpoint.write_text(json.dumps(info))
    return checkpoint


@pytest.mark.parametrize("factor", [1e30, 1e6])
def test_absurdly_large_weights_are_refused_at_from(trained, tmp_path, capsys, factor):
    checkpoint = _scaled_copy(trained, tmp_path, factor)
    chorales = Path(json.loads((trained[0] / "run.json").read_text())["folder"])
    args = _train(tmp_path, chorales, "--from", checkpoint, tiny=["--device", "cpu"])
    assert main(args) == 1  # as for every --from file that cannot be used
    err = _one_sentence(capsys.readouterr().err, "train")
    assert str(checkpoint.resolve()) in err and "too large" in err, err
    assert not (tmp_path / "run" / "run.json").exists()


def test_weights_that_are_large_but_trained_start_a_run(trained, tmp_path, capsys):
    """Ten times the weights is far from what the limit refuses: it fine-tunes."""
    checkpoint = _scaled_copy(trained, tmp_path, 10.0)
    chorales = Path(json.loads((trained[0] / "run.json").read_text())["folder"])
    assert main(_train(tmp_path, chorales, "--from", checkpoint, tiny=["--device", "cpu"])) == 0
    assert "Best validation loss" in capsys.readouterr().out


def test_a_huge_validation_loss_is_printed_without_overflow(capsys):
    from composer.cli.train import perplexity

    assert perplexity(2.0) == "7.4"
    assert perplexity(1e30) == "above 1e300"  # e^(1e30) is no float
    assert perplexity(800.0) == "above 1e300"
    assert perplexity(30.0) == "1.07e+13"


# --- starting from a run that is training --------------------------------------------------------


def test_a_start_whose_checkpoint_is_pruned_before_the_run_is_built_still_starts(trained, tmp_path):
    """`--from` a run that goes on training: its checkpoint is read, the folder is ingested
    (minutes, for a large one), and meanwhile the run prunes that checkpoint. The new run
    starts from the weights that were read, not from the file again."""
    import shutil

    import torch

    from composer.core.training import new_run
    from composer.core.training.start_from import read_start
    from tests.training_helpers import tiny_training

    source = tmp_path / "source"
    shutil.copytree(trained[0], source)
    start = read_start(source)
    start.path.unlink()  # what the source run's prune_checkpoints does
    start.path.with_suffix(".safetensors").unlink()
    trainer = new_run(
        tmp_path / "run", trained[1], start.model, tiny_training(steps=1), start_from=start
    )
    try:
        for name, value in trainer.model.state_dict().items():
            assert torch.equal(value, start.weights[name]), name
    finally:
        trainer.close()


@pytest.mark.slow
def test_from_a_run_while_it_trains_and_prunes_always_reads_a_whole_checkpoint(trained, tmp_path):
    """A real run checkpointing (and pruning) every step in another thread, read again and
    again: each read names a checkpoint that exists, or reads run.json again once."""
    import shutil
    import threading

    from composer.core.training import resume_run
    from composer.core.training.start_from import read_start

    source = tmp_path / "source"
    shutil.copytree(trained[0], source)
    run = json.loads((source / "run.json").read_text())
    run["training"].update(eval_every=1, log_every=1)
    (source / "run.json").write_text(json.dumps(run))
    trainer = resume_run(source, trained[1], steps=400)
    done = threading.Event()

    def train():
        try:
            for _ in trainer.run():
                if done.is_set():
                    trainer.control.stop()
        finally:
            done.set()

    thread = threading.Thread(target=train)
    thread.start()
    reads = 0
    try:
        while not done.is_set() and reads < 100:
            read_start(source)
            reads += 1
    finally:
        done.set()
        thread.join()
    assert reads >= 20


def test_weights_that_are_not_numbers_are_refused_at_from(trained, tmp_path, capsys):
    checkpoint = _scaled_copy(trained, tmp_path, float("inf"))
    chorales = Path(json.loads((trained[0] / "run.json").read_text())["folder"])
    assert main(_train(tmp_path, chorales, "--from", checkpoint, tiny=["--device", "cpu"])) == 1
    err = _one_sentence(capsys.readouterr().err, "train")
    assert str(checkpoint.with_suffix(".safetensors")) in err and "not numbers" in err, err


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("weight_decay", -0.1, "weight decay must be 0 to 1"),
        ("weight_decay", float("nan"), "weight decay must be 0 to 1"),
        ("learning_rate", float("inf"), "learning rate must be above 0 and at most 1"),
        ("learning_rate", float("nan"), "learning rate must be above 0 and at most 1"),
        ("window", 65_537, "window must be 2 to 65,536 tokens"),
    ],
)
def test_optimiser_settings_out_of_range_are_a_sentence(field, value, words):
    """A negative weight decay reached AdamW, whose ValueError was a traceback; an infinite
    learning rate trained into NaN losses."""
    with pytest.raises(SettingsError, match=words):
        TrainConfig(**{field: value})
