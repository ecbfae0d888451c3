"""`composer evaluate`: is the model any good, and is it copying?"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from composer.cli.model_flag import HELP, add_model_flag, model_of
from composer.core.errors import SettingsError
from composer.core.generation.settings import (  # torch-free: the defaults
    EVALUATION_SAMPLES,
    EVALUATION_SECONDS,
    EVALUATION_SEED,
)


def add_parser(commands) -> None:
    evaluate = commands.add_parser(
        "evaluate",
        help="measure a model: likelihood, an n-gram baseline, musical statistics, copying",
        description="Evaluate MODEL (a run folder, or a model .json file) on its run's validation "
        "files, or on the MIDI files in DIR: negative log-likelihood per token against a 5-gram "
        "Kneser-Ney baseline, the same with only 32 tokens of context, statistics of --samples "
        "generated pieces against the files with their overlapping areas, and the longest run of "
        "generated notes found in a training file.",
    )
    evaluate.add_argument("model", metavar="MODEL", type=Path, nargs="?", help=HELP)
    evaluate.add_argument(
        "folder", metavar="DIR", type=Path, nargs="?", help="evaluate on these files"
    )
    add_model_flag(evaluate)
    evaluate.add_argument(
        "--samples",
        type=int,
        default=EVALUATION_SAMPLES,
        metavar="N",
        help=f"pieces to generate ({EVALUATION_SAMPLES})",
    )
    evaluate.add_argument(
        "--seconds",
        type=float,
        default=EVALUATION_SECONDS,
        metavar="S",
        help=f"length of each ({EVALUATION_SECONDS:g})",
    )
    evaluate.add_argument(
        "--seed",
        type=int,
        default=EVALUATION_SEED,
        metavar="S",
        help=f"sampling seed ({EVALUATION_SEED})",
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object instead")
    evaluate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from composer.core.evaluation import EvaluationError, evaluate, format_report
    from composer.core.files.folders import default_cache_dir
    from composer.core.generation import ModelFileError

    if args.samples < 2:
        print(
            "composer evaluate: --samples must be at least 2 (distances need pairs).",
            file=sys.stderr,
        )
        return 2
    if args.model_flag is not None and args.model is not None and args.folder is None:
        args.model, args.folder = None, args.model  # evaluate --model M DIR: the position is DIR
    try:
        model = model_of(args)
    except SettingsError as exc:
        print(f"composer evaluate: {exc}.", file=sys.stderr)
        return 2
    if model is None:
        print("composer evaluate: name the model to evaluate (MODEL or --model).", file=sys.stderr)
        return 2
    show = sys.stderr.isatty() and not args.json
    try:
        result = evaluate(
            model,
            args.folder,
            default_cache_dir(),
            samples=args.samples,
            seconds=args.seconds,
            seed=args.seed,
            on_step=(lambda text: print(text, file=sys.stderr)) if show else None,
        )
    except (
        ModelFileError,
        EvaluationError,
        FileNotFoundError,
        NotADirectoryError,
        SettingsError,  # sampling settings out of range (--seconds inf)
    ) as exc:
        print(f"composer evaluate: {str(exc).rstrip('.')}.", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    return 0
