"""The command line's documentation cannot drift from the code: docs/command-line.md holds the
synopsis argparse prints (scripts/cli_synopsis.py) and explains every option of every command;
and every command names its model with --model (issue 30)."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

from composer.cli import build_parser, main
from tests.conftest import corpus

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "command-line.md"


def _script():
    spec = importlib.util.spec_from_file_location(
        "cli_synopsis", ROOT / "scripts" / "cli_synopsis.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_documented_synopsis_is_the_one_the_code_prints():
    script = _script()
    assert script.block() in DOC.read_text("utf-8"), (
        "docs/command-line.md's synopsis is out of date: run python scripts/cli_synopsis.py --write"
    )


def test_every_option_of_every_command_is_explained_outside_the_synopsis():
    script = _script()
    text = DOC.read_text("utf-8")
    prose = text.split(script.START)[0] + text.split(script.END)[1]
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    missing = [
        f"{name} {option}"
        for name, parser in commands.choices.items()
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help" and option not in prose
    ]
    assert not missing, f"not explained in docs/command-line.md: {', '.join(missing)}"


def test_generate_and_evaluate_take_the_model_as_model_too(tmp_path, capsys):
    out = tmp_path / "a.mid"
    assert main(["generate", "--model", "no-such-model", "--out", str(out)]) != 0
    assert "no-such-model" in capsys.readouterr().err  # --model is the model it reads
    assert main(["generate", "one", "--model", "two", "--out", str(out)]) == 2
    assert "named twice" in capsys.readouterr().err
    chorales = corpus("bach_chorales")
    assert main(["evaluate", "--model", str(tmp_path / "none"), str(chorales)]) != 0
    # The model is the one named by --model, and the position is the folder, not a model.
    assert f"{tmp_path / 'none'} does not exist" in capsys.readouterr().err
    assert main(["evaluate"]) == 2
    assert "name the model to evaluate" in capsys.readouterr().err
