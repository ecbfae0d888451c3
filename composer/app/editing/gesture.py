"""Merge keys for undo commands: the many small steps of one drag share one key."""

import itertools

_gestures = itertools.count(1)


def new_gesture() -> int:
    """A key no other gesture of this process has."""
    return next(_gestures)
