"""Fill-in examples for a model that hears given music (tokens/given.py): the same spans as
fill_in_data.py's, read with the suffix heard as it nears, and, in VOICES_SHARE of them, some
voices of the span given and the others asked for: the accompaniment (`composer accompany`) and
the rewriting of chosen tracks (`composer fill --tracks`) that the model is then asked for.

The voices of a span are its tracks when it has several (the parts a musician keeps or asks
for are tracks: POP909's MELODY and PIANO, a chorale's Soprano to Bass, all played on one
instrument, which the tokens alone do not tell apart), else its instruments. A span of one
track and one instrument has its top line (a note at least as high as everything sounding when
it starts) told from the rest, or its bottom line likewise: given the melody, write the
accompaniment; given the accompaniment, the melody; given the bass, the parts above it.

Drawn once per run from its seed (its own stream, [seed, 3]), as fill_in_data.py's examples.
"""

from __future__ import annotations

import numpy as np

from composer.core.tokens.fill_in import (
    context_tokens,
    draw_span,
    mark,
    part_origins,
    part_tokens,
)
from composer.core.tokens.given import example_given_rows, span_given
from composer.core.tokens.vocab import Vocabulary
from composer.core.training.fill_in_data import LEFT_ONLY_SHARE, draw_examples

#: The share of examples that give some voices of the span and ask for the others.
VOICES_SHARE = 0.5
#: Of those, the share whose suffix and prefix lack the voices asked for too: a new part.
NEW_PART_SHARE = 0.5
#: Of the voices examples of a span with several tracks, the share that gives and asks for
#: whole tracks; the others split it as a file without tracks is (instruments, else lines).
#: Measured with benchmarks/given.py (small model from empty, 1,200 steps): the alto, tenor and
#: bass of held-out chorales given the soprano, NLL with / without it: 0.832 by lines alone
#: (whose top line is the soprano), 0.886 by tracks alone, 0.849 half and half; POP909's piano
#: given its melody 0.998, 0.997 and 0.995. Half and half keeps the chorales' aim (15% lower)
#: and teaches the model the parts a musician keeps or asks for, which are tracks.
TRACKS_SHARE = 0.5
#: The longest span a voices example asks for (eight 4/4 bars): an accompaniment is long.
MAX_VOICES_BEATS = 32


def heard_examples(
    pieces: list[np.ndarray],
    vocab: Vocabulary,
    share: float,
    seed: int,
    ahead_steps: int,
    log=None,
    parts=None,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(examples, rows): uint16 token arrays holding `share` of all the tokens read, cut from
    `pieces`, and for each its given rows packed 8 to a byte (np.packbits along the columns:
    uint8 of shape (L, ceil(GIVEN_WIDTH / 8))). log: as fill_in_examples'. parts: per piece,
    the track of each NoteOn token or None (TokenCache.parts); None: tracks not known."""
    rng = np.random.default_rng([seed, 3])
    spb = vocab.config.steps_per_beat

    def cut(notes, tempos, beats, note_parts):
        voices = rng.random() < VOICES_SHARE
        start, end = draw_span(rng, beats, MAX_VOICES_BEATS if voices else None)
        start, end = start * spb, end * spb
        suffix = rng.random() >= LEFT_ONLY_SHARE
        given = np.zeros(len(notes), bool)
        if voices:
            drum_slot = len(vocab.config.programs)
            given = split_voices(notes, start, end, rng, drum_slot, note_parts)
        new_part = voices and given.any() and rng.random() < NEW_PART_SHARE
        tokens, heard = voices_example(notes, tempos, start, end, vocab, suffix, given, new_part)
        rows = np.packbits(example_given_rows(tokens, heard, vocab, ahead_steps), axis=1)
        origins = part_origins(start, end, spb, suffix)
        return (tokens.astype(np.uint16), rows), len(tokens), origins

    made = draw_examples(pieces, vocab, share, rng, cut, log, parts)
    return [tokens for tokens, _ in made], [rows for _, rows in made]


def voices_example(notes, tempos, start: int, end: int, vocab, suffix: bool, given, new_part):
    """(tokens int64 (L,), GivenMusic) of one example: the span [start, end) (grid steps) with
    the notes where `given` (bool, one per note) heard and the others written; with `new_part`,
    the written voices are left out of the music around the span as well."""
    around = notes[given] if new_part else notes
    middle = part_tokens(notes[~given], tempos, start, end, vocab)
    tokens = np.concatenate(
        [
            context_tokens(around, tempos, start, end, vocab, suffix),
            middle,
            [mark(vocab, "EndMiddle")],
        ]
    )
    return tokens, span_given(around, notes[given], start, end, vocab, suffix)


def split_voices(notes, start: int, end: int, rng, drum_slot: int, parts=None) -> np.ndarray:
    """Which notes to give (bool, one per note of `notes`) for a span [start, end): notes outside
    the span are never given (the model hears them as the suffix and prefix). With several
    tracks in the span (`parts`: each note's track, None when not known), TRACKS_SHARE of the
    time a random nonempty proper subset of them; else with several instruments, of those; with
    one, the top line, the rest below it, or the bottom line (half, a quarter, a quarter of the
    time)."""
    inside = (notes["start"] >= start) & (notes["start"] < end)
    given = np.zeros(len(notes), bool)
    by_track = parts is not None and rng.random() < TRACKS_SHARE
    for voice in ([parts] if by_track else []) + [notes["slot"]]:
        voices = np.unique(voice[inside])
        if len(voices) >= 2:
            chosen = rng.permutation(voices)[: int(rng.integers(1, len(voices)))]
            given[inside] = np.isin(voice[inside], chosen)
            return given
    index = np.flatnonzero(inside & (notes["slot"] != drum_slot))
    if len(index) < 2:
        return given
    span = notes[index]
    # At each note's start, the highest and lowest pitch sounding (its own included).
    sounding = (span["start"][None, :] <= span["start"][:, None]) & (
        span["end"][None, :] > span["start"][:, None]
    )
    pitches = np.broadcast_to(span["pitch"][None, :], sounding.shape)
    top = span["pitch"] >= np.where(sounding, pitches, -1).max(axis=1)
    bottom = span["pitch"] <= np.where(sounding, pitches, 128).min(axis=1)
    draw = rng.random()
    line = top if draw < 0.5 else (~top if draw < 0.75 else bottom)
    if line.all() or not line.any():  # one voice only: nothing to accompany
        return given
    given[index] = line
    return given
