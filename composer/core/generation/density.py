"""Steering toward a density (notes per beat, all instruments): a soft logit bias that integrates
its error over the piece, hard bounds around it, the check that the polyphony and the grid can
reach the density asked for at all, and the density of a primer to take it from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from composer.core.errors import SettingsError
from composer.core.generation.steering_text import grid_name
from composer.core.tokens.stream import StreamDecoder
from composer.core.tokens.vocab import EOS, Kind

if TYPE_CHECKING:
    from composer.core.generation.constraints import Constraints


def notes_per_beat(piece) -> float:
    """How busy a piece is: its notes (drums included) per beat of its length."""
    notes = sum(len(t.notes) for t in piece.tracks)
    end = max((int(t.notes["end"].max()) for t in piece.tracks if len(t.notes)), default=0)
    if not notes or end <= 0:
        raise SettingsError("the primer has no notes to measure its density by")
    return notes / (end / piece.ticks_per_beat)


def check_density_reachable(constraints: Constraints, steps_per_beat: int, slots) -> None:
    """SettingsError naming the settings when the density asked for is more notes per beat than
    the polyphony and the grid let the instruments play: at most `polyphony` note-ons per onset
    (a note lasts at least a step) and an onset per grid step. The density steering makes the
    instrument that is playing play more; it cannot count on the model to bring in others, so
    without a list of programs one instrument is counted. Asked for more, the base model hopped
    across four or five instruments to approach it, or wrote a thousand tokens at one moment
    and was stopped as stuck. slots: ConstraintMask.slots (last: drums)."""
    c = constraints
    if c.density is None or c.polyphony is None:
        return  # a chord of any size can hold any density
    onsets = steps_per_beat / (c.grid_steps or 1)
    instruments = int(np.count_nonzero(slots)) if c.programs is not None else 1
    most = c.polyphony * onsets * instruments
    if c.density <= most:
        return
    where = f" on a {grid_name(c.grid_steps, steps_per_beat)} grid" if c.grid_steps else ""
    who = f"the {instruments} instruments allowed" if instruments > 1 else "one instrument"
    fix = "raise the polyphony or choose a finer grid" if c.grid_steps else "raise the polyphony"
    raise SettingsError(
        f"a density of {c.density:g} notes per beat is more than polyphony {c.polyphony}{where} "
        f"lets {who} play ({most:g} per beat); lower the density, {fix}"
    )


#: Logits added to note-ons (and velocities) per unit of log(target / measured density): a
#: measured density half the target adds about 2, making a note about 8 times likelier.
DENSITY_GAIN = 3.0
#: The measured density starts as if this many beats had been played at the target, so that
#: the first note or the first rest does not swing the bias to its limit.
DENSITY_PRIOR_BEATS = 2.0
DENSITY_MAX_BIAS = 8.0


def density_bias(target: float, notes: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """Logit bias for note-ons per variation, (B,): positive while a variation has played fewer
    notes per beat than `target`, negative while more. notes: note-ons written, (B,); beats:
    beats of new music so far, (B,). The measured rate includes everything so far, so the
    steering integrates its error and the whole piece lands near the target."""
    rate = (notes + target * DENSITY_PRIOR_BEATS) / (beats + DENSITY_PRIOR_BEATS)
    bias = DENSITY_GAIN * np.log(target / rate)
    return np.clip(bias, -DENSITY_MAX_BIAS, DENSITY_MAX_BIAS)


def density_mask(
    target: float, decoders: list[StreamDecoder], notes: np.ndarray, beats: np.ndarray, vocab
) -> np.ndarray:
    """Hard bounds around the soft steering (density_bias): a variation 10% ahead of the
    density asked for may not start a note (it must move on in time), one 10% behind may
    not move on in time (it must play), and none may end before its length. Bool (B, V);
    notes: note-ons written, (B,); beats: beats of new music so far, (B,)."""
    on, velocity, shift = (
        slice(first, first + count)
        for first, count in (vocab.ranges[k] for k in ("NoteOn", "Velocity", "TimeShift"))
    )
    mask = np.ones((len(decoders), len(vocab)), bool)
    mask[:, EOS] = False  # a density is asked of the whole length: no ending before it
    for row, d in enumerate(decoders):
        if notes[row] >= target * (beats[row] + 0.5) * 1.1 and d.last_kind != Kind.VELOCITY:
            mask[row, on] = mask[row, velocity] = False
        elif notes[row] < target * beats[row] * 0.9 - 1:
            mask[row, shift] = False
    return mask
