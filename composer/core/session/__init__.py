"""The autosaved session: the open pieces of each running app in a locked slot folder
(store.py), each piece's entry and file (pieces.py), reading a slot back (restore.py), and the
file helpers they share (files.py)."""

from composer.core.session.store import (
    SESSION_FILE,
    SET_ASIDE,
    SavedPiece,
    Session,
    SessionError,
    SessionStore,
)

__all__ = ["SESSION_FILE", "SET_ASIDE", "SavedPiece", "Session", "SessionError", "SessionStore"]
