"""Type checks for values read from files a person or another program may have written (JSON
reads true as a number's cousin, NaN, Infinity and integers no float can hold): the one home of
"is this a count" and "is this a finite number", for the cache, checkpoints and the session."""

from __future__ import annotations

import math


def is_count(value: object, most: int | None = None) -> bool:
    """A whole number (not a bool) from 0 to `most` (no upper bound when None)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return False
    return most is None or value <= most


def is_finite_number(value: object) -> bool:
    """A finite int or float (not a bool; not NaN, not infinite, not an int beyond float's range)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond float's range
        return False
