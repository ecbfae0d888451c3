"""A small synthesiser for when FluidSynth is missing: decaying harmonic tones and noise drums.

It is there so that playback never fails, not to sound good: each note is a few harmonics under an
attack-decay-release envelope (brighter for louder notes); drums are short filtered noise bursts,
lower drums longer and darker.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from composer.core.midi.piece import Piece

_RELEASE = 0.08  # seconds a note takes to fade after its end


def render_builtin(
    piece: Piece, rate: int, should_stop: Callable[[], bool] | None = None
) -> np.ndarray:
    """Stereo float32 samples (frames, 2) of the piece plus one second."""
    from composer.core.audio.synth import RELEASE_SECONDS

    stop = should_stop or (lambda: False)
    end = piece.duration_seconds + RELEASE_SECONDS
    out = np.zeros(int(end * rate) + 1, np.float32)
    rng = np.random.default_rng(0)
    for track in piece.tracks:
        if stop():
            break
        starts = piece.seconds(track.notes["start"])
        ends = piece.seconds(track.notes["end"])
        for start, stop_s, pitch, velocity in zip(
            starts, ends, track.notes["pitch"].tolist(), track.notes["velocity"].tolist()
        ):
            loud = velocity / 127.0
            first = int(start * rate)
            if track.is_drum:
                length = int((0.25 if pitch < 40 else 0.12) * rate)
                noise = rng.standard_normal(length).astype(np.float32)
                if pitch < 45:  # kick and toms: low-pass by a running mean
                    noise = np.convolve(noise, np.ones(24, np.float32) / 24, mode="same") * 4
                wave = noise * np.exp(-np.arange(length) / (length / 5)) * 0.3 * loud
            else:
                length = int((stop_s - start + _RELEASE) * rate)
                t = np.arange(length, dtype=np.float32) / rate
                frequency = 440.0 * 2 ** ((pitch - 69) / 12)
                wave = sum(
                    np.sin(2 * np.pi * frequency * k * t)
                    * (0.5 ** (k - 1))
                    * (loud if k > 1 else 1.0)
                    for k in (1, 2, 3)
                )
                envelope = np.minimum(1.0, t / 0.01) * np.exp(-t * 1.5)
                held = stop_s - start
                envelope *= np.clip(1.0 - (t - held) / _RELEASE, 0.0, 1.0)
                wave = wave * envelope * 0.15 * loud
            wave = wave[: len(out) - first]
            out[first : first + len(wave)] += wave
    return np.repeat(out[:, None], 2, axis=1)
