"""Playing a piece through a MIDI output port (a hardware synth, or a DAW's virtual port).

Opening ports needs a MIDI system (ALSA's sequencer on Linux); without one, mido and rtmidi raise
(`OSError`, or rtmidi's `SystemError`), so listing ports returns the reason instead of failing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from composer.core.audio.events import channel_programs, note_events
from composer.core.midi.piece import Piece


def output_ports() -> tuple[list[str], str | None]:
    """(port names, None), or ([], a sentence saying why there are none)."""
    try:
        import mido

        names = mido.get_output_names()
    except Exception:  # noqa: BLE001 - rtmidi raises SystemError, mido OSError/ImportError
        # rtmidi's own text ("MidiInAlsa::initialize: error creating ALSA sequencer client
        # object.") means nothing to a musician: what to do does.
        return (
            [],
            "MIDI output is not available on this machine: the system's MIDI service (ALSA "
            "sequencer, CoreMIDI or Windows MIDI) could not be reached; play through the "
            "built-in synthesiser, or start the MIDI service and open Composer again",
        )
    if not names:
        return (
            [],
            "No MIDI output port was found; connect a synthesizer or start a virtual MIDI port",
        )
    return list(names), None


def open_port(name: str):
    import mido

    return mido.open_output(name)


def play_to_port(
    piece: Piece,
    port,
    *,
    start: float = 0.0,
    end: float | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_position: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Send the piece's notes between `start` and `end` seconds to `port` (anything with
    `send(mido.Message)`) at their times. Programs are set first; every sounding note is ended
    when it finishes or stops. Returns the position reached, in seconds of the piece."""
    import mido

    stop = should_stop or (lambda: False)
    events = note_events(piece)
    end = events["time"].max() if end is None and len(events) else (end or 0.0)
    programs = channel_programs(piece)
    for channel, (program, drum) in programs.items():
        if not drum:
            port.send(mido.Message("program_change", channel=channel, program=program))
    chosen = events[
        (events["time"] >= start)
        & (events["time"] <= end)
        & ((events["on"] == 1) | (events["time"] > start))
    ]
    sounding: set[tuple[int, int]] = set()
    began = clock()
    position = start
    try:
        for when, on, channel, pitch, velocity in chosen.tolist():
            while True:
                position = start + (clock() - began)
                if stop():
                    return position
                if position >= when:
                    break
                sleep(min(when - position, 0.01))
                if on_position:
                    on_position(position)
            if on:
                port.send(mido.Message("note_on", channel=channel, note=pitch, velocity=velocity))
                sounding.add((channel, pitch))
            elif (channel, pitch) in sounding:
                port.send(mido.Message("note_off", channel=channel, note=pitch, velocity=0))
                sounding.discard((channel, pitch))
        return end
    finally:
        for channel, pitch in sorted(sounding):
            port.send(mido.Message("note_off", channel=channel, note=pitch, velocity=0))
        for channel in sorted(programs):
            port.send(
                mido.Message("control_change", channel=channel, control=123, value=0)
            )  # all notes off
