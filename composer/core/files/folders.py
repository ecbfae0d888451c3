"""Folders the app and the command line share: where the token cache lives.

Imports nothing heavy (platformdirs only when asked), so the command line can use it at start-up.
"""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """Where token caches live: $COMPOSER_CACHE_DIR, else the platform's user cache folder."""
    if os.environ.get("COMPOSER_CACHE_DIR"):
        return Path(os.environ["COMPOSER_CACHE_DIR"])
    import platformdirs

    return Path(platformdirs.user_cache_dir("composer", appauthor=False)) / "tokens"
