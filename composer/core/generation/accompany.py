"""A new part that plays along with the music a piece has: what `composer accompany` runs.

    part = Accompaniment(load_model(path), piece, program=32, settings=settings)
    for update in part.run():              # the sampler's updates; stop() ends it
        ...
    pieces = part.pieces()                 # the piece with the new track, per variation

The new part is an empty track added to the piece, filled over the bars asked for (the whole
piece by default) by generation/fill.py's SpanFiller with only that track chosen: the model
hears the other tracks as the music before and after the bars and, a model that hears given
music (tokens/given.py, `composer train --context`), as what they play at and just ahead of each
moment inside them. Only the tracks in `heard` (all by default) are heard; every track of the
piece is written back tick for tick, the new one after them. Without a range from the musician,
a pitched part keeps to its instrument's usual range (midi.piece.gm_usual_range).
"""

from __future__ import annotations

from dataclasses import replace

from composer.core.errors import SettingsError
from composer.core.generation.constraints import Constraints
from composer.core.generation.fill import SpanFiller, bar_span
from composer.core.generation.loading import LoadedModel
from composer.core.generation.sampling import SamplingSettings
from composer.core.midi.piece import Piece, Track, gm_program_name, gm_usual_range, make_notes
from composer.core.midi.timeline import Timeline


class Accompaniment(SpanFiller):
    """Writes `settings.variations` new parts (General MIDI `program`, or drums) for the ticks
    [start, end) of `piece` (None, None: all of it), hearing the tracks `heard` (indices into
    piece.tracks; None: all). A SpanFiller of the piece as heard, with the new track added and
    the only one chosen; `pieces()` gives back the whole piece with the new track."""

    def __init__(
        self,
        loaded: LoadedModel,
        piece: Piece,
        settings: SamplingSettings,
        *,
        program: int = 0,
        drums: bool = False,
        start: int | None = None,
        end: int | None = None,
        heard: list[int] | None = None,
        constraints: Constraints | None = None,
    ):
        if not piece.note_count:
            raise SettingsError("the piece has no notes to play along with")
        heard = list(range(len(piece.tracks))) if heard is None else sorted(set(heard))
        if not heard or not all(0 <= t < len(piece.tracks) for t in heard):
            raise SettingsError(f"choose tracks to hear from 1 to {len(piece.tracks)}")
        self.whole = piece
        self.track = Track(
            program=0 if drums else int(program),
            is_drum=drums,
            name="Drums" if drums else gm_program_name(int(program)),
            notes=make_notes(),
        )
        listened = replace(piece, tracks=[piece.tracks[i] for i in heard] + [self.track])
        start = 0 if start is None else start
        end = _end_of_last_bar(piece) if end is None else end
        # The new part's instrument is the track's: steering may narrow its notes, not change it.
        constraints = replace(constraints or Constraints(), programs=None, drums=True)
        constraints = _in_usual_range(constraints, self.track)
        super().__init__(loaded, listened, start, end, settings, [len(heard)], constraints)

    def pieces(self, which: list[int] | None = None) -> list[Piece]:
        """For each variation (or each in `which`): the piece, its tracks as they were, and the
        new part after them."""
        return [
            replace(self.whole, tracks=[*self.whole.tracks, filled.tracks[-1]])
            for filled in super().pieces(which)
        ]


def _in_usual_range(constraints: Constraints, track: Track) -> Constraints:
    """The constraints, keeping a pitched part to its instrument's usual range (gm_usual_range)
    unless the musician gave a range, for all instruments or for this one: a bass line asked
    for without one should not climb to the melody's octave."""
    if track.is_drum or (constraints.lowest, constraints.highest) != (0, 127):
        return constraints
    if any(program == track.program for program, _, _ in constraints.ranges):
        return constraints
    low, high = gm_usual_range(track.program)
    return replace(constraints, ranges=(*constraints.ranges, (track.program, low, high)))


def _end_of_last_bar(piece: Piece) -> int:
    """The tick where the bar of the piece's last note ends."""
    timeline = Timeline(piece.ticks_per_beat, piece.tempos, piece.time_signatures)
    bars = timeline.bar_beat(max(piece.end_tick - 1, 0)).bar
    return bar_span(piece, 1, bars)[1]
