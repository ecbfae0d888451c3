"""A small real collection and tiny model settings, so that training tests take seconds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from composer.core.corpus import TokenCache, ingest
from composer.core.model import ModelConfig
from composer.core.tokens import TokenizerConfig, Vocabulary
from composer.core.training import Collection, TrainConfig

VOCAB_SIZE = len(Vocabulary(TokenizerConfig()))


def copy_chorales(source: Path, folder: Path, count: int) -> Path:
    """The first `count` Bach chorales (by name) copied into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.mid"))[:count]:
        shutil.copy(path, folder / path.name)
    return folder


def collection_of(
    folder: Path, cache_root: Path, tokenizer: TokenizerConfig | None = None
) -> Collection:
    tokenizer = tokenizer or TokenizerConfig()
    report = ingest(folder, cache_root, tokenizer, jobs=0)
    return Collection.from_ingest(report, TokenCache(cache_root, tokenizer))


def tiny_model(dropout: float = 0.1) -> ModelConfig:
    return ModelConfig(VOCAB_SIZE, hidden_size=32, layers=2, embedding_size=16, dropout=dropout)


def tiny_training(**changes) -> TrainConfig:
    settings = dict(
        steps=12,
        batch_size=4,
        window=64,
        eval_every=4,
        log_every=2,
        warmup_steps=2,
        max_validation_tokens=2000,
        validation_fraction=0.2,
        device="cpu",
        # The reach these few-step tests were written with: at the default ±6, 40 steps of a
        # tiny model learn the chorales too slowly for "well below a uniform guess".
        transpose=3,
    )
    settings.update(changes)
    return TrainConfig(**settings)


def tiny_trained_run(tmp_path: Path, files: int, steps: int) -> tuple[Path, dict]:
    """A tiny model trained on `files` chorales for `steps` steps: (run folder, its run.json)."""
    from composer.core.training import new_run
    from tests.conftest import corpus

    folder = copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", files)
    run_dir = tmp_path / "run"
    trainer = new_run(
        run_dir, collection_of(folder, tmp_path / "cache"), tiny_model(), tiny_training(steps=steps)
    )
    for _ in trainer.run():
        pass
    return run_dir, json.loads((run_dir / "run.json").read_text())


def tiny_panel_settings(panel, steps: int, eval_every: int = 5) -> None:
    """Set the app's Train panel to a tiny empty model that trains in seconds on the CPU."""
    panel.start_from.set_kind("empty")
    panel.advanced.setChecked(True)
    for name, value in (
        ("layers", 1),
        ("hidden_size", 32),
        ("embedding_size", 16),
        ("batch_size", 4),
        ("window", 64),
        ("eval_every", eval_every),
    ):
        panel.fields[name].setValue(value)
    panel.steps.setValue(steps)
    panel.device.setCurrentIndex(panel.device.findData("cpu"))
