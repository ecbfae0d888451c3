"""The sampler: stateful, batched, streaming; temperature, top-k, top-p; primers.

The names below are loaded on first use (PEP 562), so that importing the torch-free
`composer.core.generation.settings` (the sampling defaults, read by the command line and the
app) does not load torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from composer.core.generation.generate import GenerationUpdate, Sampler
    from composer.core.generation.loading import LoadedModel, ModelFileError, load_model
    from composer.core.generation.settings import SamplingSettings

# Each public name and the module that defines it.
_HOMES = {
    "GenerationUpdate": "generate",
    "Sampler": "generate",
    "LoadedModel": "loading",
    "ModelFileError": "loading",
    "load_model": "loading",
    "SamplingSettings": "settings",
}

__all__ = [
    "GenerationUpdate",
    "LoadedModel",
    "ModelFileError",
    "Sampler",
    "SamplingSettings",
    "load_model",
]


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
