"""A checkpoint's model alone, for sharing and bundling: half-precision weights and one JSON.

The JSON keeps what generation needs (model and tokenizer config, vocabulary) and where the model
came from; optimizer moments, carried training state and RNG are left out.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from safetensors.torch import save as save_safetensors

from composer.core.files.atomic import atomic_write_bytes
from composer.core.training import checkpoint as ckpt

MODEL_FORMAT = "composer-model"


def export_model(
    checkpoint_json: str | Path,
    out_dir: str | Path,
    *,
    provenance: dict | None = None,
    half: bool = True,
) -> Path:
    """Write out_dir/model.safetensors and out_dir/model.json; returns the JSON's path."""
    checkpoint_json = Path(checkpoint_json)
    info = ckpt.read_checkpoint(checkpoint_json)
    tensors = ckpt.read_tensors(checkpoint_json, info)
    dtype = torch.float16 if half else torch.float32
    weights = {k: v.to(dtype).contiguous() for k, v in tensors.items() if k.startswith("model.")}
    data = save_safetensors(weights, metadata={"format": MODEL_FORMAT})
    out_dir = Path(out_dir)
    atomic_write_bytes(out_dir / "model.safetensors", data)
    description = {
        "format": MODEL_FORMAT,
        "version": ckpt.FORMAT_VERSION,
        "model": info["model"],
        "tokenizer": info["tokenizer"],
        "vocabulary": info["vocabulary"],
        "step": info["step"],
        "val_loss": info.get("val_loss"),
        "best_val_loss": info.get("best_val_loss"),
        "training": info["training"],
        "provenance": provenance or {},
        "weights": "model.safetensors",
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    path = out_dir / "model.json"
    atomic_write_bytes(path, json.dumps(description, indent=1).encode())
    return path
