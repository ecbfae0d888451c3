"""Training data: the split by file, the pieces, augmentation, and batches.

Which window every lane reads at every step is `lanes.py`'s.

A model with context inputs (tokens/lookback.py) reads beside each token its place in the beat and
the bar and the token played at that moment 1, 2 (4 and 8) bars before. The rows are computed
once per piece; each batch resolves the lookback positions to token ids after augmentation, so the
model reads what the sampler computes from the (transposed) music it has played.

A model that hears given music (tokens/given.py) reads the given rows of the fill-in examples,
kept packed 8 bits to a byte per position (41 bytes a token) and unpacked per batch; whole pieces
have none, and a batch in which no lane reads any leaves them out (`Batch.given` None).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from composer.core.corpus.cache import TokenCache
from composer.core.corpus.ingest import IngestReport
from composer.core.tokens.config import TokenizerConfig
from composer.core.tokens.given import GIVEN_WIDTH, transpose_rows
from composer.core.tokens.lookback import ContextSpec, context_rows
from composer.core.tokens.meter import Meter, Placement
from composer.core.tokens.stream import instrument_marks, playing_drums
from composer.core.tokens.vocab import PAD, Vocabulary
from composer.core.training.config import TrainConfig


def split_by_file(shas: list[str], fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """(train, validation) content hashes, split by whole files, never by window.

    A file's side depends only on its hash and the seed, so adding files to a collection never
    moves the old ones across the split. With two or more files, at least one validates.
    """
    ordered = sorted(set(shas))
    if fraction <= 0 or len(ordered) < 2:
        return ordered, []
    draw = {
        s: int(hashlib.sha256(f"{seed}:{s}".encode()).hexdigest()[:12], 16) / 16**12
        for s in ordered
    }
    validation = [s for s in ordered if draw[s] < fraction]
    if not validation:
        validation = [min(ordered, key=draw.__getitem__)]
    if len(validation) == len(ordered):  # keep something to train on
        validation.remove(max(validation, key=draw.__getitem__))
    chosen = set(validation)
    return [s for s in ordered if s not in chosen], validation


@dataclass(frozen=True)
class Batch:
    inputs: np.ndarray  # (lanes, window) int64 token ids
    targets: np.ndarray  # (lanes, window) int64 next ids; PAD where nothing is predicted
    fresh: np.ndarray  # (lanes,) bool: the lane starts a piece (or is idle): zero its state
    # (lanes, window, columns) int64 for a model with context inputs (MusicLSTM.forward): step
    # in the beat, beat in the bar, lookback ids (vocab_size: none), repeat counts; 0, 0,
    # vocab_size, 0 on padding
    context: np.ndarray | None = None
    # (lanes, window, GIVEN_WIDTH) float32 for a model that hears given music, None where no
    # lane reads any (MusicLSTM.forward's given)
    given: np.ndarray | None = None
    # (lanes,) int64 for a model with styles: each lane's piece's style row (0: any; idle lanes)
    style: np.ndarray | None = None


class PieceSet:
    """Token arrays of some pieces, with what augmentation needs to know about each, and their
    context rows when given a ContextSpec (a model with context inputs)."""

    def __init__(
        self,
        tokens: list[np.ndarray],
        vocab: Vocabulary,
        context: ContextSpec | None = None,
        given: list[np.ndarray | None] | None = None,
        styles: np.ndarray | None = None,
        placements: list[Placement] | None = None,
    ):
        self.tokens = tokens
        self.vocab = vocab
        self.context = context
        # Per piece: its given rows packed (given_data.heard_examples), or None (all zero); None
        # for a model that does not hear given music.
        self.given = given
        if given is not None and len(given) != len(tokens):
            raise ValueError("one entry of given rows per piece, None where it has none")
        # Per piece: its style row (training/styles.py), int64 (N,); None for a model without
        # styles.
        self.styles = styles
        if styles is not None and len(styles) != len(tokens):
            raise ValueError("one style per piece")
        # Per piece: context_rows, (L, context.columns) positions (and repeat counts), int32
        # (half of int64's memory: 16 bytes a token at 2 lags, 64 at the 7 lags with repeat
        # flags of `--context` now, beside the token's 2); None without context.
        self.context_rows: list[np.ndarray] | None = None
        if context is not None:  # per piece its Placement (tokens/meter.py), for a model with meter
            placements = placements or [None] * len(tokens)
            self.context_rows = [
                context_rows(t, vocab, context, line).astype(np.int32)
                for t, line in zip(tokens, placements)
            ]
        self.lengths = np.array([len(t) for t in tokens], dtype=np.int64)
        r = vocab.ranges
        # Per piece: where the instrument changes (positions, and whether to drums), and the
        # lowest and highest pitched (non-drum) note, which bound its transposition.
        self.changes: list[tuple[np.ndarray, np.ndarray]] = []
        self.pitch_low = np.full(len(tokens), 127, np.int64)
        self.pitch_high = np.zeros(len(tokens), np.int64)
        on0 = r["NoteOn"][0]
        for i, t in enumerate(tokens):
            t = np.asarray(t, dtype=np.int64)
            instrument = instrument_marks(t, vocab)
            where = np.flatnonzero(instrument >= 0)
            self.changes.append((where, instrument[where] == 1))
            drum = playing_drums(instrument[None, :], np.zeros(1, bool))[0]
            pitches = t[(t >= on0) & (t < on0 + 128) & ~drum] - on0
            if len(pitches):
                self.pitch_low[i], self.pitch_high[i] = pitches.min(), pitches.max()

    def __len__(self) -> int:
        return len(self.tokens)

    def drums_at(self, piece: int, position: int) -> bool:
        where, to_drums = self.changes[piece]
        i = int(np.searchsorted(where, position, side="right")) - 1
        return bool(to_drums[i]) if i >= 0 else False

    def drums_at_each(self, piece: int, positions: np.ndarray) -> np.ndarray:
        """drums_at for an array of positions (>= 0) of one piece: bool, the same shape."""
        where, to_drums = self.changes[piece]
        if not len(where):
            return np.zeros(positions.shape, bool)
        i = np.searchsorted(where, positions, side="right") - 1
        return (i >= 0) & to_drums[np.maximum(i, 0)]


@dataclass(frozen=True)
class Augmentation:
    """Random changes a piece keeps for a whole epoch (all its windows agree)."""

    transpose: int = TrainConfig.transpose  # semitones, drawn from -N..N, narrowed to 0-127
    tempo_stretch: float = TrainConfig.tempo_stretch  # tempo factor drawn from 1-s..1+s

    def draw(self, pieces: PieceSet, seed: int, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """(semitones per piece int64, tempo factor per piece float64) for one epoch."""
        rng = np.random.default_rng([seed, epoch, 1])
        low = np.maximum(-self.transpose, -pieces.pitch_low)
        high = np.minimum(self.transpose, 127 - pieces.pitch_high)
        high = np.maximum(high, low)
        shift = rng.integers(low, high + 1) if len(pieces) else np.zeros(0, np.int64)
        stretch = rng.uniform(1 - self.tempo_stretch, 1 + self.tempo_stretch, len(pieces))
        return shift.astype(np.int64), stretch


class EpochAugmentations:
    """What each lane's piece was drawn in its epoch: an epoch's draw is made when a lane first
    reads it and forgotten once no lane reads that epoch any more (lanes overlap epochs)."""

    def __init__(self, augmentation: Augmentation, pieces: PieceSet, seed: int):
        self.augmentation, self.pieces, self.seed = augmentation, pieces, seed
        self._drawn: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def lanes(self, pieces: np.ndarray, epochs: np.ndarray) -> tuple:
        """(semitones, tempo factor) per lane, shape (lanes,) each; () when augmentation is off."""
        a = self.augmentation
        if a.transpose == 0 and a.tempo_stretch == 0:
            return ()
        for epoch in np.unique(epochs).tolist():
            if epoch not in self._drawn:
                self._drawn[epoch] = a.draw(self.pieces, self.seed, epoch)
        for old in [e for e in self._drawn if e < epochs.min()]:
            del self._drawn[old]
        pairs = list(zip(epochs.tolist(), pieces.tolist()))
        shift = np.array([self._drawn[e][0][p] for e, p in pairs])
        stretch = np.array([self._drawn[e][1][p] for e, p in pairs])
        return shift, stretch


class Batcher:
    """Builds batches of windows of one PieceSet."""

    def __init__(self, pieces: PieceSet, window: int):
        self.pieces, self.window = pieces, window

    def batch(self, pieces: np.ndarray, offsets: np.ndarray, shift=None, stretch=None) -> Batch:
        """Windows starting at `offsets` of `pieces` (shape (lanes,); piece -1: an idle lane),
        transposed by `shift` semitones and tempo-stretched by `stretch` when given (per lane)."""
        lanes, w = len(pieces), self.window
        buffer = np.full((lanes, w + 1), PAD, np.int64)
        drums_before = np.zeros(lanes, bool)
        for lane, (p, o) in enumerate(zip(pieces.tolist(), offsets.tolist())):
            if p < 0:
                continue
            chunk = self.pieces.tokens[p][o : o + w + 1]
            buffer[lane, : len(chunk)] = chunk
            if shift is not None and o > 0:
                drums_before[lane] = self.pieces.drums_at(p, o - 1)
        if shift is not None:
            active = pieces >= 0
            shift = np.where(active, shift, 0)
            stretch = np.where(active, stretch, 1.0)
            drums = playing_drums(instrument_marks(buffer, self.pieces.vocab), drums_before)
            buffer = self._augment(buffer, drums, shift[:, None], stretch[:, None])
        context = None
        if self.pieces.context_rows is not None:
            context = self._context(pieces, offsets, shift, stretch)
        given = self._given(pieces, offsets, shift) if self.pieces.given is not None else None
        fresh = (offsets == 0) | (pieces < 0)
        style = None
        if self.pieces.styles is not None:
            style = np.where(pieces >= 0, self.pieces.styles[np.maximum(pieces, 0)], 0)
        return Batch(buffer[:, :-1], buffer[:, 1:], fresh, context, given, style)

    def _given(self, pieces, offsets, shift) -> np.ndarray | None:
        """(lanes, window, GIVEN_WIDTH) float32: the given rows of each window's inputs,
        transposed with the lane; None when no lane's window has any."""
        lanes, w = len(pieces), self.window
        packed = [
            (lane, self.pieces.given[p][o : o + w])
            for lane, (p, o) in enumerate(zip(pieces.tolist(), offsets.tolist()))
            if p >= 0 and self.pieces.given[p] is not None
        ]
        if not packed:
            return None
        rows = np.zeros((lanes, w, GIVEN_WIDTH), bool)
        for lane, chunk in packed:
            rows[lane, : len(chunk)] = np.unpackbits(chunk, axis=1, count=GIVEN_WIDTH)
        if shift is not None:
            rows = transpose_rows(rows, np.where(pieces >= 0, shift, 0))
        return rows.astype(np.float32)

    def _context(self, pieces, offsets, shift, stretch) -> np.ndarray:
        """(lanes, window, columns) int64: the context rows of each window's inputs, lookback
        positions resolved to the ids there, augmented as the lane's own tokens are (a lookback
        position may lie before the window, so the ids are read from the whole piece)."""
        lanes, w = len(pieces), self.window
        spec = self.pieces.context
        out = np.zeros((lanes, w, spec.columns), np.int64)
        ids = np.zeros((lanes, w, len(spec.bars)), np.int64)
        found = np.zeros(ids.shape, bool)
        drums = np.zeros(ids.shape, bool)
        for lane, (p, o) in enumerate(zip(pieces.tolist(), offsets.tolist())):
            if p < 0:
                continue
            rows = self.pieces.context_rows[p][o : o + w]  # the inputs' positions
            n = len(rows)
            out[lane, :n, :2] = rows[:, :2]
            out[lane, :n, spec.repeat] = rows[:, spec.repeat]  # counts, not positions
            at = np.maximum(rows[:, spec.lookback], 0)
            found[lane, :n] = rows[:, spec.lookback] >= 0
            ids[lane, :n] = self.pieces.tokens[p][at]
            if shift is not None:
                drums[lane, :n] = self.pieces.drums_at_each(p, at)
        if shift is not None:
            ids = self._augment(ids, drums, shift[:, None, None], stretch[:, None, None])
        out[..., spec.lookback] = np.where(found, ids, len(self.pieces.vocab))
        return out

    def _augment(self, tokens, drums, shift, stretch) -> np.ndarray:
        """Transpose pitched notes (not where `drums`) by `shift` semitones and stretch tempo
        tokens by `stretch`; shift and stretch broadcast against tokens (per lane)."""
        vocab = self.pieces.vocab
        r = vocab.ranges
        on0, off0 = r["NoteOn"][0], r["NoteOff"][0]
        note = ((tokens >= on0) & (tokens < on0 + 128)) | ((tokens >= off0) & (tokens < off0 + 128))
        tokens = np.where(note & ~drums, tokens + shift, tokens)
        t0, nt = r["Tempo"]
        tempo = (tokens >= t0) & (tokens < t0 + nt)
        if tempo.any():
            bpm = vocab.tempo_values[np.clip(tokens - t0, 0, nt - 1)] * stretch
            tokens = np.where(tempo, t0 + vocab.tempo_bin(bpm), tokens)
        return tokens


