"""Where the app keeps runs, the token cache and its log: the platform's user folders, never the
working directory. $COMPOSER_DATA_DIR moves them all (tests use it)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    if os.environ.get("COMPOSER_DATA_DIR"):
        return Path(os.environ["COMPOSER_DATA_DIR"])
    return Path(platformdirs.user_data_dir("composer", appauthor=False))


def runs_dir() -> Path:
    """Training runs made from the app, one folder each."""
    return data_dir() / "runs"


def log_file() -> Path:
    """Unexpected errors are written here, and the error dialog offers this file."""
    return data_dir() / "logs" / "composer.log"


def cache_dir() -> Path:
    """The token cache, shared with the command line (`composer ingest`)."""
    from composer.core.files.folders import default_cache_dir

    return default_cache_dir()
