"""Fine-tuning: a run started --from trained weights begins exactly at them, records where it
came from, gets fine-tuning settings, and refuses weights that read another vocabulary."""

from __future__ import annotations

import json

import pytest
import torch

from composer.cli import main
from composer.core.tokens import TokenizerConfig, Vocabulary
from composer.core.training import TrainingError, new_run
from composer.core.training.start_from import read_start
from tests.conftest import corpus
from tests.training_helpers import collection_of, copy_chorales, tiny_trained_run, tiny_training


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model trained 6 steps on 6 chorales: (run folder, its run.json)."""
    return tiny_trained_run(tmp_path_factory.mktemp("base"), files=6, steps=6)


def test_a_run_from_weights_starts_exactly_at_them(trained, tmp_path):
    base_dir, base_run = trained
    start = read_start(base_dir)
    assert start.name.startswith("run (step")
    # The same files and split as the base run: its last validation is where the new run starts.
    folder = copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 6)
    trainer = new_run(
        tmp_path / "tuned", collection_of(folder, tmp_path / "cache"), start.model,
        tiny_training(steps=2), start_from=start,
    )  # fmt: skip
    from composer.core.generation.loading import load_model

    base = load_model(base_dir).model.state_dict()
    for name, tensor in trainer.model.state_dict().items():
        assert torch.equal(tensor.cpu(), base[name]), name
    assert trainer.validation_loss() == pytest.approx(base_run["best_val_loss"], abs=1e-5)
    for _ in trainer.run():
        pass
    run = json.loads((tmp_path / "tuned" / "run.json").read_text())
    assert run["from"] == {"model": str(start.path), "name": start.name}
    assert run["step"] == 2


def test_weights_that_read_another_vocabulary_are_refused(trained, tmp_path):
    base_dir, _ = trained
    start = read_start(base_dir)
    other = TokenizerConfig(velocity_bins=8)
    assert len(Vocabulary(other)) != len(start.vocab)
    folder = copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 3)
    with pytest.raises(TrainingError, match="reads a different vocabulary"):
        new_run(
            tmp_path / "tuned", collection_of(folder, tmp_path / "cache", other), start.model,
            tiny_training(steps=2), start_from=start,
        )  # fmt: skip
    assert not (tmp_path / "tuned").exists()


def test_train_from_on_the_command_line(trained, tmp_path, capsys):
    base_dir, _ = trained
    folder = copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 4)
    cache = ["--cache-dir", str(tmp_path / "cache")]
    out = tmp_path / "tuned"
    tiny = ["--batch-size", "4", "--window", "64", "--eval-every", "2", "--device", "cpu"]
    assert main(["train", str(folder), "--out", str(out), "--from", str(base_dir),
                 "--steps", "2", *tiny, *cache]) == 0  # fmt: skip
    run = json.loads((out / "run.json").read_text())
    assert run["from"]["name"].startswith("run (step")
    assert run["training"]["learning_rate"] == 5e-4  # the fine-tuning default
    assert run["model"] == json.loads((base_dir / "run.json").read_text())["model"]
    capsys.readouterr()
    assert main(["train", str(folder), "--out", str(tmp_path / "x"), "--from",
                 str(tmp_path / "nothing"), *cache]) == 1  # fmt: skip
    error = capsys.readouterr().err.strip()
    assert error.startswith("composer train: ") and "nothing" in error and error.count("\n") == 0
    assert main(["train", str(folder), "--out", str(tmp_path / "y"), "--from", str(base_dir),
                 "--preset", "medium", *cache]) == 2  # fmt: skip
    assert "drop --preset" in capsys.readouterr().err


def test_evaluating_a_fine_tuned_run_scores_the_model_it_started_from(trained, tmp_path):
    from composer.core.evaluation import evaluate, format_report

    base_dir, _ = trained
    start = read_start(base_dir)
    folder = copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 6)
    cache = tmp_path / "cache"
    trainer = new_run(tmp_path / "tuned", collection_of(folder, cache), start.model,
                      tiny_training(steps=8, learning_rate=5e-3), start_from=start)  # fmt: skip
    for _ in trainer.run():
        pass
    result = evaluate(tmp_path / "tuned", None, cache, samples=2, seconds=2.0)
    before = result["start_from"]
    assert before["model"] == start.name
    assert before["nats_gained"] == pytest.approx(before["nats"] - result["lstm"]["nats"], abs=2e-4)
    # The run's validation files scored by the base model itself give the "before" figure.
    import shutil

    held = tmp_path / "held"
    held.mkdir()
    for _, path in json.loads((tmp_path / "tuned" / "run.json").read_text())["data"]["validation"]:
        shutil.copy(path, held)
    alone = evaluate(base_dir, held, cache, samples=2, seconds=2.0)
    assert alone["lstm"]["nats"] == pytest.approx(before["nats"], abs=2e-4)
    assert "Before fine-tuning, run (step" in format_report(result)
    untouched = evaluate(base_dir, None, cache, samples=2, seconds=2.0)
    assert untouched["start_from"] is None


@pytest.mark.slow
def test_the_word_base_names_the_bundled_model(tmp_path, capsys):
    folder = copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 2)
    args = ["train", str(folder), "--out", str(tmp_path / "x"), "--from", "base",
            "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
    assert main([*args, "--preset", "medium"]) == 2  # read first, then refused: it has a size
    assert "--from trains the model it names, at its own size; drop --preset" in (
        capsys.readouterr().err
    )
    assert main([*args, "--minutes", "0.01", "--device", "cpu"]) == 0
    run = json.loads((tmp_path / "x" / "run.json").read_text())
    assert run["from"]["model"].endswith("assets/model/model.json")
    assert run["training"]["patience"] == 8 and run["training"]["eval_every"] == 50
