"""`composer train --resume` with the run's own settings repeated: accepted; with others: refused,
naming only the flags whose values differ."""

from __future__ import annotations

import json

import pytest

from composer.cli import main
from tests.conftest import corpus
from tests.training_helpers import copy_chorales

# A run as a user would type it, with the preset and a seed, kept tiny and quick.
FIRST = ["--preset", "small", "--seed", "1", "--window", "32", "--batch-size", "2",
         "--eval-every", "2", "--device", "cpu"]  # fmt: skip


@pytest.mark.slow
def test_resume_accepts_the_runs_own_preset_and_seed_and_refuses_only_changes(tmp_path, capsys):
    chorales = copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 4)
    run = tmp_path / "run"
    assert main(["train", str(chorales), "--out", str(run), "--steps", "2", *FIRST]) == 0
    capsys.readouterr()

    again = ["train", str(chorales), "--out", str(run), "--resume"]
    assert main([*again, "--preset", "medium", "--seed", "1", "--window", "64"]) == 2
    err = capsys.readouterr().err
    assert (
        "only --steps, --epochs, --minutes and --device may change (drop --preset, --window," in err
    )
    assert "--seed" not in err  # the seed is the run's own
    assert main([*again, "--seed", "2", "--layers", "2", "--batch-size", "2"]) == 2
    assert "(drop --seed, or give the run's own values)" in capsys.readouterr().err

    assert main([*again, "--preset", "small", "--seed", "1", "--steps", "3"]) == 0
    out = capsys.readouterr().out
    assert "Resuming at step 2" in out and "Finished 3 steps" in out
    assert main([*again, *FIRST, "--steps", "4"]) == 0  # every setting repeated as first given
    assert json.loads((run / "run.json").read_text())["step"] == 4
