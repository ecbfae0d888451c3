"""Fill-in-the-middle: the token layout that lets a left-to-right LSTM write a span of music with
the music on both sides of it.

A piece cut at two beats `a < b` becomes three parts, each encoded on its own from time 0 so that
it decodes on its own (its first tokens restate the tempo, instrument and loudness in force):

    Suffix …the music from b… Prefix …the music before a… Middle …the span a-b… EndMiddle

This is the "SPM" order of the code-model recipe (suffix, prefix, middle) rather than "PSM". An
LSTM keeps only a state, not the sequence: in SPM the middle continues straight from the end of
the prefix, exactly as in ordinary left-to-right training, so the most audible join (where the new
music starts) is predicted from the freshest state, and what the state must carry across the
prefix is a summary of how the suffix begins. PSM would put the whole suffix between the prefix's
end and the middle's start. Both sides are bounded (CONTEXT_BEATS before, SUFFIX_BEATS after) at
training and at filling alike, so the suffix's start is never further back than the model learnt.

Notes that cross a cut are cut there: a note sounding into the span ends at `a` in the prefix, and
a note of the span still sounding at `b` ends at `b` (the middle is closed before EndMiddle). Each
part ends with the time shifts that bring it to its border, so the middle lasts exactly b - a.
A layout without its suffix (`Prefix … Middle … EndMiddle`) is the left side alone: a small share
of the training examples use it, so the model can score a middle from the left only.
"""

from __future__ import annotations

import numpy as np

from composer.core.tokens.codec import GRID_DTYPE, encode_grid
from composer.core.tokens.stream import StreamDecoder
from composer.core.tokens.vocab import Vocabulary

#: Beats of music before the span the model reads (eight 4/4 bars).
CONTEXT_BEATS = 32
#: Beats of music after the span the model reads (four 4/4 bars): the suffix is read first and
#: carried across the prefix, so it is kept short.
SUFFIX_BEATS = 16
#: The longest span a training example asks the model to fill (four 4/4 bars).
MAX_MIDDLE_BEATS = 16


def has_fill_in(vocab: Vocabulary) -> bool:
    """Whether a vocabulary has the fill-in marks (models made before them have not)."""
    return vocab.config.infill


def mark(vocab: Vocabulary, name: str) -> int:
    """The id of a fill-in mark: Suffix, Prefix, Middle or EndMiddle."""
    first, size = vocab.ranges[name]
    if not size:
        raise ValueError("this vocabulary has no fill-in marks")
    return first


def part_tokens(notes: np.ndarray, tempos: np.ndarray, start: int, end: int | None, vocab):
    """The tokens (no Bos, no Eos) of the music between grid steps `start` and `end` (None: to
    the last note), as if it began at time 0.

    notes: GRID_DTYPE array of the whole piece; tempos: (T, 2) int64 (step, tempo bin), the first
    at step 0 (as codec.grid_notes returns them). Notes that start in [start, end) are kept, ended
    at `end` at the latest; tempo changes inside are kept, and the one in force at `start` is
    restated at 0. With an `end`, trailing time shifts bring the part to exactly end - start.
    """
    starts = notes["start"]
    inside = (starts >= start) & (starts < end) if end is not None else starts >= start
    part = notes[inside].copy()
    if end is not None:
        part["end"] = np.minimum(part["end"], end)
    part["start"] -= start
    part["end"] -= start
    before = tempos[tempos[:, 0] <= start][-1:]
    after = tempos[(tempos[:, 0] > start) & ((tempos[:, 0] < end) if end is not None else True)]
    part_tempos = np.concatenate([before, after]) - [start, 0]
    part_tempos[0, 0] = 0
    tokens = encode_grid(part, part_tempos, vocab)
    tokens = tokens[1:-1].astype(np.int64)  # without Bos and Eos
    if end is None:
        return tokens
    last = max(int(part["end"].max()) if len(part) else 0, int(part_tempos[-1, 0]))
    return np.concatenate([tokens, time_shifts(end - start - last, vocab)])


