"""The training loop on real chorales: learning, checkpoints, resume, pause/stop and failures."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from composer.core.tokens import TokenizerConfig
from composer.core.training import (
    NanLoss,
    OutOfMemory,
    RunExists,
    TrainControl,
    TrainingError,
    new_run,
    resume_run,
)
from composer.core.training import checkpoint as ckpt
from tests.conftest import corpus
from tests.training_helpers import (
    VOCAB_SIZE,
    collection_of,
    copy_chorales,
    tiny_model,
    tiny_training,
)


@pytest.fixture
def chorales(tmp_path):
    """Eight chorales: an epoch of the tiny settings is about a dozen steps."""
    folder = copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 8)
    return collection_of(folder, tmp_path / "cache")


def events(trainer, control: TrainControl | None = None, stop_at: int | None = None):
    seen = []
    for progress in trainer.run():
        seen.append(progress)
        if stop_at is not None and progress.event == "step" and progress.step == stop_at:
            control.stop()
    return seen


def latest_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    run = ckpt.read_run(run_dir)
    info = ckpt.read_checkpoint(run_dir / run["latest"])
    tensors = ckpt.read_tensors(run_dir / run["latest"], info)
    return {k: v for k, v in tensors.items() if k.startswith("model.")}


def test_training_learns_and_reports_progress(tmp_path, chorales):
    # Without fill-in examples, which double an epoch: 40 steps then cross into a second epoch.
    config = tiny_training(steps=40, eval_every=20, fill_in=0.0)
    trainer = new_run(tmp_path / "run", chorales, tiny_model(), config)
    seen = events(trainer)
    steps = [p for p in seen if p.event == "step"]
    assert [p.step for p in steps] == list(range(1, 41))
    assert seen[0].event == "started" and seen[-1].event == "finished"
    assert all(
        p.tokens_per_s > 0 and p.learning_rate > 0 and p.device.startswith("CPU") for p in steps
    )
    assert steps[-1].eta_s == pytest.approx(0.0) and steps[0].total_steps == 40
    validations = [p.val_loss for p in seen if p.event == "validation"]
    assert len(validations) == 2
    assert validations[-1] < math.log(VOCAB_SIZE) - 1.0  # well below a uniform guess
    lr = [p.learning_rate for p in steps]
    assert lr[0] < lr[3] and lr[-1] < lr[5]  # warm-up, then decay
    assert max(p.epoch for p in steps) >= 2


def test_run_folder_holds_only_safetensors_and_json(tmp_path, chorales):
    run_dir = tmp_path / "run"
    events(new_run(run_dir, chorales, tiny_model(), tiny_training(steps=9, eval_every=3)))
    files = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file())
    assert {"run.json", "metrics.jsonl", "checkpoints/step-00000009.json"} <= set(files)
    files.remove(".lock")  # the folder lock: the owner's process id, as text
    assert {Path(f).suffix for f in files} == {".json", ".safetensors", ".jsonl"}
    for path in run_dir.rglob("*.safetensors"):  # an 8-byte header length, then JSON
        data = path.read_bytes()
        header = int.from_bytes(data[:8], "little")
        json.loads(data[8 : 8 + header])  # raises for anything else, a pickle included
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        json.loads(line)
    info = json.loads((run_dir / "checkpoints/step-00000009.json").read_text())
    assert info["step"] == 9 and info["model"]["hidden_size"] == 32
    assert len(info["vocabulary"]) == VOCAB_SIZE and info["vocabulary"][3].startswith("Program")
    weights = load_file(run_dir / "checkpoints/step-00000009.safetensors")  # plain safetensors
    assert weights["model.head.weight"].shape == (VOCAB_SIZE, 32)


def test_best_and_latest_are_kept_and_the_rest_pruned(tmp_path, chorales):
    run_dir = tmp_path / "run"
    trainer = new_run(run_dir, chorales, tiny_model(), tiny_training(steps=12, eval_every=3))
    events(trainer)
    run = ckpt.read_run(run_dir)
    kept = {p.stem for p in (run_dir / "checkpoints").glob("*.json")}
    assert kept == {Path(run["latest"]).stem, Path(run["best"]).stem}
    assert run["latest"].endswith("step-00000012.json")
    validations = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    losses = {r["step"]: r["loss"] for r in validations if r["event"] == "validation"}
    best_step = min(losses, key=losses.get)
    assert run["best"].endswith(f"step-{best_step:08d}.json")
    assert run["best_val_loss"] == pytest.approx(losses[best_step], abs=1e-5)


@pytest.mark.slow
def test_resumed_run_reaches_the_same_weights_as_an_uninterrupted_one(tmp_path, chorales):
    # Crosses epochs, with dropout and augmentation on: all of it must replay exactly.
    config = tiny_training(steps=24, eval_every=5, batch_size=8)
    straight = tmp_path / "straight"
    events(new_run(straight, chorales, tiny_model(dropout=0.2), config))

    interrupted = tmp_path / "interrupted"
    control = TrainControl()
    first = events(
        new_run(interrupted, chorales, tiny_model(dropout=0.2), config, control=control),
        control,
        stop_at=7,
    )
    assert first[-1].event == "stopped" and first[-1].step == 7
    assert ckpt.read_run(interrupted)["latest"].endswith("step-00000007.json")
    second = events(resume_run(interrupted, chorales))
    assert second[0].message.startswith("Resuming at step 7")
    assert [p.step for p in second if p.event == "step"][0] == 8
    assert second[-1].event == "finished"
    assert max(p.epoch for p in second) >= 2

    a, b = latest_weights(straight), latest_weights(interrupted)
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_resume_with_a_different_vocabulary_is_refused(tmp_path, chorales):
    run_dir = tmp_path / "run"
    events(new_run(run_dir, chorales, tiny_model(), tiny_training(steps=3)))
    other = collection_of(
        tmp_path / "chorales", tmp_path / "cache", TokenizerConfig(velocity_bins=16)
    )
    with pytest.raises(TrainingError, match="different vocabulary"):
        resume_run(run_dir, other)


def test_starting_over_an_existing_run_is_refused(tmp_path, chorales):
    events(new_run(tmp_path / "run", chorales, tiny_model(), tiny_training(steps=2)))
    with pytest.raises(RunExists, match="already holds a training run") as error:
        new_run(tmp_path / "run", chorales, tiny_model(), tiny_training(steps=2))
    assert error.value.run_dir == tmp_path / "run"


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, chorales):
    run_dir = tmp_path / "run"
    trainer = new_run(run_dir, chorales, tiny_model(), tiny_training(steps=12, eval_every=4))
    good = None
    with pytest.raises(
        NanLoss, match=r"NaN or infinite at step 6.*checkpoint of step 4.*lower learning rate"
    ) as error:
        for progress in trainer.run():
            if progress.event == "checkpoint":
                good = {k: v.clone() for k, v in latest_weights(run_dir).items()}
            if progress.event == "step" and progress.step == 5:
                with torch.no_grad():
                    trainer.model.embedding.weight[:] = float("nan")
    assert (error.value.step, error.value.saved_step) == (6, 4)
    assert error.value.learning_rate == trainer.config.learning_rate
    assert ckpt.read_run(run_dir)["latest"].endswith("step-00000004.json")
    kept = latest_weights(run_dir)  # its hash still matches: nothing half-written
    assert all(torch.equal(kept[k], good[k]) for k in good)
    assert all(torch.isfinite(v).all() for v in kept.values())


def test_out_of_memory_suggests_a_smaller_batch(tmp_path, chorales, monkeypatch):
    trainer = new_run(tmp_path / "run", chorales, tiny_model(), tiny_training(steps=5))

    def no_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(trainer.net, "forward", no_memory)
    with pytest.raises(
        OutOfMemory, match=r"ran out of memory with batch size 4.*smaller batch size \(2\)"
    ) as error:
        events(trainer)
    assert (error.value.device, error.value.batch_size, error.value.smaller_batch_size) == (
        "cpu",
        4,
        2,
    )


def test_a_failed_checkpoint_write_leaves_the_previous_one_intact(tmp_path, chorales, monkeypatch):
    run_dir = tmp_path / "run"
    trainer = new_run(run_dir, chorales, tiny_model(), tiny_training(steps=12, eval_every=4))
    real_write = ckpt.atomic_write_bytes
    calls = []

    def disk_full_on_second_checkpoint(path, data, **kwargs):
        calls.append(path)
        if "step-00000008" in str(path) and str(path).endswith(".json"):
            with open(path.parent / f".{path.name}.partial.tmp", "wb") as f:
                f.write(data[: len(data) // 2])  # what a dying writer leaves beside the target
            raise OSError(28, "No space left on device")
        real_write(path, data, **kwargs)

    monkeypatch.setattr(ckpt, "atomic_write_bytes", disk_full_on_second_checkpoint)
    with pytest.raises(
        TrainingError,
        match=r"Could not write a checkpoint .*No space left on device.*checkpoint of step 4 is kept",
    ):
        events(trainer)
    run = ckpt.read_run(run_dir)
    assert run["latest"].endswith("step-00000004.json")
    assert latest_weights(run_dir)  # complete and matching its hash
    monkeypatch.setattr(ckpt, "atomic_write_bytes", real_write)
    resumed = events(resume_run(run_dir, collection_of(tmp_path / "chorales", tmp_path / "cache")))
    assert resumed[-1].event == "finished"
    run = ckpt.read_run(run_dir)
    stems = {Path(run[k]).stem for k in ("latest", "best")}
    leftovers = {p.name for p in (run_dir / "checkpoints").iterdir()}
    assert leftovers == {
        f"{stem}{suffix}" for stem in stems for suffix in (".json", ".safetensors")
    }


def test_pause_and_stop_are_honoured_within_one_step(tmp_path, chorales):
    control = TrainControl()
    trainer = new_run(
        tmp_path / "run", chorales, tiny_model(), tiny_training(steps=50), control=control
    )
    loop = trainer.run()
    assert next(loop).event == "started"
    assert next(loop).step == 1
    control.pause()
    assert next(loop).event == "paused"
    control.resume()
    assert next(loop).event == "resumed"
    assert next(loop).step == 2
    control.stop()
    rest = list(loop)
    assert [p.event for p in rest] == ["checkpoint", "stopped"]
    assert rest[-1].step == 2 and "continue" not in rest[-1].message
    assert ckpt.read_run(tmp_path / "run")["latest"].endswith("step-00000002.json")


def test_damaged_checkpoint_is_refused_with_the_file_named(tmp_path, chorales):
    run_dir = tmp_path / "run"
    events(new_run(run_dir, chorales, tiny_model(), tiny_training(steps=3)))
    weights = next((run_dir / "checkpoints").glob("*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ckpt.CheckpointError, match=f"{weights.name} does not match"):
        resume_run(run_dir, chorales)


def test_no_module_unpickles():
    """Model files must never run code: nothing in the package calls torch.load or pickle."""
    root = Path(__file__).resolve().parents[2] / "composer"
    for path in root.rglob("*.py"):
        text = path.read_text()
        for forbidden in ("torch.load(", "import pickle", "pickle.load", "weights_only=False"):
            assert forbidden not in text, f"{path} uses {forbidden}"
