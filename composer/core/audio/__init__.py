"""Audio: rendering pieces with FluidSynth (or a built-in fallback), WAV files, MIDI output."""

from composer.core.audio.synth import (
    Audio,
    AudioError,
    default_soundfont,
    fluidsynth_status,
    render,
    seconds_to_tick,
)
from composer.core.audio.wav import write_wav

__all__ = [
    "Audio",
    "AudioError",
    "default_soundfont",
    "fluidsynth_status",
    "render",
    "seconds_to_tick",
    "write_wav",
]
