"""An n-gram baseline over token ids: interpolated Kneser-Ney smoothing (Chen & Goodman, 1998).

If an LSTM cannot beat a 5-gram trained on the same tokens, it has not learnt anything an n-gram
cannot; the evaluation report says by how much it does. Each piece is scored from its Bos on, so
no history crosses from one piece into the next.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np


class KneserNey:
    """Interpolated Kneser-Ney of a given order with one absolute discount per order."""

    def __init__(self, order: int = 5, vocab_size: int = 499, discount: float = 0.75):
        self.order, self.vocab_size, self.discount = order, vocab_size, discount
        self.counts: list[Counter] = [Counter() for _ in range(order + 1)]  # by n: (h..., w) -> c
        self.context_totals: list[Counter] = [Counter() for _ in range(order + 1)]
        self.context_types: list[Counter] = [Counter() for _ in range(order + 1)]

    def fit(self, pieces: list[np.ndarray]) -> KneserNey:
        n = self.order
        highest: Counter = Counter()
        for tokens in pieces:
            t = tuple(int(x) for x in tokens)
            for i in range(1, len(t)):
                highest[t[max(0, i - n + 1) : i + 1]] += 1
        # Highest-order counts are real counts; lower orders count distinct left extensions.
        self.counts[n] = Counter({g: c for g, c in highest.items() if len(g) == n})
        lower: list[set] = [set() for _ in range(n + 1)]
        for gram, count in highest.items():
            if len(gram) < n:  # a run cut by the piece's start: its own count at its length
                self.counts[len(gram)][gram] += count
            for m in range(1, min(len(gram), n)):
                lower[m].add(gram[-m - 1 :])
        for m in range(1, n):
            for gram in lower[m]:
                self.counts[m][gram[1:]] += 1
        for m in range(1, n + 1):
            for gram, count in self.counts[m].items():
                self.context_totals[m][gram[:-1]] += count
                self.context_types[m][gram[:-1]] += 1
        return self

    def probability(self, history: tuple[int, ...], token: int) -> float:
        p = 1.0 / self.vocab_size
        for m in range(1, self.order + 1):
            if m - 1 > len(history):
                break
            context = history[len(history) - (m - 1) :] if m > 1 else ()
            total = self.context_totals[m].get(context, 0)
            if total == 0:
                continue
            count = self.counts[m].get((*context, token), 0)
            types = self.context_types[m][context]
            p = max(count - self.discount, 0) / total + self.discount * types / total * p
        return p

    def nll(self, pieces: list[np.ndarray]) -> float:
        """Mean negative log-likelihood per predicted token, in nats."""
        total, count = 0.0, 0
        for tokens in pieces:
            t = [int(x) for x in tokens]
            for i in range(1, len(t)):
                history = tuple(t[max(0, i - self.order + 1) : i])
                total -= math.log(self.probability(history, t[i]))
                count += 1
        return total / max(count, 1)
