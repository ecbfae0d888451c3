"""How well a model predicts held-out tokens: with its whole context, and with only the last few.

The full pass reads each piece from its Bos with a zero state, as generation does. The short-context
pass scores the same positions with the model started fresh on only the `context` tokens before
each: the gap between the two is the long-term memory the LSTM actually uses.

A model with context inputs (tokens/lookback.py) reads them beside the tokens, computed on the
whole piece as training does (model.context_tensor); in the short-context pass it keeps each
token's place in the beat and bar but hears no lookback from before its window.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from composer.core.model import MusicLSTM, context_tensor
from composer.core.tokens.given import GivenMusic, example_given_rows
from composer.core.tokens.lookback import (
    NO_MOMENT,
    context_ids,
    context_rows,
    repeat_counts,
    tagged_tokens,
)
from composer.core.tokens.meter import Meter, Placement
from composer.core.tokens.vocab import Vocabulary


@torch.inference_mode()
def token_nll(
    model: MusicLSTM,
    tokens: np.ndarray,
    vocab: Vocabulary | None = None,
    given: GivenMusic | None = None,
    style: int | None = None,
    placement: Placement | None = None,
) -> np.ndarray:
    """NLL in nats of tokens[1:] given everything before, shape (L-1,). vocab: the model's,
    needed for a model with context inputs. given: the music a fill-in example's span hears
    (tokens/given.py), for a model that hears it (None: nothing given). style: the style row
    the music is read in, for a model with styles (0: any; None: the model's default, as
    generation plays). placement: where the tokens lie in
    their piece's meter (tokens/meter.py), for a model that follows it (None: 4/4)."""
    ids = torch.from_numpy(np.asarray(tokens, dtype=np.int64))[None]
    context = _context(model, vocab, tokens, placement)
    rows = None
    if given is not None and model.config.hears_given:
        rows = example_given_rows(tokens, given, vocab, model.config.given_ahead_steps)
        rows = torch.from_numpy(rows[:-1]).float()[None]
    style = model.config.default_style if style is None else style
    styles = torch.tensor([style]) if style and model.config.styles else None
    logits, _ = model(
        ids[:, :-1],
        context=None if context is None else context[:, :-1],
        given=rows,
        style=styles,
    )
    return F.cross_entropy(logits[0].float(), ids[0, 1:], reduction="none").numpy()


@torch.inference_mode()
def short_context_nll(
    model: MusicLSTM,
    tokens: np.ndarray,
    positions: np.ndarray,
    context: int,
    vocab: Vocabulary | None = None,
    placement: Placement | None = None,
) -> np.ndarray:
    """NLL of tokens[p] given only tokens[p-context:p], for each p in `positions` (all >= context).
    vocab: the model's, needed for a model with context inputs; placement: as token_nll's."""
    ids = np.asarray(tokens, dtype=np.int64)
    windows = torch.from_numpy(np.stack([ids[p - context : p] for p in positions]))
    inputs = _window_context(model, vocab, ids, positions, context, placement)
    out = []
    for at, (chunk, targets) in enumerate(
        zip(windows.split(256), torch.from_numpy(ids[positions]).split(256))
    ):
        rows = None if inputs is None else inputs[at * 256 : at * 256 + len(chunk)]
        style = None  # the model's default style, as token_nll reads
        if model.config.default_style:
            style = torch.full((len(chunk),), model.config.default_style)
        logits, _ = model(chunk, context=rows, style=style)
        out.append(F.cross_entropy(logits[:, -1].float(), targets, reduction="none"))
    return torch.cat(out).numpy() if out else np.zeros(0)


def _context(model: MusicLSTM, vocab: Vocabulary | None, tokens: np.ndarray, placement=None):
    """The context inputs of tokens read from a zero state (1, N, C), or None without them."""
    if model.config.context_steps and vocab is None:
        raise ValueError("this model reads context inputs: pass its vocab")
    return context_tensor(model.config, vocab, tokens, placement)


def _window_context(
    model, vocab, ids: np.ndarray, positions: np.ndarray, context: int, placement=None
):
    """Per window ids[p-context:p], its context inputs (W, context, C), or None without them:
    each token's place as in the whole piece, lookbacks only to tokens inside the window, and
    repeats counted from the window's start (drums told apart by the whole piece's instrument
    changes)."""
    spec = model.config.context_spec()
    if spec is None:
        return None
    rows = context_rows(ids, vocab, spec, placement)
    windows = np.stack([rows[p - context : p] for p in positions])  # (W, context, C)
    firsts = (np.asarray(positions) - context)[:, None, None]
    lookback = windows[..., spec.lookback]
    windows[..., spec.lookback] = np.where(lookback >= firsts, lookback, NO_MOMENT)
    if spec.repeats:
        tagged = tagged_tokens(ids, vocab)
        for window, p in zip(windows, positions):
            read = tagged[p - context : p]
            window[:, spec.repeat] = repeat_counts(window[:, spec.lookback], tagged, read)
    return torch.from_numpy(context_ids(windows, ids, model.config.vocab_size, spec))


def likelihood_report(
    model: MusicLSTM,
    pieces: list[np.ndarray],
    *,
    vocab: Vocabulary | None = None,
    context: int = 32,
    positions: int = 4000,
    seed: int = 0,
    meters: list[Meter] | None = None,
) -> dict:
    """Mean NLL per token (nats, bits, perplexity) with full context, and at sampled positions
    with full and with only `context` tokens of context. vocab: the model's, needed for a model
    with context inputs; meters: each piece's time signatures (None: 4/4)."""
    model.eval()
    places = [Placement(m) for m in meters] if meters else [None] * len(pieces)
    full = [token_nll(model, t, vocab, placement=at) for t, at in zip(pieces, places)]
    everything = np.concatenate(full) if full else np.zeros(0)
    rng = np.random.default_rng(seed)
    candidates = [(i, p) for i, t in enumerate(pieces) for p in range(context + 1, len(t))]
    picked = (
        [
            candidates[j]
            for j in rng.choice(len(candidates), min(positions, len(candidates)), replace=False)
        ]
        if candidates
        else []
    )
    long_nll, short_nll = [], []
    by_piece: dict[int, list[int]] = {}
    for i, p in picked:
        by_piece.setdefault(i, []).append(p)
    for i, ps in by_piece.items():
        ps = np.array(sorted(ps))
        long_nll.append(full[i][ps - 1])
        short_nll.append(short_context_nll(model, pieces[i], ps, context, vocab, places[i]))
    long_mean = float(np.concatenate(long_nll).mean()) if long_nll else float("nan")
    short_mean = float(np.concatenate(short_nll).mean()) if short_nll else float("nan")
    return {
        "tokens": int(len(everything)),
        **nll_figures(float(everything.mean()) if len(everything) else float("nan")),
        "context": context,
        "positions": len(picked),
        "full_context_at_positions": round(long_mean, 4),
        "short_context_at_positions": round(short_mean, 4),
    }


def nll_figures(nats: float) -> dict:
    return {
        "nats": round(nats, 4),
        "bits": round(nats / np.log(2), 4),
        "perplexity": round(float(np.exp(nats)), 3),
    }
