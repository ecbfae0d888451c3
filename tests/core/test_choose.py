"""Choosing the next token in NumPy (issue 29) draws exactly what choosing on tensors drew: the
same seed gives the same music. The reference below is sampling.choose as it was written on
torch tensors before, kept here as the definition of every draw."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from composer.core.generation.sampling import SeededDraws, choose
from composer.core.generation.settings import SamplingSettings


def choose_on_tensors(logits, allowed, settings, generators):
    """The tokens (B,) the torch implementation chose: logits (B, V), allowed (B, V) tensors."""
    logits = logits.float().masked_fill(~allowed, float("-inf"))
    if settings.temperature != 1.0:
        logits = logits / settings.temperature
    order = None
    if settings.top_k:
        logits, order = torch.topk(logits, min(settings.top_k, logits.shape[-1]), dim=-1)
    elif settings.top_p < 1.0:
        logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = torch.softmax(logits, dim=-1)
    cdf = torch.cumsum(probs, dim=-1)
    if settings.top_p < 1.0:
        probs = probs.masked_fill(cdf - probs >= settings.top_p, 0.0)
        cdf = torch.cumsum(probs, dim=-1)
    u = torch.cat([torch.rand(1, generator=g) for g in generators])
    u = u[:, None] * cdf[:, -1:]
    index = torch.searchsorted(cdf, u, right=True).clamp_(max=cdf.shape[-1] - 1)
    return (order.gather(1, index) if order is not None else index)[:, 0]


@pytest.mark.slow
@pytest.mark.parametrize("ties", [False, True], ids=["distinct logits", "tied logits"])
def test_numpy_choice_draws_what_the_tensor_choice_drew(ties):
    rng = np.random.default_rng(7)
    size, compared = 503, 0
    for case in range(1500):
        rows = (1, 1, 3, 8)[case % 4]
        settings = SamplingSettings(
            seconds=None,
            max_tokens=1,
            temperature=(1.0, 0.7, 1.3, 0.05)[case % 4],
            top_p=(0.95, 1.0, 0.9, 0.5)[case % 4 if case % 3 else 1],
            top_k=(0, 0, 0, 8, 1, 600)[case % 6],  # 600: more than the vocabulary
            variations=rows,
        )
        logits = rng.normal(0, rng.uniform(1, 8), (rows, size)).astype(np.float32)
        if ties:  # a whole-number logit is shared by many tokens
            logits = np.round(logits)
        allowed = rng.random((rows, size)) < rng.uniform(0.002, 1)
        allowed[:, case % size] = True  # never nothing (the grammar sees to it)
        seed = 1000 * case
        generators = [torch.Generator().manual_seed(seed + i) for i in range(rows)]
        expected = choose_on_tensors(
            torch.from_numpy(logits), torch.from_numpy(allowed), settings, generators
        )
        chosen = choose(logits, allowed, settings, SeededDraws(seed, rows).next())
        assert chosen.tolist() == expected.tolist(), (case, settings)
        assert allowed[np.arange(rows), chosen].all()
        compared += rows
    assert compared > 4000


def test_draws_in_chunks_are_the_draws_one_by_one():
    """SeededDraws takes CHUNK numbers at a time; the music needs them in the order one call
    per token gave, across chunks, per variation."""
    draws = SeededDraws(seed=41, variations=3)
    numbers = np.stack([draws.next() for _ in range(SeededDraws.CHUNK * 2 + 5)], axis=1)
    for variation in range(3):
        generator = torch.Generator().manual_seed(41 + variation)
        one_by_one = [torch.rand(1, generator=generator).item() for _ in range(numbers.shape[1])]
        assert numbers[variation].tolist() == pytest.approx(one_by_one, rel=0, abs=0)
