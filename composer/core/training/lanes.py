"""What every lane reads at every step: pieces dealt to lanes, window after window.

Truncated back-propagation through time over *lanes*: the batch has B lanes, and each lane reads one
piece window after window, carrying the LSTM state from one window into the next (the long memory is
the point of an LSTM) and detaching it at each window border. A lane that finishes a piece starts the
next with a zero state, exactly as generation starts, so the last window of a piece is padded (PAD
targets are ignored). Packing the next piece into that padding would need a mid-window state reset,
and `nn.LSTM` with packed sequences measured 3-4x slower on CPU than the padding costs (6-8% of the
tokens at a 128-token window on the shared corpora).

Training reads an endless `WindowStream`: epoch after epoch of the training pieces, each epoch in
its own shuffled order, dealt to whichever lane frees up first, so no lane waits idle for the
slowest one at an epoch's end (that wait cost a fifth of the steps on the chorales). The stream is
a pure function of the piece lengths and the seed: resuming at step k rebuilds it and reads exactly
what an uninterrupted run would have read. Validation reads one `plan_epoch` pass.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EpochPlan:
    """What every lane reads at every step of one epoch. Arrays of shape (steps, lanes)."""

    piece: np.ndarray  # int32 piece index, -1 where the lane is idle (end of the epoch)
    offset: np.ndarray  # int32 first token of the window within the piece
    targets: np.ndarray  # int32 tokens predicted in the window (0 when idle)

    @property
    def steps(self) -> int:
        return len(self.piece)

    @classmethod
    def empty(cls, steps: int, lanes: int) -> EpochPlan:
        """Every lane idle at every step, to place windows in."""
        shape = (steps, lanes)
        return cls(
            np.full(shape, -1, np.int32), np.zeros(shape, np.int32), np.zeros(shape, np.int32)
        )


def plan_epoch(lengths: np.ndarray, order: np.ndarray, lanes: int, window: int) -> EpochPlan:
    """Deal pieces (in `order`) to the lane that frees up first; each piece fills consecutive steps.

    lengths: tokens per piece (Bos and Eos included). A piece of L tokens has L-1 targets and takes
    ceil((L-1)/window) windows.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    windows = windows_of(lengths, window)
    order = np.asarray(order)
    free = [(0, lane) for lane in range(lanes)]
    lane_of, starts = _deal(windows, order, free)
    steps = max(step for step, _ in free)
    plan = EpochPlan.empty(steps, lanes)
    _place(plan, 0, lengths, windows, window, order, lane_of, starts)
    return plan


def windows_of(lengths: np.ndarray, window: int) -> np.ndarray:
    """How many windows each piece takes: one per `window` of its L - 1 targets, at least one."""
    return np.maximum(-(-(np.asarray(lengths, np.int64) - 1) // window), 1)


def _deal(
    windows: np.ndarray, order: np.ndarray, free: list[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Deal pieces (in `order`) to the lane that frees up first: the lane of each and the step it
    starts at, int64 (N,). free: a heap of (first free step, lane), updated as pieces are dealt."""
    lanes, starts = np.empty(len(order), np.int64), np.empty(len(order), np.int64)
    for i, p in enumerate(order.tolist()):
        start, lane = heapq.heappop(free)
        lanes[i], starts[i] = lane, start
        heapq.heappush(free, (start + int(windows[p]), lane))
    return lanes, starts


def _place(
    plan: EpochPlan,
    first: int,
    lengths: np.ndarray,
    windows: np.ndarray,
    window: int,
    order: np.ndarray,
    lanes: np.ndarray,
    starts: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Write the windows of dealt pieces that fall in the plan's rows (step `first` onwards) into
    it: piece, offset and targets. Returns the (row, lane) of each window written."""
    w = windows[order]
    end = first + plan.steps
    k0 = np.clip(first - starts, 0, w)
    k1 = np.clip(end - starts, 0, w)
    counts = k1 - k0
    k = (
        np.repeat(k0, counts)
        + np.arange(int(counts.sum()))
        - np.repeat(np.cumsum(counts) - counts, counts)
    )
    which = np.repeat(order, counts)
    rows, cols = np.repeat(starts, counts) + k - first, np.repeat(lanes, counts)
    plan.piece[rows, cols] = which
    plan.offset[rows, cols] = k * window
    plan.targets[rows, cols] = np.minimum(window, lengths[which] - 1 - k * window)
    return rows, cols


class WindowStream:
    """What every lane reads at every step of training, epoch after epoch, without end."""

    def __init__(self, lengths: np.ndarray, lanes: int, window: int, seed: int, chunk: int = 256):
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.windows = windows_of(self.lengths, window)
        self.lanes, self.window, self.seed, self.chunk = lanes, window, seed, chunk
        self.steps_per_epoch = float(self.windows.sum()) / lanes  # fractional: epochs overlap
        self._start_over()

    def _start_over(self) -> None:
        self._free = [(0, lane) for lane in range(self.lanes)]  # (first free step, lane): a heap
        self._deals: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []  # per epoch dealt:
        # (epoch, pieces in order, lane of each, first step of each)
        self._next_epoch = 0
        self._rows: tuple[int, EpochPlan, np.ndarray] | None = None  # a materialised chunk

    def order(self, epoch: int) -> np.ndarray:
        """The order pieces are dealt in during `epoch`."""
        return np.random.default_rng([self.seed, epoch, 0]).permutation(len(self.lengths))

    def row(self, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(piece, offset, targets, epoch) of every lane at `step`: int arrays of shape (lanes,)."""
        if self._rows is None or not self._rows[0] <= step < self._rows[0] + self.chunk:
            if self._rows is not None and step < self._rows[0]:
                self._start_over()  # deals before the current chunk were dropped; rare
            self._materialise(step - step % self.chunk)
        first, plan, epochs = self._rows
        i = step - first
        return plan.piece[i], plan.offset[i], plan.targets[i], epochs[i]

    def _deal_until(self, step: int) -> None:
        while self._free[0][0] < step:  # some lane would run dry before `step`: deal an epoch
            order = self.order(self._next_epoch)
            lanes, starts = _deal(self.windows, order, self._free)
            self._deals.append((self._next_epoch, order, lanes, starts))
            self._next_epoch += 1

    def _materialise(self, first: int) -> None:
        end = first + self.chunk
        self._deal_until(end)
        # Deals that ended before this chunk are not needed while steps move forward.
        self._deals = [d for d in self._deals if (d[3] + self.windows[d[1]]).max() > first]
        plan = EpochPlan.empty(self.chunk, self.lanes)
        epochs = np.zeros((self.chunk, self.lanes), np.int32)
        for epoch, order, lanes, starts in self._deals:
            rows, cols = _place(
                plan, first, self.lengths, self.windows, self.window, order, lanes, starts
            )
            epochs[rows, cols] = epoch
        self._rows = (first, plan, epochs)
