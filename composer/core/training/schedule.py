"""How long a run trains and at what learning rate: a step count or a time budget, and early
stopping on the validation loss."""

from __future__ import annotations

import math

from composer.core.training.config import TrainConfig


class Schedule:
    """The learning rate for each step and the reasons to end a run.

    `steps_cap` is the step count the run ends at (the Trainer's is never above MAX_STEPS, even
    with a time budget; None: only the time budget ends it).
    `elapsed_s` counts the seconds spent training, this session and earlier ones (pauses are not
    counted), and `stale` the validations since the best one; both are kept in checkpoints so a
    resumed run carries on where it stopped.
    """

    def __init__(self, config: TrainConfig, steps_cap: int | None) -> None:
        self.config = config
        self.steps_cap = steps_cap
        self.elapsed_s = 0.0
        self.stale = 0

    @property
    def budget_s(self) -> float | None:
        return None if self.config.minutes is None else self.config.minutes * 60.0

    def out_of_steps(self, step: int) -> bool:
        return self.steps_cap is not None and step >= self.steps_cap

    def out_of_time(self) -> bool:
        return self.budget_s is not None and self.elapsed_s >= self.budget_s

    def validated(self, improved: bool) -> bool:
        """Count a validation; True when early stopping ends the run now."""
        self.stale = 0 if improved else self.stale + 1
        patience = self.config.patience
        return patience is not None and self.stale >= patience

    def total_steps(self, step: int, seconds_per_step: float) -> int:
        """The step the run will end at: the cap, or (with a time budget) the estimate at the
        recent pace, whichever comes first."""
        if self.budget_s is None:
            return self.steps_cap
        if seconds_per_step <= 0:
            estimate = step + 1
        else:
            left = max(0.0, self.budget_s - self.elapsed_s)
            estimate = step + max(1, math.ceil(left / seconds_per_step))
        return estimate if self.steps_cap is None else min(estimate, self.steps_cap)

    def learning_rate(self, step: int) -> float:
        """Linear warm-up, then cosine decay to min_learning_rate at the end: the last step, or
        the end of the time budget, whichever is nearer."""
        c = self.config
        warmup = c.warmup_steps
        if self.steps_cap is not None:
            warmup = min(warmup, self.steps_cap // 10)
        if step < warmup:
            return c.learning_rate * (step + 1) / warmup
        progress = 0.0
        if self.steps_cap is not None:
            progress = (step - warmup) / max(1, self.steps_cap - warmup)
        if self.budget_s is not None:
            progress = max(progress, self.elapsed_s / self.budget_s)
        progress = min(1.0, progress)
        return c.min_learning_rate + (c.learning_rate - c.min_learning_rate) * 0.5 * (
            1 + math.cos(math.pi * progress)
        )
