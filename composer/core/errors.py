"""The error every layer shares for a choice a person made that cannot be used.

A ValueError raised anywhere may be a bug (an array of the wrong shape, a broken invariant); a
SettingsError is always a person's choice: a learning rate of 0, a key no note of the range
belongs to, bars past the end, `--tracks 9` on a piece of three. The edges (the command line, the
app's jobs) catch SettingsError and show its one sentence; a plain ValueError reaches the log and
the bug report instead of being shown as the musician's mistake.
"""


class SettingsError(ValueError):
    """A setting cannot be used; the message names it and says why, in one sentence without a
    full stop (the caller adds its own prefix and punctuation). A ValueError, so code written
    before it still catches it."""