def time_shifts(steps: int, vocab: Vocabulary) -> np.ndarray:
    """The TimeShift tokens that move time forward by `steps` grid steps (none for 0)."""
    longest = vocab.config.max_shift_steps
    first = vocab.offset("TimeShift")
    full, rest = divmod(max(int(steps), 0), longest)
    return np.array([first + longest - 1] * full + ([first + rest - 1] if rest else []), np.int64)


def context_tokens(notes, tempos, start: int, end: int, vocab, suffix: bool = True) -> np.ndarray:
    """What the model reads before writing the span [start, end) (grid steps): the suffix (unless
    `suffix` is False), the prefix, and the Middle mark. int64, shape (L,)."""
    spb = vocab.config.steps_per_beat
    parts = []
    if suffix:
        parts += [
            [mark(vocab, "Suffix")],
            part_tokens(notes, tempos, end, end + SUFFIX_BEATS * spb, vocab),
        ]
    prefix_start = max(0, start - CONTEXT_BEATS * spb)
    parts += [[mark(vocab, "Prefix")], part_tokens(notes, tempos, prefix_start, start, vocab)]
    parts += [[mark(vocab, "Middle")]]
    return np.concatenate([np.asarray(p, np.int64) for p in parts])


def part_origins(start: int, end: int, steps_per_beat: int, suffix: bool = True) -> tuple:
    """Where each part of context_tokens' layout begins in the piece (grid steps), by part index
    (tokens/meter.Placement): nothing before the first mark, then the suffix (unless `suffix`
    is False), the prefix and the middle."""
    prefix_start = max(0, start - CONTEXT_BEATS * steps_per_beat)
    return (0, end, prefix_start, start) if suffix else (0, prefix_start, start)


def example_tokens(notes, tempos, start: int, end: int, vocab, suffix: bool = True) -> np.ndarray:
    """A whole training example: the context, the middle's tokens and EndMiddle. int64, (L,)."""
    middle = part_tokens(notes, tempos, start, end, vocab)
    end_mark = [mark(vocab, "EndMiddle")]
    return np.concatenate(
        [context_tokens(notes, tempos, start, end, vocab, suffix), middle, end_mark]
    )


