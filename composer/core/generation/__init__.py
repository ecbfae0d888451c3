"""The sampler: stateful, batched, streaming; temperature, top-k, top-p; primers."""

from composer.core.generation.generate import GenerationUpdate, Sampler
from composer.core.generation.loading import LoadedModel, ModelFileError, load_model
from composer.core.generation.sampling import SamplingSettings

__all__ = [
    "GenerationUpdate",
    "LoadedModel",
    "ModelFileError",
    "Sampler",
    "SamplingSettings",
    "load_model",
]
