"""Scanning a folder, parallel ingest, per-file error reports, the on-disk token cache."""

from composer.core.corpus.cache import CacheWriteError, TokenCache
from composer.core.corpus.ingest import (
    CorpusEntry,
    FileFailure,
    IngestProgress,
    IngestReport,
    ingest,
)
from composer.core.corpus.scan import find_midi_files

__all__ = [
    "CacheWriteError",
    "CorpusEntry",
    "FileFailure",
    "IngestProgress",
    "IngestReport",
    "TokenCache",
    "find_midi_files",
    "ingest",
]