def draw_span(
    rng: np.random.Generator, beats: int, longest_beats: int | None = None
) -> tuple[int, int]:
    """A span (first beat, beat after the last) of a piece `beats` long: half the time a whole
    number of 4/4 bars (what a musician selects), else any 1 to `longest_beats` beats
    (MAX_MIDDLE_BEATS unless given)."""
    longest = min(longest_beats or MAX_MIDDLE_BEATS, beats - 1)
    if rng.random() < 0.5 and longest >= 4:
        length = 4 * int(rng.integers(1, longest // 4 + 1))
    else:
        length = int(rng.integers(1, longest + 1))
    start = int(rng.integers(0, beats - length + 1))
    return start, start + length


def grid_from_tokens(tokens, vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray]:
    """The grid notes and tempos a token sequence describes (codec.grid_notes's form: notes as
    GRID_DTYPE sorted by slot, pitch, start; tempos (T, 2) from step 0), decoded without a Python
    loop per token for the canonical sequences `encode` writes (the training data), and by the
    StreamDecoder for anything else."""
    notes, tempos, _ = _grid(np.asarray(tokens, dtype=np.int64), vocab)
    return notes, tempos


def grid_and_parts(tokens, vocab: Vocabulary, on_parts) -> tuple[np.ndarray, np.ndarray, object]:
    """grid_from_tokens's (notes, tempos), and each note's part: on_parts holds one part per
    NoteOn token, in token order (the cache's `parts`, corpus/cache.py); the result is an int64
    array in the notes' order, or None when on_parts is None or does not fit the tokens."""
    t = np.asarray(tokens, dtype=np.int64)
    notes, tempos, ordinals = _grid(t, vocab)
    if on_parts is None or ordinals is None:
        return notes, tempos, None
    on_parts = np.asarray(on_parts, np.int64)
    first, size = vocab.ranges["NoteOn"]
    if int(((t >= first) & (t < first + size)).sum()) != len(on_parts):
        return notes, tempos, None
    return notes, tempos, on_parts[ordinals]


def _grid(t: np.ndarray, vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray, object]:
    """(notes, tempos, for each note the ordinal of its NoteOn among the NoteOn tokens, or None
    when the StreamDecoder decoded a sequence that is not canonical)."""
    r = vocab.ranges
    kinds = {name: (t >= first) & (t < first + size) for name, (first, size) in r.items()}
    shift = np.where(kinds["TimeShift"], t - r["TimeShift"][0] + 1, 0)
    time = np.cumsum(shift)
    drum_slot = len(vocab.config.programs)
    slot_marks = np.where(
        kinds["Program"], t - r["Program"][0], np.where(kinds["Drums"], drum_slot, -1)
    )
    slot = _forward_fill(slot_marks, 0)
    vbin = _forward_fill(
        np.where(kinds["Velocity"], t - r["Velocity"][0], -1), vocab.config.velocity_bins // 2
    )
    on, off = np.flatnonzero(kinds["NoteOn"]), np.flatnonzero(kinds["NoteOff"])
    key = np.full(len(t), -1, np.int64)
    key[on] = slot[on] * 128 + t[on] - r["NoteOn"][0]
    key[off] = slot[off] * 128 + t[off] - r["NoteOff"][0]
    events = np.sort(np.concatenate([on, off]))
    events = events[np.lexsort((events, key[events]))]  # by key, then position
    is_on = kinds["NoteOn"][events]
    canonical = (
        len(events) % 2 == 0
        and is_on[0::2].all()
        and not is_on[1::2].any()
        and (key[events[0::2]] == key[events[1::2]]).all()
        and (time[events[1::2]] > time[events[0::2]]).all()
    )
    if not canonical:
        return (*_grid_by_decoder(t, vocab), None)
    ons, offs = events[0::2], events[1::2]
    notes = np.empty(len(ons), dtype=GRID_DTYPE)
    notes["start"], notes["end"] = time[ons], time[offs]
    notes["pitch"], notes["vbin"], notes["slot"] = key[ons] % 128, vbin[ons], key[ons] // 128
    order = np.argsort(notes, order=["slot", "pitch", "start"], kind="stable")
    notes, ons = notes[order], ons[order]
    ordinals = np.searchsorted(np.flatnonzero(kinds["NoteOn"]), ons)
    tempo_at = np.flatnonzero(kinds["Tempo"])
    default = int(vocab.tempo_bin(120.0))
    rows = np.concatenate(
        [[[0, default]], np.stack([time[tempo_at], t[tempo_at] - r["Tempo"][0]], axis=1)]
    ).astype(np.int64)
    keep = np.append(rows[1:, 0] != rows[:-1, 0], True)  # the last change at a step wins
    return notes, rows[keep], ordinals


def _forward_fill(marks: np.ndarray, initial: int) -> np.ndarray:
    """Each position's last mark at or before it (marks: -1 where none), `initial` before any."""
    index = np.where(marks >= 0, np.arange(len(marks)), -1)
    np.maximum.accumulate(index, out=index)
    return np.where(index >= 0, marks[np.maximum(index, 0)], initial)


def _grid_by_decoder(tokens: np.ndarray, vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray]:
    decoder = StreamDecoder(vocab)
    decoder.feed_many(tokens)
    rows = np.array(decoder.notes(), dtype=np.int64).reshape(-1, 5)
    notes = np.empty(len(rows), dtype=GRID_DTYPE)
    for i, name in enumerate(GRID_DTYPE.names):
        notes[name] = rows[:, i]
    return np.sort(notes, order=["slot", "pitch", "start"]), decoder.tempo_rows()
