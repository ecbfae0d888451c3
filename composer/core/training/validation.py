"""Validation loss: one fixed pass over held-out files, each piece read from a zero state."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from composer.core.model import MusicLSTM
from composer.core.tokens.vocab import PAD
from composer.core.training.data import Batcher, PieceSet
from composer.core.training.distributed import Ranks
from composer.core.training.lanes import EpochPlan, plan_epoch


class Validation:
    """The same windows every time, so that losses at different steps compare."""

    def __init__(
        self, pieces: PieceSet, window: int, max_lanes: int, max_tokens: int, ranks: Ranks
    ):
        self.pieces, self.ranks = pieces, ranks
        self.batcher = Batcher(pieces, window)
        self.plan: EpochPlan | None = None
        if not len(pieces):
            return
        # Longest pieces first, on no more lanes than keeps them busy: a lane takes as long as the
        # longest piece, and an idle lane costs as much as a busy one.
        windows = -(-(pieces.lengths - 1) // window)
        lanes = int(np.clip(windows.sum() // windows.max(), 1, max_lanes))
        lanes = -(-lanes // ranks.world_size) * ranks.world_size  # every rank gets a share
        order = np.argsort(-pieces.lengths, kind="stable")
        plan = plan_epoch(pieces.lengths, order, lanes, window)
        # At most max_tokens targets (whole steps), so validating a big collection stays quick.
        reach = np.cumsum(plan.targets.sum(axis=1))
        keep = max(1, int(np.searchsorted(reach, max_tokens, "right")))
        self.plan = EpochPlan(plan.piece[:keep], plan.offset[:keep], plan.targets[:keep])
        share = lanes // ranks.world_size
        self.lanes = slice(ranks.rank * share, (ranks.rank + 1) * share)

    @torch.no_grad()
    def loss(self, model: MusicLSTM, autocast: Callable) -> float | None:
        """Mean nats per predicted token over all ranks' lanes; None without validation files."""
        if self.plan is None:
            return None
        device = model.head.weight.device
        was_training = model.training
        model.eval()
        mine = self.lanes
        state = model.initial_state(mine.stop - mine.start, device)
        totals = torch.zeros(2, dtype=torch.float64, device=device)
        for step in range(self.plan.steps):
            batch = self.batcher.batch(self.plan.piece[step, mine], self.plan.offset[step, mine])
            keep = torch.from_numpy(~batch.fresh).to(device).float()[None, :, None]
            targets = torch.from_numpy(batch.targets).to(device)
            context = None if batch.context is None else torch.from_numpy(batch.context).to(device)
            style = None if batch.style is None else torch.from_numpy(batch.style).to(device)
            with autocast():
                logits, state = model(
                    torch.from_numpy(batch.inputs).to(device),
                    (state[0] * keep, state[1] * keep),
                    context=context,
                    style=style,
                )
            totals[0] += F.cross_entropy(
                logits.float().flatten(0, 1), targets.flatten(), ignore_index=PAD, reduction="sum"
            )
            totals[1] += (targets != PAD).sum()
            state = (state[0].float(), state[1].float())
        model.train(was_training)
        nll, count = self.ranks.sum(totals).tolist()
        return nll / count if count else None
