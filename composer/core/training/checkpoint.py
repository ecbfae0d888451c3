"""Checkpoints and run folders: tensors in safetensors, everything else in JSON, never pickle.

A run folder::

    run.json                             the run: configs, data split, and which checkpoints are
                                         the latest and the best (by validation loss)
    checkpoints/step-00000300.safetensors weights, optimizer moments, carried LSTM state, RNG state
    checkpoints/step-00000300.json        model, tokenizer and training config, vocabulary, step,
                                         losses, and the size and SHA-256 of its safetensors file
    metrics.jsonl                        one JSON object per line: train loss, validation, events

Each file is written atomically (temporary file, fsync, rename): tensors first, then their JSON, and
only then does run.json point at them; files that nothing points at are deleted afterwards. So a
kill at any moment leaves run.json naming a complete checkpoint. Loading never unpickles: safetensors
holds only raw tensors, and JSON only data, so a checkpoint from the internet cannot run code.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from composer.core.checks import is_count, is_finite_number
from composer.core.errors import SettingsError
from composer.core.files.atomic import atomic_write_bytes
from composer.core.files.safe_files import MAX_JSON_BYTES, UnsafeFileError, load_json, read_regular
from composer.core.tokens.config import TokenizerConfig
from composer.core.training.config import MAX_STEPS, TrainConfig

CHECKPOINT_FORMAT = "composer-checkpoint"
RUN_FORMAT = "composer-run"
FORMAT_VERSION = 1
#: The names Composer writes in checkpoints/ (and the temporaries of its atomic writes): the only
#: files it ever deletes there.
_OWN_FILE = re.compile(
    r"(step-\d{8})\.(json|safetensors)|\.(step-\d{8})\.(json|safetensors)\..+\.tmp"
)
if TYPE_CHECKING:
    from composer.core.training.run_info import RunInfo

_CHECKPOINT_REF = re.compile(r"checkpoints/step-\d{8}\.json")


class CheckpointError(Exception):
    """A run folder or checkpoint that cannot be used; the message names the file and the fix."""


def checkpoint_name(step: int) -> str:
    return f"step-{step:08d}"


def write_checkpoint(
    run_dir: Path, step: int, tensors: dict[str, torch.Tensor], info: dict
) -> Path:
    """Write one checkpoint (tensors, then JSON); returns the JSON file's path."""
    folder = Path(run_dir) / "checkpoints"
    name = checkpoint_name(step)
    data = save_safetensors(
        {k: v.detach().cpu().contiguous() for k, v in tensors.items()},
        metadata={"format": CHECKPOINT_FORMAT, "step": str(step)},
    )
    weights = folder / f"{name}.safetensors"
    atomic_write_bytes(weights, data)
    info = {
        "format": CHECKPOINT_FORMAT,
        "version": FORMAT_VERSION,
        **info,
        "step": step,
        "weights": weights.name,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    path = folder / f"{name}.json"
    atomic_write_bytes(path, json.dumps(info, indent=1).encode())
    return path


def read_json(path: Path, expected_format: str, what: str) -> dict:
    """A JSON object of the expected format, or CheckpointError naming the file."""
    try:
        info = load_json(path, MAX_JSON_BYTES, what)
    except FileNotFoundError:
        raise CheckpointError(f"{path} does not exist; check the path") from None
    except UnsafeFileError as exc:
        raise CheckpointError(str(exc)) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CheckpointError(
            f"{path} is not a readable {what} ({exc}); it may be damaged"
        ) from None
    if not isinstance(info, dict) or info.get("format") != expected_format:
        raise CheckpointError(f"{path} is not a Composer {what}")
    if info.get("version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path} was written by a newer Composer; update Composer to open it")
    return info


def read_checkpoint(path: Path) -> dict:
    """The JSON half of a checkpoint (path to its .json file), every field a resume reads of
    the type it needs; CheckpointError naming the file otherwise."""
    info = read_json(path, CHECKPOINT_FORMAT, "checkpoint")
    problem = _checkpoint_problem(info)
    if problem:
        raise CheckpointError(
            f"{path} is damaged ({problem}); put the run's own checkpoint back, or start a new run"
        )
    return info


#: The most a count in a checkpoint may hold: what an int64 holds, as a reader may store it.
_MOST = 2**63 - 1


#: What the optimizer's state is, in the words of a damage sentence.
_OPTIMIZER_WORDS = "its record of how training adjusts the weights (learning rate, momentum)"
#: What each field of a checkpoint's JSON is, in the words of its damage sentence.
_FIELD_WORDS = {
    "step": "its step count",
    "tokens_seen": "its count of the notes' tokens trained on",
    "stale_validations": "its count of validations since the best one",
    "bytes": "the size it gives its weights file",
    "elapsed_s": "its training time",
    "val_loss": "its validation loss",
    "best_val_loss": "its best validation loss",
    "run_id": "the run it belongs to",
    "sha256": "the checksum of its weights file",
    "grad_scaler": "its half-precision loss scale",
}


def _checkpoint_problem(info: dict) -> str | None:
    """What is wrong with the fields of a checkpoint's JSON that a resume reads, or None: words
    to put in "<path> is damaged (...)"."""
    counts = {"step": MAX_STEPS, "tokens_seen": _MOST, "stale_validations": MAX_STEPS}
    for key, most in {**counts, "bytes": _MOST}.items():
        value = info.get(key, 0 if key == "stale_validations" else None)
        if not is_count(value, most):
            upto = f" from 0 to {most:,}" if most < _MOST else ""
            return f"{_FIELD_WORDS[key]} is not a whole number{upto}"
    elapsed = info.get("elapsed_s", 0.0)
    if elapsed is not None and not (is_finite_number(elapsed) and elapsed >= 0):
        return f"{_FIELD_WORDS['elapsed_s']} is not a number of seconds"
    for key in ("val_loss", "best_val_loss"):
        if info.get(key) is not None and not _is_number(info[key]):
            return f"{_FIELD_WORDS[key]} is not a number"
    for key, kind in {"run_id": str, "sha256": str, "grad_scaler": dict}.items():
        if info.get(key) is not None and not isinstance(info[key], kind):
            return f"{_FIELD_WORDS[key]} is not {'text' if kind is str else 'a set of values'}"
    groups = (
        info.get("optimizer", {}).get("param_groups")
        if isinstance(info.get("optimizer"), dict)
        else None
    )
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        return f"it lacks {_OPTIMIZER_WORDS}"
    return None


def _is_number(value) -> bool:
    """An int or float (not a bool), not NaN."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def read_tensors(json_path: Path, info: dict) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint, after checking size and SHA-256 against its JSON."""
    name, size = info.get("weights"), info.get("bytes")
    if not isinstance(name, str) or "/" in name or "\\" in name or name in ("", ".", ".."):
        raise CheckpointError(f"{json_path} names no weights file beside it; it is damaged")
    if not isinstance(size, int) or size < 0:
        raise CheckpointError(f"{json_path} does not give the size of its weights; it is damaged")
    weights = Path(json_path).parent / name
    try:
        data = read_regular(weights, size, "weights file")
    except UnsafeFileError as exc:
        raise CheckpointError(f"{exc}; it does not match {Path(json_path).name}") from None
    except OSError as exc:
        raise CheckpointError(
            f"{weights} could not be read ({exc.strerror}); it may be missing"
        ) from None
    if len(data) != info.get("bytes") or hashlib.sha256(data).hexdigest() != info.get("sha256"):
        raise CheckpointError(
            f"{weights} does not match {Path(json_path).name}; it is damaged or incomplete"
        )
    try:
        return load_safetensors(data)
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own types for a bad header
        raise CheckpointError(f"{weights} is not a valid safetensors file ({exc})") from None


def read_run(run_dir: Path) -> dict:
    """run.json, checked: every key a run needs, of the type it needs, and checkpoint names
    inside the run's checkpoints/ folder; CheckpointError naming the file otherwise."""
    path = Path(run_dir) / "run.json"
    run = read_json(path, RUN_FORMAT, "training run")
    check_run(run, path)
    return run


def check_run(run: dict, path: Path) -> None:
    """CheckpointError naming `path` (the run.json) when `run` lacks what a run needs."""
    problem = _run_problem(run)
    if problem:
        raise CheckpointError(f"{path} is damaged ({problem}); start a new run on the folder")


def _run_problem(run: dict) -> str | None:
    """What is wrong with a run.json's content, or None."""
    kinds = {"model": dict, "tokenizer": dict, "training": dict, "data": dict, "vocabulary": list}
    for key, kind in kinds.items():
        if not isinstance(run.get(key), kind):
            return f"{key!r} is missing or not a {kind.__name__}"
    if not isinstance(run.get("folder"), str):
        return "'folder' is missing or not text"
    for key in ("latest", "best"):
        value = run.get(key)
        if value is not None and not (isinstance(value, str) and _CHECKPOINT_REF.fullmatch(value)):
            return f"{key!r} does not name a checkpoint in its checkpoints folder"
    if not is_count(run.get("step", 0), MAX_STEPS):
        return f"its step count is not a whole number from 0 to {MAX_STEPS:,}"
    for part in ("train", "validation"):
        files = run["data"].get(part)
        if not isinstance(files, list) or not all(
            isinstance(f, list) and len(f) == 2 and all(isinstance(x, str) for x in f)
            for f in files
        ):
            return f"its {part} file list is malformed"
    best = run.get("best_val_loss")
    if best is not None and (isinstance(best, bool) or not isinstance(best, (int, float))):
        return "'best_val_loss' is not a number"
    started = run.get("from")
    if started is not None and not (
        isinstance(started, dict)
        and all(isinstance(started.get(k), str) for k in ("model", "name"))
    ):
        return "'from' does not name the weights the run started from"
    for key in ("id", "created", "composer"):
        if run.get(key) is not None and not isinstance(run[key], str):
            return f"{key!r} is not text"
    try:
        TrainConfig.from_dict(run["training"])
    except (TypeError, ValueError) as exc:
        return f"its training settings are not valid: {exc}"
    try:
        TokenizerConfig.from_json(run["tokenizer"])
    except SettingsError as exc:
        return f"its tokenizer settings are not valid: {exc}"
    return None


def write_run(run_dir: Path, run: dict | RunInfo) -> None:
    """Write run.json atomically (run: a RunInfo, or its JSON object)."""
    if not isinstance(run, dict):
        run = run.to_json()
    run = {"format": RUN_FORMAT, "version": FORMAT_VERSION, **run}
    atomic_write_bytes(Path(run_dir) / "run.json", json.dumps(run, indent=1).encode())


def prune_checkpoints(run_dir: Path, keep: set[str]) -> None:
    """Delete checkpoint files (and leftovers of interrupted writes) not named in `keep` (stems).
    Only names Composer writes are touched: anything else in the folder is the user's."""
    for path in (Path(run_dir) / "checkpoints").iterdir():
        own = _OWN_FILE.fullmatch(path.name)
        if own is None or not path.is_file() or path.is_symlink():
            continue
        stem = own.group(1) or own.group(3)
        if stem not in keep:
            path.unlink(missing_ok=True)


def optimizer_to_files(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """An optimizer's state as tensors (for safetensors) and JSON data (its parameter groups)."""
    state = optimizer.state_dict()
    tensors = {
        f"optimizer.{index}.{key}": value
        for index, moments in state["state"].items()
        for key, value in moments.items()
    }
    return tensors, {"param_groups": state["param_groups"]}


def optimizer_from_files(
    optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], data: dict, path: Path
) -> None:
    """Restore what optimizer_to_files saved (in the checkpoint `path`). Each saved parameter
    group must hold what the optimizer's own does, value for value of the same kind: a string
    for a learning rate or a list for a flag would break training steps later, not here."""
    own = optimizer.state_dict()
    problem = _groups_problem(data.get("param_groups"), own["param_groups"])
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, index, name = key.split(".", 2)
            if not index.isdigit() or int(index) not in own["param_groups"][0]["params"]:
                problem = problem or f"its weights file holds the unknown tensor {key}"
                break
            state.setdefault(int(index), {})[name] = value
    if problem:
        raise CheckpointError(
            f"{path} is damaged ({_OPTIMIZER_WORDS}: {problem}); put the run's own checkpoint "
            "back, or start a new run"
        )
    groups = [
        {**group, "betas": tuple(group["betas"])} if "betas" in group else group
        for group in data["param_groups"]
    ]
    try:
        optimizer.load_state_dict({"state": state, "param_groups": groups})
    except (ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise CheckpointError(
            f"{path} is damaged ({_OPTIMIZER_WORDS} does not fit this model: {exc}); put the "
            "run's own checkpoint back, or start a new run"
        ) from None


def _groups_problem(saved, own: list[dict]) -> str | None:
    """What makes the saved parameter groups unlike the optimizer's own, or None. A setting
    another torch version adds or lacks is left to torch (it fills in its defaults), but the
    step needs these."""
    if not isinstance(saved, list) or len(saved) != len(own):
        return f"it should hold {len(own)} set(s) of settings"
    for group, mine in zip(saved, own):
        needed = {"params", "lr", "betas", "eps", "weight_decay"} & set(mine)
        if not isinstance(group, dict) or not needed <= set(group):
            return f"a set of settings lacks one of {', '.join(sorted(needed))}"
        if group["params"] != mine["params"]:
            return "its settings are not this model's"
        for key in set(group) & set(mine):
            if not _same_kind(group[key], mine[key]):
                return f"{key!r} is not a value of the kind it should be ({mine[key]!r})"
    return None


def _same_kind(saved, own) -> bool:
    """Whether a JSON value can stand for the optimizer's own value `own`."""
    if own is None or isinstance(own, bool):  # flags: None (choose) or a bool
        return saved is None or isinstance(saved, bool)
    if isinstance(own, (int, float)):
        return is_finite_number(saved)
    if isinstance(own, (list, tuple)):
        return (
            isinstance(saved, list)
            and len(saved) == len(own)
            and all(_same_kind(s, o) for s, o in zip(saved, own))
        )
    return type(saved) is type(own)
