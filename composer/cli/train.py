"""`composer train`: ingest a folder (through the cache) and train an LSTM on it, or resume a run.

Under `torchrun --nproc_per_node=N -m composer train ...` every process runs this command; rank 0
ingests and prints while the others wait, then all train together.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
from dataclasses import replace
from pathlib import Path

from composer.cli.fixes import in_cli_words
from composer.cli.ingest import add_cache_options
from composer.cli.train_flags import ADVANCED, MODEL_ON_RESUME, changed_on_resume
from composer.core.errors import SettingsError
from composer.core.files.folders import default_cache_dir
from composer.core.training.config import (  # torch-free: the defaults and the choices
    DEVICES,
    FINE_TUNING,
    PRECISIONS,
    TrainConfig,
)
from composer.core.training.progress import TrainEvent  # torch-free


def add_parser(commands) -> None:
    from composer.core.model.config import PRESET_HELP

    train = commands.add_parser(
        "train",
        help="train an LSTM on a folder of MIDI files (or resume a run)",
        description="Read DIR through the token cache, split its files into training and "
        "validation, and train an LSTM, writing checkpoints (safetensors + JSON) and a metrics "
        "log (metrics.jsonl) into RUN. Ctrl+C saves a checkpoint and stops; --resume continues.",
    )
    train.add_argument(
        "folder",
        metavar="DIR",
        type=Path,
        nargs="?",
        help="folder of MIDI files (with --resume, defaults to the folder the run was started on)",
    )
    train.add_argument("--out", metavar="RUN", type=Path, required=True, help="run folder")
    presets = "; ".join(f"{name}: {text}" for name, text in PRESET_HELP.items())
    train.add_argument(
        "--preset", choices=list(PRESET_HELP), help=f"model size, default small. {presets}"
    )
    length = train.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, metavar="N", help="optimizer steps in all")
    length.add_argument(
        "--epochs",
        type=int,
        metavar="N",
        help=f"passes over the files (default {TrainConfig.epochs})",
    )
    length.add_argument(
        "--minutes",
        type=float,
        metavar="M",
        help="train for M minutes instead (the learning rate decays over them)",
    )
    train.add_argument(
        "--patience",
        type=int,
        metavar="N",
        help="stop early when N validations in a row bring no new best (default: never; "
        "8 with --from); the best checkpoint is kept",
    )
    train.add_argument(
        "--device",
        choices=list(DEVICES),
        help=f"default {TrainConfig.device}: cuda, mps, then cpu",
    )
    train.add_argument(
        "--batch-size",
        type=int,
        metavar="B",
        help=f"pieces read side by side per process ({TrainConfig.batch_size})",
    )
    train.add_argument(
        "--seed",
        type=int,
        metavar="S",
        help=f"weights, data order and augmentation ({TrainConfig.seed})",
    )
    train.add_argument(
        "--resume", action="store_true", help="continue RUN from its latest checkpoint"
    )
    train.add_argument(
        "--from",
        dest="start_from",
        metavar="MODEL",
        help="fine-tune: start from these weights (a run folder, a checkpoint or model file, or "
        "'base' for the bundled base model) instead of an empty model; the model's size and "
        "vocabulary come with it, and the settings default to fine-tuning ones (learning rate "
        f"{FINE_TUNING['learning_rate']:g}, validation every {FINE_TUNING['eval_every']} steps, "
        f"--patience {FINE_TUNING['patience']})",
    )
    train.add_argument(
        "--context",
        action="store_true",
        help="hear where the music is in the bar, what it played 1, 2, 4 and 8 bars before "
        "(and whether it has been repeating it), and, when it fills bars or adds a part, what "
        "the other tracks and the bars around play (`composer accompany`); with --from, a model "
        "without these learns them",
    )
    train.add_argument(
        "--styles",
        metavar="SPEC",
        help="tell the collection's styles apart, so that generation can ask for one (--style): "
        "'folders' (each folder in FOLDER is a style of its name) or folder=style pairs "
        "('pop909=pop,nottingham=folk'); a run fine-tuned from a model with styles adds its own "
        "collection as one more, and plays in it by default",
    )
    advanced = train.add_argument_group("advanced")
    for flag, kind, metavar, text in ADVANCED:
        advanced.add_argument(flag, type=kind, metavar=metavar, help=text)
    advanced.add_argument(
        "--precision",
        choices=list(PRECISIONS),
        help=f"CUDA autocast ({TrainConfig.precision})",
    )
    add_cache_options(train)
    train.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from composer.core.training import USER_ERRORS, Ranks, TrainingError

    ranks = Ranks.from_environment()
    try:
        trainer = _build(args, ranks)
        return _train(trainer, ranks, args.out)
    except USER_ERRORS as exc:
        print(f"composer train: {in_cli_words(exc).rstrip('.')}.", file=sys.stderr)
        return 1 if isinstance(exc, TrainingError) else 2
    finally:
        ranks.close()


def _build(args, ranks):
    from composer.core.corpus import TokenCache, ingest
    from composer.core.model import preset
    from composer.core.tokens import TokenizerConfig, Vocabulary
    from composer.core.training import Collection, new_run, resume_run
    from composer.core.training.distributed import select_device
    from composer.core.training.run_info import read_run_info

    start = _start_from(args)
    # The fill-in marks are in the vocabulary of a run that trains fill-in (or started from a
    # model that learnt it): a model made before them gains them (start_from.reading).
    fill_in = args.fill_in is None or args.fill_in > 0
    tokenizer = start.tokenizer if start is not None else TokenizerConfig(infill=fill_in)
    tokenizer = replace(tokenizer, infill=tokenizer.infill or fill_in)
    folder = args.folder
    if args.resume:
        saved = read_run_info(args.out)
        changed = changed_on_resume(args, saved)
        if changed:
            raise SettingsError(
                f"--resume continues {args.out} with its own settings; only --steps, --epochs, "
                f"--minutes and --device may change (drop {', '.join(changed)}, or give the run's own values)"
            )
        tokenizer = TokenizerConfig.from_json(saved.tokenizer)
        folder = folder or Path(saved.folder)
    elif (args.out / "run.json").exists():
        from composer.core.training import RunExists

        raise SettingsError(in_cli_words(RunExists(args.out)))  # before reading the folder
    if folder is None:
        raise SettingsError("give the folder of MIDI files to train on")

    device = select_device(args.device or "auto", ranks.local_rank)
    ranks.init(device)  # before ingest: the other ranks wait for rank 0's ingest at a barrier
    cache_root = args.cache_dir or default_cache_dir()
    if ranks.is_main:
        report = _ingest(folder, cache_root, tokenizer, args.jobs)
    ranks.barrier()
    if not ranks.is_main:  # everything is in the cache now
        report = ingest(folder, cache_root, tokenizer, jobs=0)
    if report.ok == 0:
        raise SettingsError(
            f"no usable MIDI file in {folder} ({report.files} found); add .mid files that contain notes"
        )
    collection = Collection.from_ingest(report, TokenCache(cache_root, tokenizer))

    if args.resume:
        return resume_run(
            args.out,
            collection,
            steps=args.steps,
            epochs=args.epochs,
            minutes=args.minutes,
            device=args.device,
            ranks=ranks,
        )
    if start is not None:
        if args.context:  # a model without context inputs grows them, at zero
            from composer.core.training.start_from import hearing_context

            start = hearing_context(start, tokenizer.steps_per_beat)
        model = start.model
    else:
        model = preset(
            args.preset or "small",
            len(Vocabulary(tokenizer)),
            layers=args.layers,
            hidden_size=args.hidden_size,
            embedding_size=args.embedding_size,
            dropout=args.dropout,
        )
        if args.context:
            model = model.hearing_context(tokenizer.steps_per_beat)
    options = {
        "steps": args.steps,
        "epochs": args.epochs,
        "minutes": args.minutes,
        "patience": args.patience,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "window": args.window,
        "learning_rate": args.learning_rate,
        "validation_fraction": args.validation_fraction,
        "eval_every": args.eval_every,
        "transpose": args.transpose,
        "tempo_stretch": args.tempo_stretch,
        "fill_in": args.fill_in,
        "device": args.device,
        "precision": args.precision,
        "styles": args.styles,
    }
    chosen = {k: v for k, v in options.items() if v is not None}
    config = TrainConfig(**chosen) if start is None else TrainConfig.fine_tuning(**chosen)
    return new_run(args.out, collection, model, config, ranks=ranks, start_from=start)


def _start_from(args):
    """The weights --from names (read and checked), or None."""
    if args.start_from is None:
        return None
    if args.resume:
        raise SettingsError(
            f"--resume continues {args.out} from its own checkpoints; --from starts a new run "
            "(drop one of them)"
        )
    given = [flag for name, flag in {"preset": "--preset", **MODEL_ON_RESUME}.items()
             if getattr(args, name) is not None]  # fmt: skip
    if given:
        raise SettingsError(
            f"--from trains the model it names, at its own size; drop {', '.join(given)}"
        )
    from composer.core.training.start_from import read_start

    source = args.start_from
    if source in ("base", "bundled"):
        from composer.resources import default_model

        source = default_model()
    return read_start(source)


def _ingest(folder, cache_root, tokenizer, jobs):
    from composer.cli.ingest import ProgressBar
    from composer.cli.signals import StopOnSignal
    from composer.core.corpus import ingest

    progress = ProgressBar("Reading MIDI") if sys.stderr.isatty() else None
    try:
        with StopOnSignal() as stop:
            report = ingest(
                folder,
                cache_root,
                tokenizer,
                jobs=jobs,
                on_progress=progress.update if progress else None,
                should_stop=stop,
            )
    finally:
        if progress:
            progress.close()
    if report.cancelled:
        from composer.core.training import TrainingError

        raise TrainingError(
            "Stopped while reading the folder; the files read so far are kept in the cache"
        )
    print(
        f"{report.folder}: {report.ok:,} usable files of {report.files:,}, {report.tokens:,} tokens, "
        f"{report.seconds_of_music / 3600:.1f} hours of music"
        + (
            f"; {len(report.failed)} could not be used (see `composer ingest`)"
            if report.failed
            else ""
        )
    )
    return report


def _train(trainer, ranks, out: Path) -> int:
    from composer.core.training import TrainControl

    control = trainer.control = TrainControl()

    def request_stop(signum, frame):
        if control.stop_requested:  # a second Ctrl+C: stop now, without a checkpoint
            raise KeyboardInterrupt
        control.stop()
        if ranks.is_main:
            print(
                "\nStopping after this step and saving a checkpoint (Ctrl+C again to quit now)...",
                file=sys.stderr,
            )

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    show = ranks.is_main
    line = _StatusLine() if show and sys.stderr.isatty() else None
    last, train_loss = None, None
    try:
        for progress in trainer.run():
            last = progress
            train_loss = progress.train_loss if progress.event == TrainEvent.STEP else train_loss
            if not show:
                continue
            if progress.event == TrainEvent.STARTED:
                print(progress.message)
                print(
                    f"  a uniform guess scores {math.log(len(trainer.vocab)):.2f} nats per token; lower is better"
                )
            elif progress.event == TrainEvent.STEP and line:
                line.update(progress)
            elif progress.event == TrainEvent.VALIDATION and progress.val_loss is not None:
                if line:
                    line.clear()
                print(
                    f"step {progress.step}/{progress.total_steps}  epoch {progress.epoch}  "
                    f"train {_fmt(train_loss)}  validation {progress.val_loss:.3f}"
                    f"{'  (best)' if progress.val_loss == progress.best_val_loss else ''}  "
                    f"{progress.tokens_per_s:,.0f} tokens/s"
                )
    finally:
        if line:
            line.clear()
        for s, handler in previous.items():
            signal.signal(s, handler)
    if show and last is not None:
        best = trainer.best_val_loss
        if best is not None:
            print(
                f"Best validation loss {best:.3f} nats per token (perplexity {perplexity(best)})."
            )
        print(
            f"{last.message} Run folder: {out}"
            + (" (continue with --resume)" if last.event == TrainEvent.STOPPED else "")
        )
    return 130 if last is not None and last.event == TrainEvent.STOPPED else 0


def perplexity(loss: float) -> str:
    """e^loss as people read it; a loss of weights gone wild (1e30 nats) has no float for it."""
    if loss > 690:  # e^690 is about 1e300, near the largest float
        return "above 1e300"
    value = math.exp(loss)
    return f"{value:.1f}" if value < 1e6 else f"{value:.3g}"


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"


class _StatusLine:
    """One line on stderr, rewritten at most ten times a second."""

    def __init__(self) -> None:
        self._shown = 0.0
        self._width = 0

    def update(self, p) -> None:
        import time

        now = time.monotonic()
        if now - self._shown < 0.1 and p.step != p.total_steps:
            return
        self._shown = now
        eta = "-" if p.eta_s is None else f"{int(p.eta_s) // 60}:{int(p.eta_s) % 60:02d}"
        text = (
            f"step {p.step}/{p.total_steps}  epoch {p.epoch}  loss {_fmt(p.train_loss)}  "
            f"val {_fmt(p.val_loss)}  {p.tokens_per_s:,.0f} tok/s  lr {p.learning_rate:.1e}  ETA {eta}  {p.device}"
        )
        sys.stderr.write("\r" + text.ljust(self._width))
        sys.stderr.flush()
        self._width = len(text)

    def clear(self) -> None:
        if self._width:
            sys.stderr.write("\r" + " " * self._width + "\r")
            sys.stderr.flush()
