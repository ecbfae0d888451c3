"""Run folders lose nothing: one training per folder, only Composer's own files pruned, another
run's checkpoint or a damaged run.json refused in one sentence (issue 16)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from composer.cli import main
from composer.core.training import TrainingError, new_run, resume_run
from tests.conftest import corpus
from tests.training_helpers import collection_of, copy_chorales, tiny_model, tiny_training

TINY = ["--hidden-size", "32", "--embedding-size", "16", "--window", "64", "--device", "cpu"]


@pytest.fixture
def chorales(tmp_path):
    return copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 6)


def _train(run_dir, chorales, cache, **changes):
    trainer = new_run(run_dir, collection_of(chorales, cache), tiny_model(),
                      tiny_training(**changes))  # fmt: skip
    for _ in trainer.run():
        pass
    return json.loads((run_dir / "run.json").read_text())


def test_two_trainings_cannot_share_a_folder(tmp_path, chorales):
    collection = collection_of(chorales, tmp_path / "cache")
    first = new_run(tmp_path / "run", collection, tiny_model(), tiny_training(steps=2))
    # The race of two `composer train --out SAME`: neither has written run.json yet.
    with pytest.raises(TrainingError, match=f"is being trained by process {os.getpid()}"):
        new_run(tmp_path / "run", collection, tiny_model(), tiny_training(steps=2))
    for _ in first.run():
        pass
    assert json.loads((tmp_path / "run" / "run.json").read_text())["step"] == 2
    resume_run(tmp_path / "run", collection).close()  # free again once the first has ended


@pytest.mark.slow
def test_resuming_a_folder_that_another_process_trains_names_that_process(tmp_path, chorales):
    env = {**os.environ, "COMPOSER_CACHE_DIR": str(tmp_path / "cache")}
    run_dir = tmp_path / "run"
    busy = subprocess.Popen(
        [sys.executable, "-m", "composer", "train", str(chorales), "--out", str(run_dir),
         "--steps", "100000", "--eval-every", "2", *TINY],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (run_dir / "checkpoints").is_dir() and time.monotonic() < deadline:
            time.sleep(0.2)
        result = subprocess.run(
            [sys.executable, "-m", "composer", "train", "--out", str(run_dir), "--resume"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        busy.terminate()
        busy.wait(timeout=60)
    assert result.returncode == 1
    assert f"is being trained by process {busy.pid} right now" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_only_composers_own_checkpoint_files_are_pruned(tmp_path, chorales):
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    mine = {"notes.txt": b"my notes", "step-00000001.json.bak": b"{}", "photo.jpg": b"\xff\xd8"}
    for name, data in mine.items():
        (run_dir / "checkpoints" / name).write_bytes(data)
    _train(run_dir, chorales, tmp_path / "cache", steps=6, eval_every=2)
    for name, data in mine.items():
        assert (run_dir / "checkpoints" / name).read_bytes() == data
    own = sorted(
        p.name for p in (run_dir / "checkpoints").glob("step-*.*") if p.name[-4:] != ".bak"
    )
    assert own == ["step-00000006.json", "step-00000006.safetensors"]  # the old ones pruned


def test_a_checkpoint_from_another_run_is_refused_on_resume(tmp_path, chorales):
    cache = tmp_path / "cache"
    mine = _train(tmp_path / "mine", chorales, cache, steps=4)
    _train(tmp_path / "other", chorales, cache, steps=4)
    for suffix in (".json", ".safetensors"):  # renamed into place: complete and self-consistent
        name = f"checkpoints/step-00000004{suffix}"
        shutil.copy(tmp_path / "other" / name, tmp_path / "mine" / name)
    with pytest.raises(TrainingError, match="belongs to another training run") as error:
        resume_run(tmp_path / "mine", collection_of(chorales, cache), steps=8)
    assert str(error.value).count("\n") == 0 and mine["id"]


def test_weights_of_another_size_are_one_sentence(tmp_path, chorales):
    cache = tmp_path / "cache"
    _train(tmp_path / "mine", chorales, cache, steps=4)
    other = new_run(tmp_path / "other", collection_of(chorales, cache),
                    tiny_model().__class__(**{**tiny_model().to_dict(), "hidden_size": 48}),
                    tiny_training(steps=4))  # fmt: skip
    for _ in other.run():
        pass
    run = json.loads((tmp_path / "mine" / "run.json").read_text())
    run["id"] = json.loads((tmp_path / "other" / "run.json").read_text())["id"]  # same identity
    (tmp_path / "mine" / "run.json").write_text(json.dumps(run))
    for suffix in (".json", ".safetensors"):
        name = f"checkpoints/step-00000004{suffix}"
        shutil.copy(tmp_path / "other" / name, tmp_path / "mine" / name)
    with pytest.raises(TrainingError, match="holds weights of another size") as error:
        resume_run(tmp_path / "mine", collection_of(chorales, cache), steps=8)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "damage",
    [
        lambda run: run.pop("data"),
        lambda run: run.update(training="fast"),
        lambda run: run.update(latest="../../../../etc/passwd"),
        lambda run: run.update(step="seven"),
        lambda run: run["data"].update(train=[[1, 2]]),
        lambda run: run["training"].update(batch_size="many"),
        lambda run: run.update(folder=None),
    ],
)
def test_a_damaged_run_json_is_one_sentence(tmp_path, chorales, capsys, damage):
    run_dir = tmp_path / "run"
    run = _train(run_dir, chorales, tmp_path / "cache", steps=2)
    damage(run)
    (run_dir / "run.json").write_text(json.dumps(run))
    code = main(
        ["train", "--out", str(run_dir), "--resume", "--cache-dir", str(tmp_path / "cache")]
    )
    error = capsys.readouterr().err
    assert code != 0 and "is damaged" in error and error.count("\n") == 1, error


def test_a_run_json_nested_a_million_levels_is_one_sentence(tmp_path, chorales, capsys):
    run_dir = tmp_path / "run"
    _train(run_dir, chorales, tmp_path / "cache", steps=2)
    (run_dir / "run.json").write_text("[" * 1_000_000 + "]" * 1_000_000)
    code = main(
        ["train", "--out", str(run_dir), "--resume", "--cache-dir", str(tmp_path / "cache")]
    )
    error = capsys.readouterr().err
    assert code != 0 and "run.json" in error and error.count("\n") == 1, error


def test_a_checkpoint_naming_weights_outside_its_folder_is_refused(tmp_path, chorales, capsys):
    run_dir = tmp_path / "run"
    run = _train(run_dir, chorales, tmp_path / "cache", steps=2)
    info_path = run_dir / run["latest"]
    info = json.loads(info_path.read_text())
    info["weights"] = "../../../../etc/passwd"
    info_path.write_text(json.dumps(info))
    code = main(["train", "--out", str(run_dir), "--resume", "--steps", "4",
                 "--cache-dir", str(tmp_path / "cache")])  # fmt: skip
    error = capsys.readouterr().err
    assert code != 0 and "names no weights file beside it" in error, error


@pytest.mark.slow
def test_a_run_started_on_a_relative_folder_resumes_from_anywhere(tmp_path, chorales, monkeypatch):
    monkeypatch.chdir(chorales.parent)
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert main(["train", "chorales", "--out", str(tmp_path / "run"), "--steps", "2", *TINY,
                 *cache]) == 0  # fmt: skip
    assert json.loads((tmp_path / "run" / "run.json").read_text())["folder"] == str(chorales)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["train", "--out", str(tmp_path / "run"), "--resume", "--steps", "4", *cache]) == 0


def test_a_full_disk_while_writing_run_json_keeps_the_last_good_checkpoint(
    tmp_path, chorales, monkeypatch
):
    import errno

    from composer.core.training import checkpoint as ckpt

    trainer = new_run(tmp_path / "run", collection_of(chorales, tmp_path / "cache"), tiny_model(),
                      tiny_training(steps=8, eval_every=2))  # fmt: skip
    real, writes = ckpt.write_run, []

    def fills_up(run_dir, run):
        writes.append(run.step)
        if run.step == 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(run_dir, run)

    monkeypatch.setattr(ckpt, "write_run", fills_up)
    with pytest.raises(TrainingError, match="No space left on device") as error:
        for _ in trainer.run():
            pass
    assert "the checkpoint of step 2 is kept" in str(error.value)
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["latest"] == "checkpoints/step-00000002.json" and run["step"] == 2
    assert (tmp_path / "run" / run["latest"]).exists()
    monkeypatch.setattr(ckpt, "write_run", real)
    resumed = resume_run(tmp_path / "run", collection_of(chorales, tmp_path / "cache"))
    assert resumed.step == 2
    resumed.close()


def test_a_cache_that_cannot_be_written_is_one_sentence(tmp_path, chorales, capsys):
    not_a_folder = tmp_path / "cache-file"
    not_a_folder.write_text("I am a file")
    code = main(["ingest", str(chorales), "--cache-dir", str(not_a_folder), "--jobs", "0"])
    error = capsys.readouterr().err
    assert code == 2 and "Could not write the token cache in" in error
    assert error.count("\n") == 1 and "Traceback" not in error


def test_generate_refuses_another_runs_checkpoint_and_a_fifo_model(tmp_path, chorales, capsys):
    cache = tmp_path / "cache"
    _train(tmp_path / "mine", chorales, cache, steps=4)
    _train(tmp_path / "other", chorales, cache, steps=4)
    for suffix in (".json", ".safetensors"):
        name = f"checkpoints/step-00000004{suffix}"
        shutil.copy(tmp_path / "other" / name, tmp_path / "mine" / name)
    out = tmp_path / "tune.mid"
    assert main(["generate", str(tmp_path / "mine"), "--out", str(out), "--seconds", "2"]) == 2
    error = capsys.readouterr().err
    assert "belongs to another training run" in error and error.count("\n") == 1
    os.mkfifo(tmp_path / "model.json")  # opening it for reading would wait forever
    assert main(["generate", str(tmp_path / "model.json"), "--out", str(out)]) == 2
    assert "is a named pipe (FIFO), not a file" in capsys.readouterr().err
    assert not out.exists()
