"""Train the base model on the varied corpus, resumably, then export it to assets/model/.

    pip install music21 && python scripts/build_base_corpus.py      # once: build/base-corpus/
    python scripts/train_base_model.py [--steps 18000] [--for-minutes M] [--device auto]
    python scripts/train_base_model.py --export                      # evaluate and export the best
    python scripts/train_base_model.py --from-shipped --steps 20000   # a new run from assets/model
    python scripts/train_base_model.py --from-shipped --context --styles --minutes 50 \
        --run build/base-ctx     # grown to hear the bar, the lookback, the given music, the style
    python scripts/train_base_model.py --from-shipped --device cuda --batch-size 256 \
        --learning-rate 1e-3 --minutes 3.2                             # how the shipped one was made
    python scripts/train_base_model.py --adopt DIR   # export a model trained on another machine
    python scripts/train_base_model.py --run build/base-run-medium --preset medium --device cuda \
        --batch-size 256 --learning-rate 1e-3 --minutes 8     # a larger base, from empty, on a GPU

Every call continues the run in build/base-run from its latest checkpoint (or starts it), so the
training can be spread over several sessions, or moved to a GPU (`--device cuda`): the run keeps its
batch size and seed, and a resumed run reaches the same weights as an uninterrupted one.
`--for-minutes` stops this call after M minutes with a checkpoint (as Ctrl+C does).
The run folder (build/, not in git) may not survive to another machine or session:
`--from-shipped` then starts a new run from the shipped weights in assets/model (without the
optimizer's moments, with the fine-tuning learning rate 5e-4), to train the base further. A later issue
adds tokens to the vocabulary: that is a new run (`--run` elsewhere) with the same command.

`--adopt DIR` takes DIR/model/model.json (a model exported there with
composer.core.training.export) and DIR/run.json from a run made on another machine (a lent GPU,
whose checkpoints, with 256 lanes' states, are too big to bring back), and exports it as `--export`
does.

`--export` scores the best checkpoint on each collection's validation files against a 5-gram
trained on that collection's training files, and writes model.json with the seed, the command, the
commit, the corpus fingerprint (build/base-corpus/MANIFEST.json), the collections and those figures.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "build" / "base-corpus"
SETTINGS = ["--seed", "0", "--eval-every", "500"]
LICENCE = "GPL-3.0"  # the strictest licence of the data (Nottingham); the others are MIT, BSD, PD


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=ROOT / "build" / "base-run")
    parser.add_argument("--steps", type=int, default=18_000)
    parser.add_argument("--minutes", type=float, help="a time budget (the cosine decay follows it)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--preset",
        choices=["small", "medium", "large"],
        default="small",
        help="the size of a run from an empty model (--from-shipped takes the shipped one's)",
    )
    parser.add_argument("--learning-rate", type=float, help="the peak (default: the trainer's)")
    parser.add_argument("--adopt", type=Path, metavar="DIR", help="export a model made elsewhere")
    parser.add_argument("--for-minutes", type=float, metavar="M", help="stop this call after M")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--export", action="store_true", help="evaluate and export the best")
    parser.add_argument("--out", type=Path, default=ROOT / "assets" / "model")
    parser.add_argument(
        "--from-shipped", action="store_true", help="a new run starting from assets/model"
    )
    parser.add_argument(
        "--context",
        action="store_true",
        help="a new run whose model hears the bar, the lookback and the given music (with "
        "--from-shipped, grown from the shipped weights at zero)",
    )
    parser.add_argument(
        "--styles",
        action="store_true",
        help="a new run whose model tells the collections' styles apart (MANIFEST.json's "
        "'style' of each collection; with --from-shipped, grown from the shipped weights)",
    )
    args = parser.parse_args()
    manifest_path = CORPUS / "MANIFEST.json"
    if not manifest_path.is_file():
        print(
            f"train_base_model: {manifest_path} is missing; run scripts/build_base_corpus.py first",
            file=sys.stderr,
        )
        return 2
    manifest = json.loads(manifest_path.read_text())
    if args.export:
        return export(args.run, manifest, args.out)
    if args.adopt:
        return adopt(args.adopt, manifest, args.out)
    command = [sys.executable, "-m", "composer", "train", str(CORPUS / "base"), "--out"]
    command += [str(args.run), "--device", args.device]
    if args.minutes:  # a time budget instead of steps: the cosine decay follows it
        command += ["--minutes", str(args.minutes)]
    else:
        command += ["--steps", str(args.steps)]
    if (args.run / "run.json").exists():
        command.append("--resume")
    else:
        if args.from_shipped:  # the model's size comes with its weights
            command += ["--from", str(args.out / "model.json"), "--seed", "0", "--patience", "1000"]
            command += ["--eval-every", "200" if args.device == "cuda" else "500"]
        else:
            command += ["--preset", args.preset, *SETTINGS]
        command += ["--batch-size", str(args.batch_size)]
        if args.context:
            command.append("--context")
        if args.styles:
            command += ["--styles", styles_setting(manifest)]
        if args.learning_rate:
            command += ["--learning-rate", str(args.learning_rate)]
    process = subprocess.Popen(command)
    if args.for_minutes:  # Ctrl+C after the slice: the trainer saves a checkpoint and stops
        timer = threading.Timer(args.for_minutes * 60, process.send_signal, [signal.SIGINT])
        timer.daemon = True
        timer.start()
    try:
        code = process.wait()
    except KeyboardInterrupt:  # the child got the Ctrl+C too and is saving
        code = process.wait()
    if code == 130:
        print(f"Stopped with a checkpoint; run this script again to continue {args.run}.")
        return 0
    return code


def export(run_dir: Path, manifest: dict, out: Path) -> int:
    from composer.core.training.checkpoint import read_checkpoint
    from composer.core.training.export import export_model
    from composer.core.training.run_info import read_run_info

    run = read_run_info(run_dir)
    best = run_dir / run.best
    info = read_checkpoint(best)
    details = provenance(run, manifest, best, info["tokens_seen"], started_from(run, out))
    path = export_model(best, out, provenance=details)
    return report(path, run, details)


def adopt(folder: Path, manifest: dict, out: Path) -> int:
    """Export the model in folder/model (with folder/run.json) as export() does."""
    from composer.core.files.atomic import atomic_write_bytes
    from composer.core.generation import load_model
    from composer.core.training.run_info import RunInfo

    run = RunInfo.from_json(json.loads((folder / "run.json").read_text()), folder / "run.json")
    run = replace(run, folder=str(CORPUS / "base"))  # the corpus here, not where it was trained
    source = folder / "model" / "model.json"
    load_model(source)  # checked before anything is written: names, shapes, SHA-256
    described = json.loads(source.read_text())
    details = provenance(run, manifest, source, _tokens_seen(run), started_from(run, out))
    out.mkdir(parents=True, exist_ok=True)
    weights = (folder / "model" / "model.safetensors").read_bytes()
    atomic_write_bytes(out / "model.safetensors", weights)
    described["provenance"] = details
    path = out / "model.json"
    atomic_write_bytes(path, (json.dumps(described, indent=1) + "\n").encode())
    return report(path, run, details)


def _tokens_seen(run) -> int:
    """Tokens read up to the best step (an exported model does not keep the count): best step x
    lanes x window, an upper bound (a piece's last window is partly padding)."""
    training = run.training
    best_step = int(Path(run.best).stem.split("-")[1])
    return best_step * training["batch_size"] * training["window"]


def started_from(run, out: Path) -> dict | None:
    """What the shipped model (out/model.json) says of itself, when the run started from it."""
    if run.started_from is None:
        return None
    path = out / "model.json"
    if not path.is_file():
        return {"name": run.started_from.name}
    earlier = json.loads(path.read_text()).get("provenance", {})
    keys = ("command", "best_step", "tokens_seen", "best_val_loss_nats", "started_from")
    return {"name": run.started_from.name, **{k: earlier[k] for k in keys if k in earlier}}


def styles_setting(manifest: dict) -> str:
    """`composer train --styles` for the base corpus: each collection's folder to its style."""
    return ",".join(f"{c['name']}={c['style']}" for c in manifest["base"])


def provenance(run, manifest: dict, model: Path, tokens_seen: int, start) -> dict:
    """model.json's provenance: data, licence, the command, and the figures measured here."""
    t = run.training
    length = f"--minutes {t['minutes']:g}" if t.get("minutes") else f"--steps {t['steps']}"
    origin = "--from assets/model/model.json" if run.started_from else "--preset small"
    command = (
        f"composer train build/base-corpus/base {origin} {length} --batch-size {t['batch_size']} "
        f"--learning-rate {t['learning_rate']:g} --fill-in {t.get('fill_in', 0):g} "
        f"--seed {t['seed']} --device {t['device']}"
        + (" --context" if run.model.get("context_steps") else "")
        + (f" --styles {t['styles']}" if t.get("styles") else "")
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    collections = [
        {k: c[k] for k in ("name", "style", "licence", "files")} for c in manifest["base"]
    ]
    figures, fill = evaluate_by_collection(model, run)
    details = {
        "name": "Composer base (pop, folk, chorale, fiddle, classical, madrigal)",
        "data": "; ".join(f"{c['name']} ({c['licence']})" for c in manifest["base"]),
        "licence": LICENCE,
        "collections": collections,
        "data_fingerprint": manifest["fingerprint"],
        "command": f"python scripts/train_base_model.py ({command})",
        "composer_commit": commit,
        "seed": t["seed"],
        "best_step": int(Path(run.best).stem.split("-")[1]),
        "tokens_seen": tokens_seen,
        "best_val_loss_nats": run.best_val_loss,
        "evaluation": figures,
        "fill_in": fill,
    }
    if start is not None:
        details["started_from"] = start
    return details


def report(path: Path, run, details: dict) -> int:
    print(f"Wrote {path} (best validation loss {run.best_val_loss:.3f} nats/token)")
    for name, f in details["evaluation"].items():
        print(
            f"  {name:20} {f['files']:4} files  LSTM {f['lstm_nats']:.3f}  5-gram "
            f"{f['ngram_nats']:.3f}  ({f['relative']:.0%} better)"
        )
    fill = details.get("fill_in")
    if fill:
        print(
            f"  fill-in: {fill['spans']} spans, {fill['both_sides_nats']:.3f} nats/token from both "
            f"sides, {fill['left_side_nats']:.3f} from the left only ({fill['relative']:.1%} better)"
        )
    return 0


def evaluate_by_collection(checkpoint: Path, run) -> tuple[dict, dict | None]:
    """Per collection: the model's NLL on its validation files and a 5-gram's trained on its
    training files (nats per token); and the fill-in figures on all validation files."""
    import numpy as np

    from composer.core.corpus import TokenCache, ingest
    from composer.core.evaluation.fill_in import fill_in_report
    from composer.core.evaluation.likelihood import token_nll
    from composer.core.evaluation.ngram import KneserNey
    from composer.core.files.folders import default_cache_dir
    from composer.core.generation import load_model
    from composer.core.tokens.meter import Placement
    from composer.core.training.styles import parse_styles

    loaded = load_model(checkpoint)
    ingest(run.folder, default_cache_dir(), loaded.vocab.config)  # fills what the cache lacks
    cache = TokenCache(default_cache_dir(), loaded.vocab.config)

    def by_collection(pairs):
        groups: dict[str, list] = {}
        for sha, path in pairs:
            groups.setdefault(Path(path).parent.name, []).append(sha)
        return groups

    def tokens(shas):
        return [np.asarray(cache.tokens(sha)) for sha in shas]

    train, validation = by_collection(run.train), by_collection(run.validation)
    styles = parse_styles(run.training.get("styles", "")) if loaded.config.styles else None
    figures = {}
    for name in sorted(validation):
        held = tokens(validation[name])
        # Read in the collection's own style, as generation asks for it, and its own meter.
        style = loaded.config.style_index(styles[name]) if isinstance(styles, dict) else 0
        places = [Placement(cache.meter(sha)) for sha in validation[name]]
        lstm = float(
            np.concatenate(
                [
                    token_nll(loaded.model, t, loaded.vocab, style=style, placement=at)
                    for t, at in zip(held, places)
                ]
            ).mean()
        )
        ngram = KneserNey(5, len(loaded.vocab)).fit(tokens(train.get(name, []))).nll(held)
        figures[name] = {
            "files": len(held),
            "lstm_nats": round(lstm, 4),
            "ngram_nats": round(ngram, 4),
            "relative": round((ngram - lstm) / ngram, 4),
        }
    every = [sha for group in validation.values() for sha in group]
    meters = [cache.meter(sha) for sha in every]
    fill = fill_in_report(loaded.model, loaded.vocab, tokens(every), spans=2, seed=0, meters=meters)
    return figures, fill


if __name__ == "__main__":
    sys.exit(main())
