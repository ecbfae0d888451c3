"""Writing audio as a 16-bit stereo WAV file, atomically."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from composer.core.files.atomic import atomic_path


def write_wav(
    samples: np.ndarray, sample_rate: int, path: str | Path, *, overwrite: bool = False
) -> Path:
    """samples: float32 (frames, 2) within -1..1. Refuses to replace a file unless `overwrite`."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; choose another name or allow overwriting")
    with atomic_path(path) as tmp, wave.open(str(tmp), "wb") as out:
        out.setnchannels(samples.shape[1])
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        for first in range(0, len(samples), _CHUNK):  # no second copy of a long piece's audio
            out.writeframes(to_pcm16(samples[first : first + _CHUNK]).tobytes())
    return path


_CHUNK = 1 << 16  # frames converted at a time


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    """float32 samples within -1..1 as 16-bit little-endian integers, the same shape; converted
    in chunks, so that the only large array made is the result (playback hands it to the
    sink)."""
    pcm = np.empty(samples.shape, "<i2")
    for first in range(0, len(samples), _CHUNK):
        chunk = np.clip(samples[first : first + _CHUNK], -1.0, 1.0) * 32767
        pcm[first : first + _CHUNK] = chunk
    return pcm
