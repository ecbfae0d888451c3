"""The bundled model: exported like any checkpoint, small, with its provenance, and it makes music
with no data and no training."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from composer.cli import main
from composer.core.generation import Sampler, SamplingSettings, load_model
from composer.core.training.export import export_model
from composer.resources import default_model
from tests.conftest import bundled_model_name
from tests.training_helpers import tiny_trained_run

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "model"


def test_the_bundled_model_is_small_documented_and_makes_music(tmp_path, capsys):
    path = default_model()
    assert path == ASSETS / "model.json"
    info = json.loads(path.read_text())
    assert (ASSETS / "model.safetensors").stat().st_size <= 25 * 1024 * 1024
    assert {"name", "data", "command", "seed", "best_step"} <= set(info["provenance"])
    loaded = load_model(path)
    sampler = Sampler(loaded, SamplingSettings(seconds=10, seed=3, variations=2))
    list(sampler.run())
    for piece in sampler.pieces():
        assert (
            piece.note_count > 10
            and len({int(p) for t in piece.tracks for p in t.notes["pitch"]}) > 4
        )
    out = tmp_path / "tune.mid"
    assert main(["generate", "--out", str(out), "--seconds", "5", "--seed", "1"]) == 0  # no MODEL
    assert bundled_model_name() in capsys.readouterr().out and out.exists()


def test_export_keeps_the_model_and_drops_the_training_state(tmp_path):
    _, run = tiny_trained_run(tmp_path, files=6, steps=4)
    exported = export_model(
        tmp_path / "run" / run["latest"], tmp_path / "out", provenance={"name": "test"}
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "model.json",
        "model.safetensors",
    ]
    original, small = load_model(tmp_path / "run"), load_model(exported)
    assert small.name == "test"
    tokens = torch.randint(3, original.config.vocab_size, (2, 30))
    torch.testing.assert_close(
        small.model(tokens)[0], original.model(tokens)[0], atol=2e-2, rtol=2e-2
    )  # fp16
    assert (tmp_path / "out" / "model.safetensors").stat().st_size < (
        tmp_path / "run" / run["latest"]
    ).with_suffix(".safetensors").stat().st_size / 4
