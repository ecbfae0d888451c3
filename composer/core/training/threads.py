"""Choosing how many CPU threads torch uses for training, by measuring the step time.

On a laptop the cores are shared with a DAW, a browser or the app's own generation. Measured on a
2-core machine with a 2 x 256 LSTM: alone, 2 threads train at 19.5k tokens/s and 1 thread at
11.3k; beside one busy process, 2 threads fall to 6.1k (the threads wait for each other at every
operation while one of them is descheduled) while 1 thread keeps 11.4k. No fixed count is right
in both cases, so the tuner measures: it trains a stretch of steps at each candidate count, keeps
the fastest, and measures again every so often or at once when the pace drops, because the other
programs come and go.

Measuring costs slow steps (on an idle 2-core machine one thread trains at 58% of two), so a round
that finds the cores the run's own measures nothing else: while all cores' threads keep the CPU
busy (the process's CPU time is at least OWN_CORES of the wall time x threads: 0.99 alone and
0.62-0.66 beside one busy process, measured with the small model), fewer threads cannot be
faster. A round that starts because the pace dropped measures every count whatever the CPU time
says (the app's own generation counts as the process's CPU time too).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

#: The share of the wall time x threads that the process's CPU time reaches when no other program
#: takes the cores: at or above it, a round stops after measuring all cores.
OWN_CORES = 0.85


def candidate_counts(cores: int) -> list[int]:
    """The thread counts worth trying, most first: all cores, all but one, half, one."""
    return sorted({cores, max(1, cores - 1), max(1, cores // 2), 1}, reverse=True)


class ThreadTuner:
    """Call `step_done(tokens, seconds)` after every training step; it sets torch's thread count.

    A *stretch* is `stretch` steps at one count; the first `settle` of them are not timed (caches
    and the thread pool warm up after a change). A count already clearly slower than the fastest
    of the round (below `give_up` times it after `early` timed steps) is dropped there: measuring
    is paid for in slow steps, and the probe of one thread on an idle 2-core machine (58% of the
    pace) cost a fifth of a 40-step run (benchmarks/train.py: trainer 0.68x the bare loop with the
    full probe, 0.85x without any). After a full round of measuring every candidate, the fastest
    count trains for `hold` steps, then a new round starts; if its pace falls below `drop` times
    what it measured, the round starts at once.
    """

    def __init__(
        self,
        cores: int,
        *,
        stretch: int = 12,
        settle: int = 2,
        hold: int = 400,
        drop: float = 0.7,
        early: int = 2,
        give_up: float = 0.8,
        set_threads: Callable[[int], None] = torch.set_num_threads,
    ) -> None:
        self.candidates = candidate_counts(cores)
        self.stretch, self.settle, self.hold, self.drop = stretch, settle, hold, drop
        self.early, self.give_up = early, give_up
        self._set_threads = set_threads
        self.rates: dict[int, float] = {}  # tokens/s measured for each count in this round
        self.changes = 0  # how many times the count was switched (for tests and reports)
        self.probes_skipped = 0  # rounds that found the cores free and measured nothing else
        self._cpu = 0.0  # CPU seconds of the timed steps at the current count (None: unknown)
        self._dropped = False  # the round started because the pace dropped
        self._round: list[int] = []  # counts still to measure in this round
        self._steps = 0  # steps at the current count
        self._tokens = 0
        self._seconds = 0.0
        self._held = 0  # steps since the round ended
        self.threads = self.candidates[0]
        self._apply(self.threads)
        self._start_round()

    @property
    def measuring(self) -> bool:
        return bool(self._round)

    def step_done(self, tokens: int, seconds: float, cpu_seconds: float | None = None) -> None:
        """After a training step of `tokens` tokens that took `seconds` of wall time and
        `cpu_seconds` of the process's CPU time (time.process_time; None: not measured)."""
        self._steps += 1
        if self._steps > self.settle:
            self._tokens += tokens
            self._seconds += seconds
            self._cpu = (
                None if cpu_seconds is None or self._cpu is None else self._cpu + cpu_seconds
            )
        if self.measuring:
            rate = self._tokens / max(self._seconds, 1e-9)
            best = max(self.rates.values(), default=0.0)
            hopeless = self._steps >= self.settle + self.early and rate < self.give_up * best
            if self._steps >= self.stretch or hopeless:
                self.rates[self.threads] = rate
                self._round.pop(0)
                if self._cores_are_ours():
                    self._round = []
                    self.probes_skipped += 1
                if self._round:
                    self._switch(self._round[0])
                else:  # the round is over: train at the fastest
                    self._switch(max(self.rates, key=self.rates.get))
                    self._held = 0
            return
        self._held += 1
        if self._steps >= self.stretch and self._steps % self.stretch == 0:
            rate = self._tokens / max(self._seconds, 1e-9)
            self._tokens, self._seconds = 0, 0.0
            if rate < self.drop * self.rates.get(self.threads, 0.0) or self._held >= self.hold:
                self._start_round(dropped=self._held < self.hold)

    def _cores_are_ours(self) -> bool:
        """All cores' threads were just measured and kept the CPU busy (OWN_CORES), in a
        round not started by a drop in pace."""
        if self._dropped or self._cpu is None or self.threads != self.candidates[0]:
            return False
        return self._cpu >= OWN_CORES * self._seconds * self.threads

    def _start_round(self, dropped: bool = False) -> None:
        self.rates = {}
        self._dropped = dropped
        # Measure the current count first (no switch needed), then the others.
        self._round = [self.threads] + [n for n in self.candidates if n != self.threads]
        if len(self._round) == 1:  # one core: nothing to choose
            self._round = []
            return
        self._reset_stretch()

    def _switch(self, threads: int) -> None:
        if threads != self.threads:
            self.changes += 1
            self.threads = threads
            self._apply(threads)
        self._reset_stretch()

    def _reset_stretch(self) -> None:
        self._steps, self._tokens, self._seconds, self._cpu = 0, 0, 0.0, 0.0

    def _apply(self, threads: int) -> None:
        self._set_threads(threads)
