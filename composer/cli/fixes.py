"""The core's errors in the command line's words: the fix names the option to give.

The core says what went wrong and a fix in neutral words (it knows neither the options nor the
app's controls); its common errors carry their data, from which the fix is said here.
"""

from __future__ import annotations


def in_cli_words(exc: BaseException) -> str:
    """One sentence for `exc`: the core's own, or for a known failure its problem and the option
    that fixes it."""
    from composer.core.training.distributed import DeviceError
    from composer.core.training.progress import NanLoss, OutOfMemory, RunExists

    if isinstance(exc, OutOfMemory):
        return f"{exc.problem}; try --batch-size {exc.smaller_batch_size} or a smaller --preset"
    if isinstance(exc, NanLoss):
        return f"{exc.problem}; try a lower --learning-rate (now {exc.learning_rate:g})"
    if isinstance(exc, RunExists):
        return f"{exc.problem}; add --resume to continue it, or choose another --out"
    if isinstance(exc, DeviceError) and exc.device:
        other = f", or {exc.other_fix}" if exc.other_fix else ""
        return f"{exc.problem}; use --device cpu{other}"
    return str(exc)
