"""Loading a trained model for generation: from a run folder, a checkpoint's JSON, or its tensors.

Everything is checked before large allocations: the JSON config against hard limits, the vocabulary
against the tokenizer config it claims, the safetensors header (names, shapes, dtypes) against the
model that config describes, and the file's SHA-256 against the JSON. Nothing is unpickled.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open

from composer.core.model import ModelConfig, MusicLSTM
from composer.core.tokens.config import TokenizerConfig
from composer.core.tokens.vocab import Vocabulary


class ModelFileError(Exception):
    """A model that cannot be used; the message names the file and what to do."""


@dataclass
class LoadedModel:
    model: MusicLSTM  # in eval mode
    config: ModelConfig
    vocab: Vocabulary
    source: Path  # the JSON file it came from
    info: dict  # that JSON (step, losses, ...)

    @property
    def name(self) -> str:
        """How to call it: the run folder's name (for a checkpoint in a run) or the file's, and step."""
        named = (self.info.get("provenance") or {}).get("name")
        if named:
            return named
        in_run = self.source.parent.name == "checkpoints"
        name = self.source.parent.parent.name if in_run else self.source.stem
        step = self.info.get("step")
        return f"{name} (step {step})" if step is not None else name


def resolve_model_path(path: str | Path) -> Path:
    """The checkpoint JSON for a run folder (its best checkpoint, else its latest), a .json file,
    or a .safetensors file (the .json of the same name beside it)."""
    path = Path(path)
    if path.is_dir():
        run_file = path / "run.json"
        if not run_file.exists():
            raise ModelFileError(
                f"{path} is not a training run (it has no run.json); give a run folder or a model .json file"
            )
        run = _read_json(run_file)
        chosen = run.get("best") or run.get("latest")
        if not chosen:
            raise ModelFileError(
                f"{path} has no checkpoint yet; train it for at least one step first"
            )
        return path / chosen
    if path.suffix == ".safetensors":
        return path.with_suffix(".json")
    return path


def load_model(path: str | Path, device: str | torch.device = "cpu") -> LoadedModel:
    """Load a model for generation (see resolve_model_path for what `path` may be)."""
    source = resolve_model_path(path)
    info = _read_json(source)
    if info.get("format") not in ("composer-checkpoint", "composer-model"):
        raise ModelFileError(f"{source} is not a Composer model file")
    try:
        config = ModelConfig.from_dict(info["model"])
        tokenizer = TokenizerConfig.from_json(info["tokenizer"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(
            f"{source} has an unusable model description ({exc}); it may be damaged"
        ) from None
    vocab = Vocabulary(tokenizer)
    if len(vocab) != config.vocab_size or info.get("vocabulary") != vocab.to_json_dict()["tokens"]:
        raise ModelFileError(
            f"{source} was made with a vocabulary this version of Composer does not build; "
            "use a model trained with this version"
        )
    weights = source.parent / str(info.get("weights", ""))
    if not weights.is_file():
        raise ModelFileError(
            f"{weights} is missing; keep the .safetensors file beside {source.name}"
        )
    expected = {f"model.{k}": shape for k, shape in config.tensor_shapes().items()}
    tensors = _read_tensors(weights, expected, info)  # checked before the model is allocated
    model = MusicLSTM(config)
    model.load_state_dict({k[len("model.") :]: v for k, v in tensors.items()})
    return LoadedModel(model.to(device).eval(), config, vocab, source, info)


def _read_json(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            data = f.read(64 * 1024 * 1024 + 1)  # a model description is a few hundred kB
    except FileNotFoundError:
        raise ModelFileError(f"{path} does not exist; check the path") from None
    except OSError as exc:
        raise ModelFileError(f"{path} could not be read ({exc.strerror})") from None
    try:
        info = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        raise ModelFileError(
            f"{path} is not a Composer model file (not JSON); give the .json file of a checkpoint"
        ) from None
    if not isinstance(info, dict):
        raise ModelFileError(f"{path} is not a Composer model file")
    return info


def _read_tensors(
    weights: Path, expected: dict[str, tuple[int, ...]], info: dict
) -> dict[str, torch.Tensor]:
    """The model's tensors from `weights`, checked against the expected names, shapes and dtypes
    (from the header alone) and against the SHA-256 in the JSON, before they are read."""
    size = weights.stat().st_size
    if "bytes" in info and size != info["bytes"]:
        raise ModelFileError(
            f"{weights} is {size:,} bytes but should be {info['bytes']:,}; it is incomplete or damaged"
        )
    try:
        with safe_open(str(weights), framework="pt") as f:
            present = set(f.keys())
            for name, want in expected.items():
                if name not in present:
                    raise ModelFileError(
                        f"{weights} lacks the tensor {name}; it does not belong to this model description"
                    )
                got = f.get_slice(name)
                if tuple(got.get_shape()) != want or got.get_dtype() not in (
                    "F32",
                    "F16",
                    "BF16",
                ):
                    raise ModelFileError(
                        f"{weights} holds {name} with shape {tuple(got.get_shape())}, but the model "
                        f"needs {want}; the weights and the .json do not match"
                    )
            if info.get("sha256"):
                digest = hashlib.sha256()
                with open(weights, "rb") as raw:
                    for block in iter(lambda: raw.read(1 << 20), b""):
                        digest.update(block)
                if digest.hexdigest() != info["sha256"]:
                    raise ModelFileError(
                        f"{weights} does not match its .json (SHA-256 differs); it is damaged or was replaced"
                    )
            return {name: f.get_tensor(name).float() for name in expected}
    except ModelFileError:
        raise
    except Exception as exc:  # safetensors' own errors for a bad or truncated header
        raise ModelFileError(f"{weights} is not a valid safetensors file ({exc})") from None
