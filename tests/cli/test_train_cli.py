"""`composer train` as a user runs it: a run, refusals, Ctrl+C, resume, and two processes (gloo)."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from composer.cli import main
from composer.core.tokens import TokenizerConfig, Vocabulary
from tests.conftest import corpus
from tests.training_helpers import copy_chorales

TINY = ["--hidden-size", "32", "--embedding-size", "16", "--window", "64", "--device", "cpu"]


@pytest.fixture
def chorales(tmp_path) -> Path:
    return copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 8)


def _composer(*args, env=None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "composer", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        **kwargs,
    )


@pytest.mark.slow
def test_train_writes_a_run_and_resume_extends_it(tmp_path, chorales, capsys):
    run = tmp_path / "run"
    assert (
        main(
            ["train", str(chorales), "--out", str(run), "--steps", "4", "--eval-every", "2", *TINY]
        )
        == 0
    )
    out = capsys.readouterr().out
    uniform = math.log(len(Vocabulary(TokenizerConfig())))  # nats of a guess among all ids
    assert "8 usable files of 8" in out and f"uniform guess scores {uniform:.2f}" in out
    assert "Finished 4 steps" in out and "Best validation loss" in out
    assert json.loads((run / "run.json").read_text())["step"] == 4
    # The heading names the device, not a thread count the tuner may change a moment later
    # (the app's heading said 2 threads beside a Device readout of 1), and no engineer's words.
    heading = next(line for line in out.splitlines() if line.startswith("Training:"))
    assert heading.endswith("on the CPU") and "thread" not in heading
    assert "spans to fill in" not in heading

    assert main(["train", "--out", str(run), "--resume", "--steps", "6"]) == 0  # DIR from run.json
    out = capsys.readouterr().out
    assert "Resuming at step 4" in out and "Finished 6 steps" in out


def test_train_refusals_are_one_clear_sentence(tmp_path, chorales, capsys):
    run = tmp_path / "run"
    assert main(["train", str(chorales), "--out", str(run), "--steps", "2", *TINY]) == 0
    capsys.readouterr()
    assert main(["train", str(chorales), "--out", str(run), "--steps", "2", *TINY]) == 2
    assert "already holds a training run; add --resume" in capsys.readouterr().err
    assert main(["train", "--out", str(run), "--resume", "--preset", "large"]) == 2
    assert (
        "only --steps, --epochs, --minutes and --device may change (drop --preset"
        in capsys.readouterr().err
    )
    assert main(["train", "--out", str(tmp_path / "nothing"), "--resume"]) == 2
    assert "run.json does not exist" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "missing"), "--out", str(tmp_path / "r2")]) == 2
    assert "missing does not exist; check the path." in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", str(empty), "--out", str(tmp_path / "r3")]) == 2
    assert "no usable MIDI file" in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert (
            main(["train", str(chorales), "--out", str(tmp_path / "r4"), "--device", "cuda"]) == 2
        )
        assert "sees no usable NVIDIA GPU; use --device cpu" in capsys.readouterr().err


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_resume_continues(tmp_path, chorales):
    run = tmp_path / "run"
    process = _composer(
        "train", chorales, "--out", run, "--steps", "100000", "--eval-every", "100000", *TINY
    )
    metrics = run / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and '"event": "train"' not in (
        metrics.read_text() if metrics.exists() else ""
    ):
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Stopping after this step" in err
    assert "checkpoint is saved" in out and "--resume" in out
    saved = json.loads((run / "run.json").read_text())
    assert saved["step"] >= 2 and saved["latest"].endswith(f"step-{saved['step']:08d}.json")

    resumed = _composer("train", "--out", run, "--resume", "--steps", saved["step"] + 2)
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    assert f"Resuming at step {saved['step']}" in out


@pytest.mark.slow
def test_two_processes_with_gloo_train_like_one_with_both_batches(tmp_path, chorales):
    """torchrun with 2 CPU processes x 4 lanes reaches the weights of 1 process x 8 lanes."""
    common = ["--steps", "4", "--eval-every", "2", "--dropout", "0", *TINY]
    env = {"COMPOSER_CACHE_DIR": str(tmp_path / "cache")}
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    two = subprocess.run(
        [
            *launcher,
            "-m",
            "composer",
            "train",
            str(chorales),
            "--out",
            str(tmp_path / "two"),
            "--batch-size",
            "4",
            *common,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )
    assert two.returncode == 0, two.stderr[-3000:]
    assert two.stdout.count("Finished 4 steps") == 1  # rank 0 alone prints
    assert "x2 processes" in two.stdout
    one = _composer(
        "train", chorales, "--out", tmp_path / "one", "--batch-size", "8", *common, env=env
    )
    _, err = one.communicate(timeout=120)
    assert one.returncode == 0, err

    runs = [json.loads((tmp_path / name / "run.json").read_text()) for name in ("two", "one")]
    assert [r["step"] for r in runs] == [4, 4]
    latest = Path(runs[0]["latest"]).with_suffix(".safetensors")
    weights = [load_file(tmp_path / name / latest) for name in ("two", "one")]
    for key in weights[1]:
        if key.startswith("model."):
            torch.testing.assert_close(weights[0][key], weights[1][key], rtol=1e-4, atol=1e-5)
    assert weights[0]["train.h"].shape == weights[1]["train.h"].shape  # all 8 lanes were saved
    assert weights[0]["rng.cpu"].shape[0] == 2
    files = {p.name for p in (tmp_path / "two").rglob("*") if p.is_file()} - {".lock"}
    assert all(name.endswith((".json", ".jsonl", ".safetensors")) for name in files)


@pytest.mark.slow
def test_two_processes_fine_tune_from_a_run_for_a_time_budget(tmp_path, chorales):
    """--from and --minutes under torchrun: both ranks load the weights, and both stop at the
    same step when the time is spent (a rank that stopped alone would hang the other)."""
    env = {"COMPOSER_CACHE_DIR": str(tmp_path / "cache")}
    base = _composer("train", chorales, "--out", tmp_path / "base", "--steps", "2", *TINY, env=env)
    assert base.wait(timeout=120) == 0
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    tuned = subprocess.run(
        [*launcher, "-m", "composer", "train", str(chorales), "--out", str(tmp_path / "tuned"),
         "--from", str(tmp_path / "base"), "--minutes", "0.05", "--batch-size", "4",
         "--window", "64", "--device", "cpu"],
        capture_output=True, text=True, timeout=300, env={**os.environ, **env},
    )  # fmt: skip
    assert tuned.returncode == 0, tuned.stderr[-3000:]
    assert tuned.stdout.count("in the 0.05 minutes given") == 1
    assert "Fine-tuning base (step 2)" in tuned.stdout
    run = json.loads((tmp_path / "tuned" / "run.json").read_text())
    assert run["from"]["model"].startswith(str((tmp_path / "base").resolve()))
    assert run["step"] >= 1 and run["training"]["minutes"] == 0.05
