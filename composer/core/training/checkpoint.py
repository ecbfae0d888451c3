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
from pathlib import Path

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from composer.core.atomic import atomic_write_bytes

CHECKPOINT_FORMAT = "composer-checkpoint"
RUN_FORMAT = "composer-run"
FORMAT_VERSION = 1


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
        info = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path} does not exist; check the path") from None
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
    """The JSON half of a checkpoint (path to its .json file)."""
    return read_json(path, CHECKPOINT_FORMAT, "checkpoint")


def read_tensors(json_path: Path, info: dict) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint, after checking size and SHA-256 against its JSON."""
    weights = Path(json_path).parent / str(info.get("weights", ""))
    try:
        data = weights.read_bytes()
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
    except Exception as exc:  # safetensors raises its own error types for a bad header
        raise CheckpointError(f"{weights} is not a valid safetensors file ({exc})") from None


def read_run(run_dir: Path) -> dict:
    return read_json(Path(run_dir) / "run.json", RUN_FORMAT, "training run")


def write_run(run_dir: Path, run: dict) -> None:
    run = {"format": RUN_FORMAT, "version": FORMAT_VERSION, **run}
    atomic_write_bytes(Path(run_dir) / "run.json", json.dumps(run, indent=1).encode())


def prune_checkpoints(run_dir: Path, keep: set[str]) -> None:
    """Delete checkpoint files (and leftovers of interrupted writes) not named in `keep` (stems)."""
    for path in (Path(run_dir) / "checkpoints").iterdir():
        stem = path.name.split(".")[0] if not path.name.startswith(".") else ""
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
    optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], data: dict
) -> None:
    """Restore what optimizer_to_files saved."""
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    groups = [
        {**group, "betas": tuple(group["betas"])} if "betas" in group else group
        for group in data["param_groups"]
    ]
    optimizer.load_state_dict({"state": state, "param_groups": groups})
