"""Writing audio as a 16-bit stereo WAV file, atomically."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from composer.core.atomic import atomic_path


def write_wav(
    samples: np.ndarray, sample_rate: int, path: str | Path, *, overwrite: bool = False
) -> Path:
    """samples: float32 (frames, 2) within -1..1. Refuses to replace a file unless `overwrite`."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; choose another name or allow overwriting")
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with atomic_path(path) as tmp, wave.open(str(tmp), "wb") as out:
        out.setnchannels(pcm.shape[1])
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())
    return path
