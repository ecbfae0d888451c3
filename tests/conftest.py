"""Shared fixtures. Qt runs offscreen so that a plain `pytest` never aborts for want of a display."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"


def corpus(name: str) -> Path:
    """A folder of ../shared/corpora; the test is skipped with the reason when it is absent."""
    folder = CORPORA / name
    if not folder.is_dir():
        pytest.skip(f"shared corpus {folder} is not present beside the checkout")
    return folder


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """No test writes to the user's real cache folder."""
    monkeypatch.setenv("COMPOSER_CACHE_DIR", str(tmp_path / "user-cache"))
    monkeypatch.setenv("COMPOSER_DATA_DIR", str(tmp_path / "user-data"))
