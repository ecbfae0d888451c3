"""Regenerating a span of a piece with the music on both sides: what `composer fill` and the app's
*Regenerate selection* run.

    filler = SpanFiller(load_model(path), piece, start_tick, end_tick, settings)
    for update in filler.run():            # the sampler's updates; stop() ends it
        ...
    pieces = filler.pieces()               # one whole piece per variation

`bar_span(piece, first, last)` gives the ticks of bars first-last, refusing bars past the end.

The notes that *start* inside the span (of the tracks chosen, by default all) are written anew;
everything else is kept exactly as it was, tick for tick: the notes before and after, the tempo
map, the time signatures, the other tracks. The new notes start on or after the span's start and
end by its end, so the span is exactly as long as asked and leaves no note hanging. A note that
starts before the span and sounds into it is kept as written (it belongs to the bars before);
the model hears the music before the span as ending where the span starts, the way it was
trained (tokens/fill_in.py cuts notes at the borders).

A model trained to fill in (its vocabulary has the fill-in marks) reads the music after the span
too; an older model continues from the music before the span alone (`both_sides` says which).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from composer.core.errors import SettingsError
from composer.core.generation.constraints import Constraints
from composer.core.generation.generate import GenerationUpdate, Sampler
from composer.core.generation.loading import LoadedModel
from composer.core.generation.sampling import MAX_TOKENS, SamplingSettings
from composer.core.generation.span import FillSpan
from composer.core.generation.written import add_grid_notes
from composer.core.midi.piece import Piece, Track
from composer.core.midi.timeline import Timeline
from composer.core.tokens.codec import grid_notes, to_steps, to_ticks
from composer.core.tokens.fill_in import (
    CONTEXT_BEATS,
    context_tokens,
    has_fill_in,
    part_origins,
    part_tokens,
)
from composer.core.tokens.given import GivenMusic, span_given
from composer.core.tokens.meter import Meter, Placement
from composer.core.tokens.vocab import BOS


def bar_span(piece: Piece, first: int, last: int) -> tuple[int, int]:
    """The ticks [start, end) of bars `first` to `last` (from 1, by the piece's time signatures).
    SettingsError unless they are bars of the piece: from 1 to the bar its last note ends in.
    (Bars past the end were accepted: `--bars 1-100000` of a 22-bar piece sampled for hours.)"""
    timeline = Timeline(piece.ticks_per_beat, piece.tempos, piece.time_signatures)
    bars = timeline.bar_beat(max(piece.end_tick - 1, 0)).bar
    if not 1 <= first <= last <= bars:
        choose = "bar 1" if bars == 1 else f"bars 1 to {bars}"
        raise SettingsError(f"the piece has {bars} bar{'s' * (bars != 1)}; choose {choose}")
    return timeline.tick_of(first), timeline.tick_of(last + 1)


class SpanFiller:
    """Writes `settings.variations` new versions of the ticks [start, end) of `piece`.

    `tracks`: indices into piece.tracks of the tracks to rewrite (None: all); the others keep
    their notes in the span, and the new notes use only the chosen tracks' instruments.
    `settings.seconds` and `max_tokens` are ignored: the span sets the length; so is
    `constraints.tempo_bpm`: the piece keeps its own tempo map, and the span its tempo.
    """

    def __init__(
        self,
        loaded: LoadedModel,
        piece: Piece,
        start: int,
        end: int,
        settings: SamplingSettings,
        tracks: list[int] | None = None,
        constraints: Constraints | None = None,
    ):
        vocab = loaded.vocab
        spb = vocab.config.steps_per_beat
        self.piece, self.vocab = piece, vocab
        self.start_step = int(to_steps(start, piece.ticks_per_beat, spb))
        self.end_step = int(to_steps(end, piece.ticks_per_beat, spb))
        if not 0 <= self.start_step < self.end_step:
            raise SettingsError(
                "the span to fill must start at 0 or later and last at least a step"
            )
        self.start, self.end = int(start), int(end)
        self.tracks = list(range(len(piece.tracks))) if tracks is None else sorted(set(tracks))
        if not self.tracks or not all(0 <= t < len(piece.tracks) for t in self.tracks):
            raise SettingsError(f"choose tracks from 1 to {len(piece.tracks)}")
        self.both_sides = has_fill_in(vocab)
        notes, tempos = grid_notes(piece, vocab)
        steps = self.end_step - self.start_step
        tempo_bin = int(tempos[tempos[:, 0] <= self.start_step][-1, 1])
        meter = Meter.of_piece(piece, spb)
        if self.both_sides:
            context = context_tokens(notes, tempos, self.start_step, self.end_step, vocab)
            placement = Placement(meter, part_origins(self.start_step, self.end_step, spb))
        else:  # continue the bars before the span, as far back as a filling model reads
            first = max(0, self.start_step - CONTEXT_BEATS * spb)
            before = part_tokens(notes, tempos, first, self.start_step, vocab)
            context = np.concatenate([[BOS], before])
            placement = Placement(meter, (first,))
        # The steering asked for that has effect (the span keeps the piece's tempo and meter), before the
        # tracks chosen narrow the instruments: what silent_sentence may advise loosening.
        self.steering = replace(constraints or Constraints(), tempo_bpm=None, meter=None)
        constraints = self._instruments(self.steering)
        settings = replace(settings, seconds=None, max_tokens=MAX_TOKENS)
        span = FillSpan(context, steps, tempo_bin, self._held(), self._given(notes), placement)
        self.sampler = Sampler(loaded, settings, constraints=constraints, span=span)

    @property
    def hears_inside(self) -> bool:
        """Whether the model hears the tracks it keeps inside the span (a model that hears given
        music, tokens/given.py), not only the music before and after it."""
        return self.sampler.given_table is not None

    def _given(self, notes: np.ndarray) -> GivenMusic:
        """What a model that hears given music hears in the span (tokens/given.py): the notes
        the tracks not chosen play in it, and, for a model that reads the suffix, the music
        after it. notes: the whole piece's grid notes (codec.grid_notes)."""
        kept = [t for i, t in enumerate(self.piece.tracks) if i not in set(self.tracks)]
        kept_notes, _ = grid_notes(replace(self.piece, tracks=kept), self.vocab)
        return span_given(
            notes, kept_notes, self.start_step, self.end_step, self.vocab, self.both_sides
        )

    def _held(self) -> tuple[tuple[int, int, int], ...]:
        """(slot, pitch, step from the span's start when it ends) of every note kept from before
        the span that still sounds in it (FillSpan.held says why)."""
        piece, vocab = self.piece, self.vocab
        spb, tpb = vocab.config.steps_per_beat, piece.ticks_per_beat
        held = []
        for track in piece.tracks:
            notes = track.notes
            sounding = notes[(notes["start"] < self.start) & (notes["end"] > self.start)]
            slot = (
                len(vocab.config.programs) if track.is_drum else vocab.program_slot[track.program]
            )
            for end, pitch in zip(sounding["end"].tolist(), sounding["pitch"].tolist()):
                until = -(-end * spb // tpb) - self.start_step  # the step it has ended by
                held.append((int(slot), int(pitch), int(until)))
        return tuple(held)

    def _instruments(self, constraints: Constraints) -> Constraints:
        """Keep the new notes to the chosen tracks' instruments, when not all are chosen."""
        if len(self.tracks) == len(self.piece.tracks):
            return constraints
        chosen = [self.piece.tracks[i] for i in self.tracks]
        programs = {t.program for t in chosen if not t.is_drum}
        if constraints.programs is not None:
            programs &= set(constraints.programs)
        drums = constraints.drums and any(t.is_drum for t in chosen)
        if not programs and not drums:  # the new notes could go to none of the tracks chosen
            theirs = sorted({"drums" if t.is_drum else f"program {t.program}" for t in chosen})
            allowed = [f"program {p}" for p in sorted(constraints.programs or ())]
            allowed += ["drums"] if constraints.drums else []
            raise SettingsError(
                f"the tracks chosen play {' and '.join(theirs)}, but only "
                f"{' and '.join(allowed) or 'nothing'} may play, so no new note could go to "
                "them; choose tracks that play an allowed instrument, or allow theirs"
            )
        return replace(constraints, programs=tuple(sorted(programs)), drums=drums)

    def run(self) -> Iterator[GenerationUpdate]:
        """The sampler's updates; the notes in them are in ticks from the span's start at
        480 / steps_per_beat ticks a step (see Sampler)."""
        yield from self.sampler.run()

    def stop(self) -> None:
        self.sampler.stop()

    def finished(self) -> list[int]:
        return self.sampler.finished()

    def silent(self) -> list[int]:
        """The variations that wrote no note: their span is left empty (Sampler.silent)."""
        return self.sampler.silent()

    def silent_sentence(self, where: str, so: str) -> str:
        """Sampler.silent_sentence, advising on the steering asked for, not on the instruments
        of the tracks chosen."""
        return self.sampler.silent_sentence(where, so, self.steering)

    def pieces(self, which: list[int] | None = None) -> list[Piece]:
        """For each variation (or each in `which`): the piece with its span rewritten."""
        out = []
        for index in range(len(self.sampler.variations)) if which is None else which:
            decoder = self.sampler.variations[index].decoder
            out.append(self._with_span(np.array(decoder.notes(), np.int64).reshape(-1, 5)))
        return out

    def _with_span(self, new: np.ndarray) -> Piece:
        """The piece with the chosen tracks' notes that start in the span replaced by `new`
        (rows of start step, end step, pitch, velocity bin, slot; steps from the span's start)."""
        piece, vocab = self.piece, self.vocab
        spb, tpb = vocab.config.steps_per_beat, piece.ticks_per_beat
        ticks = to_ticks(new[:, :2] + self.start_step, tpb, spb)  # as a generation writes them
        # A start rounded onto the span's end would leave the span: the last tick is its latest.
        ticks[:, 0] = np.clip(ticks[:, 0], self.start, self.end - 1)
        ticks[:, 1] = np.clip(ticks[:, 1], self.start, self.end)
        tracks = [replace(t, notes=t.notes.copy()) for t in piece.tracks]
        for i in self.tracks:
            starts = tracks[i].notes["start"]
            tracks[i].notes = tracks[i].notes[(starts < self.start) | (starts >= self.end)]
        add_grid_notes(
            tracks,
            new,
            ticks,
            vocab,
            lambda program, drum, _: self._track_for(tracks, program, drum),
        )
        return replace(piece, tracks=tracks)

    def _track_for(self, tracks: list[Track], program: int, drum: bool) -> Track | None:
        """The chosen track the new notes of an instrument go to: one that plays it, else one
        whose instrument the vocabulary plays with it (same GM family)."""
        slot = self.vocab.program_slot
        for exact in (True, False):
            for i in self.tracks:
                t = tracks[i]
                if t.is_drum != drum:
                    continue
                if drum or (t.program == program if exact else slot[t.program] == slot[program]):
                    return t
        return None
