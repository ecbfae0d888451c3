"""What the model can hear besides each token: where the music is in the beat and the bar (meter),
and what was played at the same place 1, 2 (4 and 8) bars before (lookback), as in Magenta's
Lookback RNN (issue 26). An LSTM's state is bad at keeping the position in the bar exactly and at
remembering the notes of a bar ago; given as inputs, repeating a bar is as easy as copying them.

Event tokens have no fixed place in time, so "the same place a bar ago" is a *moment key*: the
token read after position i sits at time T_i (grid steps since its part began) and is the c_i-th
token read at that time (c counts the tokens since the last time shift; a time shift starts it
again at 0). The lookback of lag L at position i is the position j + 1 whose key (T_j, c_j) is
(T_i - L, c_i) in the same part: the token that came next at that moment L steps ago. When the
music a bar ago is the music now, that token is exactly the next one, so the model can learn to
copy it. -1 where no such moment exists (a rest covered that time, or it is before the start).

A part is what a fill-in mark begins (tokens/fill_in.py: suffix, prefix and middle each start at
their own time 0); lookback never reaches into another part, except for a spec that looks
ahead (ContextSpec.ahead, with the meter): its moments are keyed by their time in the piece (the
Placement puts each part there), so a fill's middle hears the prefix's last bars a bar back and,
with the lags AHEAD_BARS, what the suffix (read first) plays at the same place 1, 2 and 4 bars
later: the music after the span as a bar-aligned source to copy, where a repeated phrase lies.

The repeat flags (a model made with ContextSpec.repeats, Lookback RNN's "whether the last events
were repeating"): per lag, how many tokens in a row, up to the one just read, were the token the
lookback pointed at (the music has been repeating the bar before for that long), 0 to
REPEAT_ROWS - 1. An LSTM can compare what it reads with last bar's token only by carrying the
comparison in its state; given as a count, "keep repeating" is as easy to learn as the repeat.
A drum note never repeats a pitched one of the same id (tagged_tokens), so the counts do not
change when training transposes the pitched notes alone.

The lags (ContextSpec.bars): 1 to `lookback_bars` bars, as Lookback RNN; with `phrases` also 4
and 8 bars, where the collections repeat most (a tune's phrase and period: on Nottingham the
next token is the one 4 or 8 bars before 45% of the time, 28% a bar before).

`context_rows` computes every position of a token sequence at once (training, validation, a
primer); `ContextTracker` computes the same rows one token at a time (the sampler). They agree
position for position; tests/core/test_lookback.py holds them together on real music.

The bar: for a model that follows the meter (ContextSpec.meter), the piece's own time signatures
(tokens/meter.py: a Placement places each part of the sequence in the piece), the beat in the bar
counted in quarter notes from the bar line and the lags whole bars of the bar in force; for older
context models `beats_per_bar` quarter notes (4/4) from each part's start, as they were trained.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from composer.core.tokens.meter import METER_BEATS, Meter, Placement
from composer.core.tokens.stream import instrument_marks, lookup_tables, playing_drums
from composer.core.tokens.vocab import FILL_MARKS, Kind, Vocabulary

NO_MOMENT = -1  # a lookback position where no moment a lag ago exists
#: The phrase lags (ContextSpec.phrases), in bars: the folk tunes and chorales the model learns
#: from repeat their 2-beat motifs most at 4 and 8 bars (a phrase, a period), hardly at 1 or 2.
PHRASE_BARS = (4, 8)
#: The look-ahead lags (ContextSpec.ahead), in bars (negative: later than now): what the music
#: after a fill's span, read before it, plays at the same place 1, 2 and 4 bars later.
AHEAD_BARS = (-1, -2, -4)
#: Rows of each repeat-flag table: runs of 0 to REPEAT_ROWS - 1 repeated tokens (longer: the last).
REPEAT_ROWS = 32


@dataclass(frozen=True)
class ContextSpec:
    """Which context inputs a model reads: the lookback lags (`bars`: 1 to `lookback_bars`, and
    the phrase and look-ahead lags a spec asks for). Rows hold (step in the beat, beat in the bar, then one lookback position per lag, then with
    `repeats` one repeat count per lag)."""

    lookback_bars: int
    beats_per_bar: int  # the model's (model.config.BEATS_PER_BAR): ModelConfig.context_spec()
    meter: bool = False  # bars of the piece's time signatures (a Placement), not 4/4 per part
    repeats: bool = False  # the repeat flags (module doc)
    phrases: bool = False  # two more lags: PHRASE_BARS (a phrase and a period before)
    ahead: bool = False  # moments in piece time, across a fill's parts, and AHEAD_BARS (module doc)

    def __post_init__(self):
        if self.ahead and not self.meter:
            raise ValueError("looking ahead needs the meter (the parts' places in the piece)")

    @property
    def bars(self) -> tuple[int, ...]:
        """The lookback lags in bars: 1 to lookback_bars, then PHRASE_BARS with `phrases`, then
        AHEAD_BARS (negative: later) with `ahead`."""
        bars = tuple(range(1, self.lookback_bars + 1)) + (PHRASE_BARS if self.phrases else ())
        return bars + (AHEAD_BARS if self.ahead else ())

    @property
    def beat_rows(self) -> int:
        """Rows of the beat-in-bar table (the largest beat index is one less)."""
        return METER_BEATS if self.meter else self.beats_per_bar

    def lags(self, steps_per_beat: int) -> np.ndarray:
        """The lags in grid steps of 4/4 bars (a spec without meter), shape (lags,)."""
        return np.array(self.bars, np.int64) * self.beats_per_bar * steps_per_beat

    @property
    def lookback(self) -> slice:
        """The columns of the lookback positions (ids once context_ids has read them)."""
        return slice(2, 2 + len(self.bars))

    @property
    def repeat(self) -> slice:
        """The columns of the repeat counts (empty without `repeats`)."""
        first = 2 + len(self.bars)
        return slice(first, first + (len(self.bars) if self.repeats else 0))

    @property
    def columns(self) -> int:
        return self.repeat.stop


def tagged_tokens(tokens: np.ndarray, vocab: Vocabulary) -> np.ndarray:
    """The ids, with len(vocab) added where drums play (since the last Drums token, no Program
    token after it): int64, the shape of `tokens` (N,). What the repeat flags compare."""
    tokens = np.asarray(tokens, np.int64)
    drums = playing_drums(instrument_marks(tokens, vocab)[None], np.zeros(1, bool))[0]
    return tokens + len(vocab) * drums


def _tables(vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray]:
    """Per id: the steps it moves time by (time shifts), and whether it starts a part."""
    kinds, values = lookup_tables(vocab)
    shift = np.array([v if k == Kind.TIME_SHIFT else 0 for k, v in zip(kinds, values)], np.int64)
    starts = np.array([k in FILL_MARKS[:3] for k in kinds], bool)  # EndMiddle ends, not starts
    return shift, starts


def moment_keys(tokens: np.ndarray, vocab: Vocabulary) -> tuple[np.ndarray, ...]:
    """(part, time, count) after each position, int64 arrays of shape (N,): the moment key of
    the token read next (module doc)."""
    shift_of, starts_of = _tables(vocab)
    tokens = np.asarray(tokens, np.int64)
    n = len(tokens)
    shift, starts = shift_of[tokens], starts_of[tokens]
    part = np.cumsum(starts)
    total = np.cumsum(shift)
    # Time restarts at 0 where a part starts: subtract the total reached before that token.
    at_start = np.flatnonzero(starts)
    base = np.zeros(n, np.int64)
    if len(at_start):
        before = np.concatenate([[0], total])[at_start]  # total before each part's first token
        base_per_part = np.concatenate([[0], before])
        base = base_per_part[part]
    time = total - base
    # Tokens since the last time shift (or since the part began), this one included.
    moved = (shift > 0) | starts
    last = np.maximum.accumulate(np.where(moved, np.arange(n), -1))
    count = np.arange(n) - last
    count = np.where(shift > 0, 0, count)
    return part, time, count


def context_rows(
    tokens: np.ndarray, vocab: Vocabulary, spec: ContextSpec, placement: Placement | None = None
) -> np.ndarray:
    """The context inputs of every position, int64 of shape (N, spec.columns): step in the beat,
    beat in the bar, per lag the position of the token that came next at the same moment that
    many bars before (NO_MOMENT where none did), and with spec.repeats the repeat counts
    (repeat_counts). placement: where the tokens lie in their piece, for a spec that follows
    the meter (None: 4/4 from time 0)."""
    spb = vocab.config.steps_per_beat
    part, time, count = moment_keys(tokens, vocab)
    n = len(part)
    rows = np.empty((n, spec.columns), np.int64)
    if spec.meter:
        placement = placement or Placement(Meter.four_four(spb))
        at = placement.origin_of(part) + time if n else time
        bar_start, bar_steps = placement.meter.bars_at(at)
        into = at - bar_start
        rows[:, 0] = into % spb
        rows[:, 1] = np.minimum(into // spb, METER_BEATS - 1)
        lags = bar_steps[:, None] * np.array(spec.bars, np.int64)  # (N, lags)
    else:
        rows[:, 0] = time % spb
        rows[:, 1] = (time // spb) % spec.beats_per_bar
        lags = np.broadcast_to(spec.lags(spb), (n, len(spec.bars)))
    if n == 0:
        return rows
    if spec.ahead:  # one timeline for the fill parts (part 0, before any mark, apart)
        part, time = np.minimum(part, 1), at
    # A moment can repeat (count is not unique when nothing moves time: a part's start); the
    # first position with a key is the one the tracker keeps too.
    order = np.lexsort((np.arange(n), count, time, part))
    keys = np.stack([part[order], time[order], count[order]], axis=1)
    first = np.ones(n, bool)
    first[1:] = np.any(keys[1:] != keys[:-1], axis=1)
    keys, positions = keys[first], order[first]
    for lag in range(len(spec.bars)):
        wanted = np.stack([part, time - lags[:, lag], count], axis=1)
        found = _find_rows(keys, wanted)
        at = positions[np.maximum(found, 0)]
        # Only moments read before this position: their next token is known by now.
        ok = (found >= 0) & (at < np.arange(n))
        rows[:, 2 + lag] = np.where(ok, at + 1, NO_MOMENT)
    if spec.repeats:
        tagged = tagged_tokens(tokens, vocab)
        rows[:, spec.repeat] = repeat_counts(rows[:, spec.lookback], tagged, tagged)
    return rows


def repeat_counts(lookback: np.ndarray, ids: np.ndarray, read: np.ndarray) -> np.ndarray:
    """The repeat flags (module doc) of N rows read one after another: int64 (N, lags), at row i
    how many tokens in a row up to read[i] were each the token its row before pointed at.
    lookback: (N, lags) positions into `ids` (NO_MOMENT where none); read: (N,) the token read
    at each row (the ids of the rows' own positions); both ids and read tagged_tokens."""
    lookback = np.asarray(lookback, np.int64)
    read = np.asarray(read, np.int64)
    n = len(read)
    repeated = np.zeros(lookback.shape, bool)
    if n > 1:
        before = lookback[:-1]
        expected = np.asarray(ids, np.int64)[np.maximum(before, 0)]
        repeated[1:] = (before >= 0) & (expected == read[1:, None])
    # The length of the run of True ending at each row: its index less the last False's.
    index = np.arange(n)[:, None]
    last_break = np.maximum.accumulate(np.where(repeated, -1, index), axis=0)
    return np.minimum(index - last_break, REPEAT_ROWS - 1)


def _find_rows(sorted_keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Index in `sorted_keys` (rows sorted lexicographically, unique) of each row of `wanted`,
    or -1. Keys are packed into one int64 each; times are far below 2**40 steps."""

    def pack(k: np.ndarray) -> np.ndarray:
        return (
            (k[:, 0] << 44) + (np.maximum(k[:, 1], -1) + 1 << 20) + np.minimum(k[:, 2], 2**20 - 1)
        )

    packed = pack(sorted_keys)
    query = pack(wanted)
    at = np.searchsorted(packed, query)
    at = np.minimum(at, len(packed) - 1)
    hit = (packed[at] == query) & (wanted[:, 1] >= 0)
    return np.where(hit, at, -1)


class ContextTracker:
    """The rows of context_rows, one token at a time: `feed` each token read; it returns the
    context of the position just read (what the model reads beside that token)."""

    def __init__(self, vocab: Vocabulary, spec: ContextSpec, placement: Placement | None = None):
        self.spec = spec
        self.spb = vocab.config.steps_per_beat
        self.lags = spec.lags(self.spb).tolist()
        placement = placement or Placement(Meter.four_four(self.spb))
        self.origins = list(placement.origins)
        self._meter_starts = placement.meter.starts.tolist()
        self._meter_bars = placement.meter.bar_steps.tolist()
        self._shift, self._starts = _tables(vocab)
        self.part, self.time, self.count = 0, 0, 0
        self.position = -1
        self._moments: dict[tuple[int, int, int], int] = {}
        self._read: list[int] = []  # every token fed, tagged (tagged_tokens): the repeat flags
        self._marks = instrument_marks(np.arange(len(vocab)), vocab).tolist()  # per id
        self._drums = 0  # len(vocab) while drums play
        self._vocab_size = len(vocab)
        self._expected: list[int] = []  # per lag the position the last row pointed at
        self._runs = [0] * len(spec.bars)

    def feed(self, token: int) -> np.ndarray:
        """Read one token; returns its context row, int64 of shape (spec.columns,)."""
        self.position += 1
        if self.spec.repeats:
            self._count_repeats(token)
        if self._starts[token]:
            self.part, self.time, self.count = self.part + 1, 0, 0
        elif self._shift[token]:
            self.time += int(self._shift[token])
            self.count = 0
        else:
            self.count += 1
        part, time = self.part, self.time  # the moment's place (context_rows)
        row = np.empty(self.spec.columns, np.int64)
        lags = self.lags
        if self.spec.meter:
            at = self.time + (self.origins[self.part] if self.part < len(self.origins) else 0)
            which = max(bisect.bisect_right(self._meter_starts, at) - 1, 0)
            origin, bar = self._meter_starts[which], self._meter_bars[which]
            into = (at - origin) % bar
            row[0] = into % self.spb
            row[1] = min(into // self.spb, METER_BEATS - 1)
            lags = [bar * k for k in self.spec.bars]
            if self.spec.ahead:
                part, time = min(part, 1), at
        else:
            row[0] = self.time % self.spb
            row[1] = (self.time // self.spb) % self.spec.beats_per_bar
        for column, lag in enumerate(lags, start=2):
            at = self._moments.get((part, time - lag, self.count))
            row[column] = NO_MOMENT if at is None else at + 1
        self._moments.setdefault((part, time, self.count), self.position)
        if self.spec.repeats:
            self._expected = row[self.spec.lookback].tolist()
            row[self.spec.repeat] = np.minimum(self._runs, REPEAT_ROWS - 1)
        return row

    def _count_repeats(self, token: int) -> None:
        """Lengthen or end each lag's run of repeated tokens with the token just read."""
        if self._marks[token] >= 0:
            self._drums = self._vocab_size * self._marks[token]
        token += self._drums
        self._read.append(token)
        for lag, at in enumerate(self._expected):
            repeated = at >= 0 and self._read[at] == token
            self._runs[lag] = self._runs[lag] + 1 if repeated else 0


def context_ids(
    rows: np.ndarray, tokens: np.ndarray, vocab_size: int, spec: ContextSpec
) -> np.ndarray:
    """Rows of positions (context_rows, ContextTracker) with each lookback position replaced by
    the id of the token there in `tokens`, vocab_size where there is none: what the model reads
    (MusicLSTM.forward's context). rows: (..., spec.columns); tokens: the ids the positions
    index."""
    out = np.array(rows, np.int64, copy=True)
    lookback = out[..., spec.lookback]
    found = lookback >= 0
    out[..., spec.lookback] = np.where(
        found, np.asarray(tokens, np.int64)[np.maximum(lookback, 0)], vocab_size
    )
    return out


class ContextReader:
    """What the model reads beside each token, one token at a time: a ContextTracker and the ids
    read so far, so that each row's lookback positions become ids (context_ids). The sampler
    keeps one per variation; feeding it every token the model reads (primer included) gives
    exactly the rows context_ids(context_rows(...)) gives those tokens at once."""

    def __init__(
        self,
        vocab: Vocabulary,
        spec: ContextSpec,
        vocab_size: int,
        placement: Placement | None = None,
    ):
        self.tracker = ContextTracker(vocab, spec, placement)
        self.spec = spec
        self.vocab_size = vocab_size
        self._ids = np.empty(1024, np.int64)  # grown by doubling: no copy of all per token
        self.length = 0

    def feed(self, token: int) -> np.ndarray:
        """Read one token; returns its row of ids, int64 of shape (spec.columns,)."""
        if self.length == len(self._ids):
            self._ids = np.concatenate([self._ids, np.empty_like(self._ids)])
        self._ids[self.length] = token
        self.length += 1
        row = self.tracker.feed(int(token))  # its lookbacks point at most at this token
        return context_ids(row, self._ids[: self.length], self.vocab_size, self.spec)

    @property
    def ids(self) -> np.ndarray:
        """The ids read so far, shape (length,)."""
        return self._ids[: self.length]