@dataclass(frozen=True)
class Collection:
    """The usable, distinct files of a collection and a way to read their tokens."""

    tokenizer: TokenizerConfig
    files: dict[str, str]  # content SHA-256 -> a path with that content
    tokens: Callable[[str], np.ndarray]  # SHA-256 -> uint16 token ids, shape (L,)
    folder: str = ""
    # SHA-256 -> the file's time signatures on the token grid (tokens/meter.py); None: 4/4
    meter: Callable[[str], Meter] | None = None
    # SHA-256 -> the track of each NoteOn token (TokenCache.parts) or None; None: not known
    parts: Callable[[str], np.ndarray | None] | None = None

    @classmethod
    def from_ingest(cls, report: IngestReport, cache: TokenCache) -> Collection:
        files = {e.sha: e.path for e in report.entries}
        return cls(cache.config, files, cache.tokens, report.folder, cache.meter, cache.parts)

    def meter_of(self, sha: str) -> Meter:
        """The time signatures of a file, 4/4 when the collection does not know them."""
        if self.meter is None:
            return Meter.four_four(self.tokenizer.steps_per_beat)
        return self.meter(sha)

    def parts_of(self, sha: str) -> np.ndarray | None:
        """The track of each NoteOn token of a file in token order, None when not known."""
        return None if self.parts is None else self.parts(sha)
