"""`composer train`'s flags: the advanced settings it offers, and which may change on --resume."""

from __future__ import annotations

from composer.core.training.config import TrainConfig  # torch-free: the defaults

# Options that shape the model or the data order; a resumed run keeps its own, so on resume they
# may only repeat the run's values.
MODEL_ON_RESUME = {
    "layers": "--layers",
    "hidden_size": "--hidden-size",
    "embedding_size": "--embedding-size",
    "dropout": "--dropout",
}
TRAINING_ON_RESUME = {
    "batch_size": "--batch-size",
    "window": "--window",
    "seed": "--seed",
    "learning_rate": "--learning-rate",
    "validation_fraction": "--validation-fraction",
    "patience": "--patience",
    "eval_every": "--eval-every",
    "transpose": "--transpose",
    "tempo_stretch": "--tempo-stretch",
    "fill_in": "--fill-in",
    "precision": "--precision",
    "styles": "--styles",
}

# Every model and training setting, for those who want to change one: (flag, type, metavar, help).
# The training defaults shown come from TrainConfig, their one home (the model's from the preset).
ADVANCED = [
    ("--layers", int, "N", "LSTM layers (preset)"),
    ("--hidden-size", int, "N", "LSTM units per layer (preset)"),
    ("--embedding-size", int, "N", "token vector width (preset)"),
    ("--dropout", float, "P", "dropout probability (preset)"),
    ("--window", int, "T", f"tokens per backprop window ({TrainConfig.window})"),
    ("--learning-rate", float, "LR", f"peak AdamW rate ({TrainConfig.learning_rate:g})"),
    ("--validation-fraction", float, "F", f"files held out ({TrainConfig.validation_fraction})"),
    (
        "--eval-every",
        int,
        "N",
        f"steps between validation and checkpoint ({TrainConfig.eval_every})",
    ),
    ("--transpose", int, "N", f"random transposition, semitones ({TrainConfig.transpose})"),
    ("--tempo-stretch", float, "F", f"random tempo factor 1+-F ({TrainConfig.tempo_stretch})"),
    (
        "--fill-in",
        float,
        "P",
        f"share of fill-in-the-middle examples, 0 to 0.9 ({TrainConfig.fill_in})",
    ),
]


def changed_on_resume(args, saved) -> list[str]:
    """The flags given with --resume whose values differ from the run's own (`saved`, its
    RunInfo). --preset stands for its model fields (those not given by --layers etc. beside it)."""
    from composer.core.model.config import PRESETS, ModelConfig
    from composer.core.training.runs import settings_that_differ

    model = given(args, MODEL_ON_RESUME)
    from_preset = {k: v for k, v in PRESETS.get(args.preset, {}).items() if k not in model}
    differ = settings_that_differ(saved, {**from_preset, **model}, given(args, TRAINING_ON_RESUME))
    flags = {**MODEL_ON_RESUME, **TRAINING_ON_RESUME}
    preset = ["--preset"] if any(name in from_preset for name in differ) else []
    # --context asks for the context inputs it gives now: a run that lacks some (none, or made
    # before the phrase lags) cannot grow them on resume.
    context = []
    if args.context:
        own = ModelConfig.from_dict(saved.model)
        steps = own.context_steps or int(saved.tokenizer.get("steps_per_beat", 12))
        if own.hearing_context(steps) != own:
            context = ["--context"]
    return preset + [flags[name] for name in differ if name not in from_preset] + context


def given(args, flags: dict[str, str]) -> dict:
    """The options of `flags` given on the command line, by name."""
    return {name: getattr(args, name) for name in flags if getattr(args, name) is not None}
