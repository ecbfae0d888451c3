"""Rendering a Piece to audio: FluidSynth with a General MIDI soundfont, or a simple built-in
synthesiser when FluidSynth is not installed.

The default soundfont is TimGM6mb.sf2, which pretty_midi's wheel ships, so Composer sounds right
without a download; any other .sf2 can be given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from composer.core.audio.events import channel_programs, note_events
from composer.core.generation.settings import MAX_SECONDS  # torch-free
from composer.core.midi.piece import Piece

SAMPLE_RATE = 44_100
RELEASE_SECONDS = 1.0  # rendered after the last note-off, so notes can ring out
_BLOCK = 4096  # samples rendered between stop checks when nothing happens
#: The longest piece rendered (playback, WAV export, `composer render`), release included: a
#: primer as long as the longest generation with the longest generation after it (two hours, far
#: longer than the pieces of every collection measured), so that whatever Composer writes plays.
#: Its audio (float32 stereo at 44.1 kHz) is 2.5 GB, held once: a 44-byte file holding one note
#: for 77.7 hours grew to 3.7 GB without a word before there was a limit.
MAX_RENDER_SECONDS = 2 * MAX_SECONDS + RELEASE_SECONDS


class AudioError(Exception):
    """Audio that cannot be made; the message says why and what to do."""


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray  # float32, shape (frames, 2), within -1..1
    sample_rate: int
    engine: str  # "fluidsynth" or "built-in"
    note: str = ""  # why the built-in synthesiser was used, for the status bar

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


def default_soundfont() -> Path:
    return Path(str(resources.files("pretty_midi") / "TimGM6mb.sf2"))


def fluidsynth_status() -> str | None:
    """None when FluidSynth can be used, else a sentence saying why not."""
    try:
        import fluidsynth  # noqa: F401  (pyfluidsynth loads libfluidsynth when imported)
    except (ImportError, OSError):
        return (
            "FluidSynth is not installed, so a simple built-in synthesiser plays instead "
            "(install libfluidsynth3 for real instrument sounds)"
        )
    return None


def render(
    piece: Piece,
    soundfont: str | Path | None = None,
    *,
    sample_rate: int = SAMPLE_RATE,
    engine: str = "auto",
    should_stop: Callable[[], bool] | None = None,
) -> Audio:
    """Audio of the whole piece plus RELEASE_SECONDS, peak-normalised to -1 dBFS.

    engine: "auto" (FluidSynth when it can be loaded), "fluidsynth" or "built-in".
    AudioError, before any audio is allocated, for a piece longer than MAX_RENDER_SECONDS.
    """
    check_render_length(piece)
    note = fluidsynth_status() if engine != "built-in" else ""
    if engine == "fluidsynth" and note:
        raise AudioError(note)
    if engine == "built-in" or note:
        from composer.core.audio.builtin import render_builtin

        samples = render_builtin(piece, sample_rate, should_stop)
        return Audio(_normalise(samples), sample_rate, "built-in", note or "")
    path = Path(soundfont) if soundfont else default_soundfont()
    if not path.is_file():
        raise AudioError(f"{path} does not exist; choose a .sf2 soundfont file")
    samples = _render_fluidsynth(piece, path, sample_rate, should_stop or (lambda: False))
    return Audio(_normalise(samples), sample_rate, "fluidsynth")


def check_render_length(piece: Piece) -> None:
    """AudioError when `piece` lasts longer than MAX_RENDER_SECONDS (what render() refuses)."""
    seconds = piece.duration_seconds + RELEASE_SECONDS
    if seconds <= MAX_RENDER_SECONDS:
        return
    hours = seconds / 3600
    length = f"{hours:,.1f} hours" if hours >= 2 else f"{seconds / 60:,.0f} minutes"
    raise AudioError(
        f"the piece lasts {length}, and Composer renders at most "
        f"{MAX_SECONDS * 2 / 3600:.0f} hours of audio; shorten it, or play it through a "
        "MIDI output or another program"
    )


def _render_fluidsynth(piece: Piece, soundfont: Path, rate: int, stop) -> np.ndarray:
    import fluidsynth

    synth = fluidsynth.Synth(samplerate=float(rate))
    try:
        font = synth.sfload(str(soundfont))
        if font == -1:
            raise AudioError(
                f"{soundfont} is not a soundfont FluidSynth can read; choose a .sf2 file"
            )
        for channel, (program, drum) in channel_programs(piece).items():
            synth.program_select(channel, font, 128 if drum else 0, 0 if drum else program)
        events = note_events(piece)
        total = int(((events["time"].max() if len(events) else 0.0) + RELEASE_SECONDS) * rate)
        frames = np.minimum(np.round(events["time"] * rate).astype(np.int64), total)
        out = np.empty((total, 2), np.float32)  # the one copy of the audio, filled block by block
        done = 0

        def render_to(frame: int) -> bool:  # False when stopped
            nonlocal done
            while done < frame:  # in blocks, so that a stop is heard
                if stop():
                    return False
                n = min(frame - done, _BLOCK)
                out[done : done + n] = synth.get_samples(n).reshape(-1, 2) * (1 / 32768)
                done += n
            return True

        for frame, event in zip(frames.tolist(), events.tolist()):
            if not render_to(frame):
                return out[:done]
            _, on, channel, pitch, velocity = event
            if on:
                synth.noteon(channel, pitch, velocity)
            else:
                synth.noteoff(channel, pitch)
        render_to(total)
        return out[:done]
    finally:
        synth.delete()


def _normalise(samples: np.ndarray) -> np.ndarray:
    """Peak at -1 dBFS (0.89), raising the level at most 20 times: silence (FluidSynth's reverb
    leaves a faint hiss) stays silence instead of being blown up to full scale. In place: the
    audio of a long piece is large, and a second copy of it is not needed."""
    peak = max(float(samples.max()), -float(samples.min())) if len(samples) else 0.0
    if peak < 1e-3:
        samples[:] = 0.0
    else:
        samples *= min(0.89 / peak, 20.0)
    return samples


def seconds_to_tick(piece: Piece, seconds: float) -> int:
    """The tick sounding at `seconds` (the inverse of Piece.seconds), for a playhead."""
    ticks = np.arange(0, max(piece.end_tick, 1) + 1, max(1, piece.ticks_per_beat // 48))
    times = piece.seconds(ticks)
    return int(np.interp(seconds, times, ticks))
