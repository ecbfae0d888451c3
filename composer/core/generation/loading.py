"""Loading a trained model for generation: from a run folder, a checkpoint's JSON, or its tensors.

Everything is checked before large allocations: the JSON config against hard limits, the vocabulary
against the tokenizer config it claims, the safetensors header (names, shapes, dtypes) against the
model that config describes, and the file's SHA-256 against the JSON. Nothing is unpickled.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open

from composer.core.files.safe_files import (
    MAX_JSON_BYTES,
    UnsafeFileError,
    parse_json,
    read_regular,
    regular_file_size,
)
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
        if not isinstance(chosen, str) or not re.fullmatch(r"checkpoints/step-\d{8}\.json", chosen):
            raise ModelFileError(
                f"{run_file} names no checkpoint inside {path}; the run is damaged: start a new one"
            )
        _check_belongs(path / chosen, run)
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
    if config.context_steps and config.context_steps != tokenizer.steps_per_beat:
        raise ModelFileError(  # its step-in-beat table would not fit the grid: it is damaged
            f"{source} counts {config.context_steps} steps a beat but its tokenizer "
            f"{tokenizer.steps_per_beat}; it is damaged: use the file training wrote"
        )
    name = info.get("weights")
    if not isinstance(name, str) or "/" in name or "\\" in name or name in ("", ".", ".."):
        raise ModelFileError(f"{source} names no weights file beside it; it is damaged")
    weights = source.parent / name
    if not weights.is_file():
        raise ModelFileError(
            f"{weights} is missing; keep the .safetensors file beside {source.name}"
        )
    expected = {f"model.{k}": shape for k, shape in config.tensor_shapes().items()}
    tensors = _read_tensors(weights, expected, info)  # checked before the model is allocated
    model = MusicLSTM(config)
    model.load_state_dict({k[len("model.") :]: v for k, v in tensors.items()})
    return LoadedModel(model.to(device).eval(), config, vocab, source, info)


def model_styles(path: str | Path) -> tuple[tuple[str, ...], int]:
    """(style names, default style row) of the model at `path` (as load_model takes it), read
    from its JSON alone, without its weights: what a style menu offers. ModelFileError with one
    sentence for a file that cannot be used."""
    source = resolve_model_path(path)
    info = _read_json(source)
    try:
        config = ModelConfig.from_dict(info["model"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(
            f"{source} has an unusable model description ({exc}); it may be damaged"
        ) from None
    return config.styles, config.default_style


def _check_belongs(checkpoint: Path, run: dict) -> None:
    """A checkpoint renamed into a run folder from another run is not that run's model."""
    run_id = run.get("id")
    if not run_id:  # runs from before run ids
        return
    info = _read_json(checkpoint)
    if info.get("run_id") != run_id:
        raise ModelFileError(
            f"{checkpoint} belongs to another training run, not to {checkpoint.parent.parent}; "
            "put the run's own checkpoint back, or open that file directly"
        )


def _read_json(path: Path) -> dict:
    try:  # only a regular file, of bounded size: never a FIFO or /dev/zero
        data = read_regular(path, MAX_JSON_BYTES, "model description")
    except FileNotFoundError:
        raise ModelFileError(f"{path} does not exist; check the path") from None
    except UnsafeFileError as exc:
        raise ModelFileError(str(exc)) from None
    except OSError as exc:
        raise ModelFileError(f"{path} could not be read ({exc.strerror})") from None
    try:
        info = parse_json(data)
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
    try:
        size = regular_file_size(weights)  # a FIFO or a device is never opened
    except UnsafeFileError as exc:
        raise ModelFileError(str(exc)) from None
    except OSError as exc:  # gone since the JSON was read: a run pruning it, a file moved
        raise ModelFileError(
            f"{weights} could not be read ({exc.strerror or exc}); it was moved or removed "
            "while Composer read it: choose the model again"
        ) from None
    if "bytes" in info and size != info["bytes"]:
        raise ModelFileError(
            f"{weights} is {size:,} bytes but should be {info['bytes']:,}; it is incomplete or damaged"
        )
    try:
        with safe_open(str(weights), framework="pt") as f:
            _check_header(f, expected, weights)
            _check_digest(weights, info)
            return _finite({name: f.get_tensor(name).float() for name in expected}, weights)
    except ModelFileError:
        raise
    except FileNotFoundError:  # removed between the size and the read
        raise ModelFileError(
            f"{weights} was removed while Composer read it; choose the model again"
        ) from None
    except Exception as exc:  # noqa: BLE001 - safetensors' own errors for a bad or cut header
        raise ModelFileError(f"{weights} is not a valid safetensors file ({exc})") from None


def _check_digest(weights: Path, info: dict) -> None:
    """ModelFileError when the file's SHA-256 is not the one its JSON records (when it does)."""
    if not info.get("sha256"):
        return
    digest = hashlib.sha256()
    with open(weights, "rb") as raw:
        for block in iter(lambda: raw.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != info["sha256"]:
        raise ModelFileError(
            f"{weights} does not match its .json (SHA-256 differs); it is damaged or was replaced"
        )


def _check_header(f, expected: dict[str, tuple[int, ...]], weights: Path) -> None:
    """ModelFileError unless the open safetensors `f` holds every expected tensor with its
    shape, as 32- or 16-bit floats (read from the header: nothing is loaded yet)."""
    present = set(f.keys())
    for name, want in expected.items():
        if name not in present:
            raise ModelFileError(
                f"{weights} lacks the tensor {name}; it does not belong to this model description"
            )
        got = f.get_slice(name)
        if tuple(got.get_shape()) != want or got.get_dtype() not in ("F32", "F16", "BF16"):
            raise ModelFileError(
                f"{weights} holds {name} with shape {tuple(got.get_shape())}, but the model "
                f"needs {want}; the weights and the .json do not match"
            )


def _finite(tensors: dict[str, torch.Tensor], weights: Path) -> dict[str, torch.Tensor]:
    """`tensors`, or ModelFileError naming the first that holds NaN or infinity."""
    for name, tensor in tensors.items():
        if not bool(torch.isfinite(tensor).all()):
            raise ModelFileError(
                f"{weights} holds {name} with values that are not numbers (NaN or infinite), "
                "so the model cannot make music; training went wrong before it was saved: use an "
                "earlier checkpoint or train the model again"
            )
    return tensors
