"""`composer generate`: sample new MIDI files from a trained model, optionally continuing a primer."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from composer.cli.model_flag import HELP, add_model_flag, model_of
from composer.cli.steering import add_steering_options, constraints_from
from composer.cli.writing import run_writing, show_sampling
from composer.core.errors import SettingsError
from composer.core.generation.settings import SamplingSettings, random_seed  # torch-free
from composer.core.training.config import DEVICES  # torch-free


def add_parser(commands) -> None:
    generate = commands.add_parser(
        "generate",
        help="write new MIDI files sampled from a trained model",
        description="Sample music from MODEL (a run folder from `composer train`, or a model "
        ".json/.safetensors file; default: the bundled model) and write it as MIDI. With "
        "--variations N, writes N files named from PATH (name-1.mid, name-2.mid, ...). "
        "Greedy output (always the likeliest token) is --top-k 1.",
    )
    generate.add_argument("model", metavar="MODEL", nargs="?", type=Path, help=HELP)
    add_model_flag(generate)
    generate.add_argument(
        "--out", metavar="PATH", type=Path, required=True, help="MIDI file to write"
    )
    length = generate.add_mutually_exclusive_group()
    length.add_argument("--tokens", type=int, metavar="N", help="length in tokens")
    length.add_argument(
        "--seconds",
        type=float,
        metavar="S",
        help=f"length in seconds of music (default {SamplingSettings.seconds:g})",
    )
    add_sampling_options(generate)
    generate.add_argument("--primer", type=Path, metavar="FILE.mid", help="continue this MIDI file")
    generate.add_argument(
        "--continuation-only", action="store_true", help="with --primer: write only the new music"
    )
    generate.add_argument(
        "--device",
        choices=list(DEVICES),
        default="cpu",
        help="where to run the model (cpu)",
    )
    generate.add_argument("--force", action="store_true", help="overwrite existing files")
    add_steering_options(generate)
    generate.set_defaults(run=run)


def add_sampling_options(parser, *, top_k: bool = True) -> None:
    """--temperature, --top-k (unless `top_k` is False), --top-p, --seed and --variations, with
    SamplingSettings' defaults: shared by the commands that sample."""
    parser.add_argument(
        "--temperature",
        type=float,
        default=SamplingSettings.temperature,
        metavar="T",
        help=f"> 0; lower is safer ({SamplingSettings.temperature})",
    )
    if top_k:
        parser.add_argument(
            "--top-k",
            type=int,
            default=SamplingSettings.top_k,
            metavar="K",
            help=f"sample from the K likeliest tokens (0: all; default {SamplingSettings.top_k})",
        )
    parser.add_argument(
        "--top-p",
        type=float,
        default=SamplingSettings.top_p,
        metavar="P",
        help=f"nucleus: the likeliest tokens holding P of the probability ({SamplingSettings.top_p})",
    )
    parser.add_argument(
        "--seed",
        type=int,
        metavar="S",
        help="same seed and settings, same music (default: random, printed)",
    )
    parser.add_argument(
        "--style",
        metavar="NAME",
        help="for a model that knows styles (the bundled one: pop, folk, chorale, fiddle, "
        "classical, madrigal): play in this one, or 'any' (default: a fine-tuned run's own "
        "collection, else any)",
    )
    parser.add_argument(
        "--variations",
        type=int,
        default=SamplingSettings.variations,
        metavar="N",
        help=f"pieces to write, a file each ({SamplingSettings.variations})",
    )


def output_paths(out: Path, variations: int) -> list[Path]:
    """PATH for one piece; name-1.mid, name-2.mid, ... beside it for several."""
    if variations == 1:
        return [out]
    suffix = out.suffix or ".mid"
    return [out.with_name(f"{out.stem}-{i}{suffix}") for i in range(1, variations + 1)]


def run(args: argparse.Namespace) -> int:
    return run_writing("generate", _generate, args)


def _generate(args, written: list[Path]) -> int:
    from composer.core.generation import Sampler, load_model
    from composer.core.midi import read_midi
    from composer.core.training.distributed import select_device
    from composer.resources import default_model

    seed = args.seed if args.seed is not None else random_seed()
    # --seconds 0 is an error, not the default
    seconds = SamplingSettings.seconds if args.seconds is None else args.seconds
    settings = SamplingSettings(  # checks every value against the limits in the core
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        max_tokens=args.tokens,
        seconds=None if args.tokens is not None else seconds,
        seed=seed,
        variations=args.variations,
        style=args.style,
    )
    paths = output_paths(args.out, args.variations)
    if args.continuation_only and not args.primer:
        raise SettingsError("--continuation-only needs --primer")
    check_outputs(paths, args.force)  # before minutes of sampling, not after

    model = load_model(model_of(args) or default_model(), select_device(args.device))
    primer = read_midi(args.primer) if args.primer else None
    constraints = constraints_from(args, model.vocab.config.steps_per_beat, primer)
    if primer is not None and primer.note_count == 0:
        raise SettingsError(f"{args.primer} has no notes to continue; choose a primer with notes")
    # The primer as a Piece: written back exactly, its tempo and metre going on (Sampler).
    sampler = Sampler(model, settings, primer, constraints=constraints)
    style = f"style {sampler.style_name}; " if sampler.style_name else ""
    print(f"Model {model.name}; {style}seed {seed}")  # first: an interrupted run shows it too
    try:
        show_sampling(sampler)
    except KeyboardInterrupt:
        # Keep the complete pieces: the variations that had ended or reached their length.
        _write(sampler, sampler.finished(), paths, args, written)
        raise
    _write(sampler, range(args.variations), paths, args, written)
    return 1 if sampler.silent() else 0


def check_outputs(paths: list[Path], force: bool) -> None:
    """Every output name can be written: none is a folder, a device or a pipe (never replaced,
    even with --force), none exists without --force, and their folder takes a new file."""
    from composer.core.files.atomic import check_target, check_writable

    for path in paths:
        check_target(path)
    taken = [p for p in paths if p.exists()]
    if taken and not force:
        raise FileExistsError(
            f"{taken[0]} already exists; choose another --out or add --force to replace it"
        )
    check_writable(paths[0])  # they share a folder


def _write(sampler, which, paths: list[Path], args, written: list[Path]) -> None:
    """Write the variations `which` (indices) to their paths, adding each to `written`; those
    that wrote no note are not written, and a sentence names them."""
    from composer.core.midi import write_midi

    empty = [i for i in which if i in sampler.silent()]
    which = [i for i in which if i not in empty]
    if empty:  # a file without notes is not music: never written as if it were
        names = ", ".join(str(paths[i]) for i in empty)
        said = sampler.silent_sentence(f"for {names}", "so nothing was saved there")
        print(f"composer generate: {said}.", file=sys.stderr)
    for index, piece in zip(which, sampler.pieces(args.continuation_only, which)):
        write_midi(piece, paths[index], overwrite=args.force)
        written.append(paths[index])
        print(f"Wrote {paths[index]} ({piece.duration_seconds:.1f} s, {piece.note_count} notes)")
