"""How well a model predicts held-out tokens: with its whole context, and with only the last few.

The full pass reads each piece from its Bos with a zero state, as generation does. The short-context
pass scores the same positions with the model started fresh on only the `context` tokens before
each: the gap between the two is the long-term memory the LSTM actually uses.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from composer.core.model import MusicLSTM


@torch.inference_mode()
def token_nll(model: MusicLSTM, tokens: np.ndarray) -> np.ndarray:
    """NLL in nats of tokens[1:] given everything before, shape (L-1,)."""
    ids = torch.from_numpy(np.asarray(tokens, dtype=np.int64))[None]
    logits, _ = model(ids[:, :-1])
    return F.cross_entropy(logits[0].float(), ids[0, 1:], reduction="none").numpy()


@torch.inference_mode()
def short_context_nll(
    model: MusicLSTM, tokens: np.ndarray, positions: np.ndarray, context: int
) -> np.ndarray:
    """NLL of tokens[p] given only tokens[p-context:p], for each p in `positions` (all >= context)."""
    ids = np.asarray(tokens, dtype=np.int64)
    windows = torch.from_numpy(np.stack([ids[p - context : p] for p in positions]))
    out = []
    for chunk, targets in zip(windows.split(256), torch.from_numpy(ids[positions]).split(256)):
        logits, _ = model(chunk)
        out.append(F.cross_entropy(logits[:, -1].float(), targets, reduction="none"))
    return torch.cat(out).numpy() if out else np.zeros(0)


def likelihood_report(
    model: MusicLSTM,
    pieces: list[np.ndarray],
    *,
    context: int = 32,
    positions: int = 4000,
    seed: int = 0,
) -> dict:
    """Mean NLL per token (nats, bits, perplexity) with full context, and at sampled positions
    with full and with only `context` tokens of context."""
    model.eval()
    full = [token_nll(model, t) for t in pieces]
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
        short_nll.append(short_context_nll(model, pieces[i], ps, context))
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
