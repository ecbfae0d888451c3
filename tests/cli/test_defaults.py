"""One home for each default: the core's dataclasses (SamplingSettings, TrainConfig). The command
line, its help and the app's settings read them from there; these tests fail when one drifts."""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys

from composer.cli import build_parser, train_flags
from composer.core.generation.settings import SamplingSettings
from composer.core.training.config import TrainConfig

# Which dataclass each command's options stand for.
HOMES = {"generate": SamplingSettings, "fill": SamplingSettings, "train": TrainConfig}


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (commands,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(commands.choices)


def disagreements(parser: argparse.ArgumentParser) -> list[str]:
    """Every option whose dest is a field of its command's dataclass and whose default (when it
    has one: None means "the dataclass decides") is not that field's default."""
    found = []
    for command, home in HOMES.items():
        names = {f.name for f in dataclasses.fields(home)}
        for action in subcommands(parser)[command]._actions:
            if action.dest not in names or action.default in (None, argparse.SUPPRESS):
                continue
            core = getattr(home, action.dest)
            if action.default != core:
                found.append(f"{command} --{action.dest}: {action.default!r}, core {core!r}")
    return found


def test_command_line_defaults_are_the_core_defaults():
    parser = build_parser()
    assert disagreements(parser) == []
    checked = {
        (command, a.dest)
        for command, home in HOMES.items()
        for a in subcommands(parser)[command]._actions
        if a.dest in {f.name for f in dataclasses.fields(home)} and a.default is not None
    }
    # The sampling options the command line sets itself are among those compared.
    assert {("generate", "top_p"), ("generate", "temperature"), ("fill", "top_p")} <= checked


def test_a_planted_disagreement_is_caught():
    parser = build_parser()
    generate = subcommands(parser)["generate"]
    (top_p,) = (a for a in generate._actions if a.dest == "top_p")
    top_p.default = 1.0  # the drift issue 19 found: 1.0 in one place, 0.95 in the others
    assert disagreements(parser) == [f"generate --top_p: 1.0, core {SamplingSettings.top_p!r}"]


def test_the_musical_top_p_is_the_core_default():
    assert SamplingSettings().top_p == SamplingSettings.top_p == 0.95


def help_disagreements(advanced) -> list[str]:
    """The train command's advanced options whose help does not show TrainConfig's default."""
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    found = []
    for flag, _kind, _metavar, text in advanced:
        name = flag[2:].replace("-", "_")
        if name in names and f"({getattr(TrainConfig, name):g})" not in text:
            found.append(f"{flag}: {text!r}")
    return found


def test_train_help_shows_the_train_config_defaults(monkeypatch):
    assert help_disagreements(train_flags.ADVANCED) == []
    shown = {flag[2:].replace("-", "_") for flag, *_ in train_flags.ADVANCED}
    assert {"window", "learning_rate", "fill_in", "tempo_stretch"} <= shown
    monkeypatch.setattr(TrainConfig, "window", 256)  # a default changed, the help not
    assert help_disagreements(train_flags.ADVANCED) == [
        "--window: 'tokens per backprop window (128)'"
    ]


def test_app_settings_defaults_are_the_core_defaults():
    from composer.app import settings

    keys = {
        settings.TEMPERATURE: "temperature",
        settings.TOP_K: "top_k",
        settings.TOP_P: "top_p",
        settings.SECONDS: "seconds",
    }

    def wrong(keys):
        return [k.name for k, f in keys.items() if k.default != getattr(SamplingSettings, f)]

    assert wrong(keys) == []
    planted = dataclasses.replace(settings.TOP_P, default=1.0)
    assert wrong({**keys, planted: "top_p"}) == ["generation/top_p"]


def test_train_panel_defaults_are_the_train_config_defaults():
    from composer.app.panels import training_panel

    for name, _label, _low, _high, _step, default in training_panel._ADVANCED:
        if default is None:  # the preset's value
            continue
        core = getattr(TrainConfig, name)
        assert default == (0 if core is None else core), name  # patience shows None as 0


def test_building_the_parser_loads_no_torch_numpy_or_qt():
    code = (
        "import sys; from composer.cli import build_parser; build_parser(); "
        "print([m for m in ('torch', 'numpy', 'PySide6') if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr


def test_a_new_seed_keeps_the_validation_split_in_the_app_as_on_the_command_line(window):
    """The seed changes the weights and the order; which files validate stays put (split_seed),
    in the Train panel as in `composer train --seed`."""
    panel = window.training
    panel.fields["seed"].setValue(5)
    assert panel.train_config().seed == 5
    assert panel.train_config().split_seed == TrainConfig.split_seed
