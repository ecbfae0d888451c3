"""One way to name a model on every command: `--model MODEL` (fill and accompany have only it);
generate and evaluate also keep MODEL as a position, as they always did."""

from __future__ import annotations

import argparse
from pathlib import Path

from composer.core.errors import SettingsError

HELP = "run folder or model file (also --model)"


def add_model_flag(parser: argparse.ArgumentParser) -> None:
    """--model, beside a MODEL position the command already has (dest "model")."""
    parser.add_argument(
        "--model", dest="model_flag", metavar="MODEL", type=Path, help="run folder or model file"
    )


def model_of(args: argparse.Namespace) -> Path | None:
    """The model named as MODEL or as --model (None: neither); SettingsError for both."""
    given, flag = args.model, args.model_flag
    if given is not None and flag is not None and given != flag:
        raise SettingsError(f"the model is named twice ({given} and --model {flag}); give it once")
    return flag if flag is not None else given
