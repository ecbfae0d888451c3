"""The on-disk token cache, keyed by file content and tokenizer config.

Layout under the cache root::

    <config fingerprint>/config.json           the TokenizerConfig, for people and tools
    <config fingerprint>/objects/ab/<sha>.npy  uint16 token ids of one file (np.load(mmap_mode="r"))
    <config fingerprint>/objects/ab/<sha>.json what ingest learnt about the file, or why it failed
    <config fingerprint>/folders/<hash>.json   path -> (size, mtime, sha) of one scanned folder, so
                                               that an unchanged file is not even read again

Entries are keyed by the SHA-256 of the file's bytes, so byte-identical files share one entry, a
renamed file is still cached, and an edited file gets a new entry. Files are written atomically but
not fsynced (it is a cache: entries are validated on read and rebuilt when damaged).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from composer.core.atomic import atomic_path, atomic_write_bytes
from composer.core.tokens.config import TokenizerConfig


class TokenCache:
    """Token arrays and per-file facts for one tokenizer config under one cache root."""

    def __init__(self, root: str | Path, config: TokenizerConfig):
        self.root = Path(root)
        self.config = config
        self.dir = self.root / config.fingerprint

    def ensure(self) -> None:
        """Create the folder and its config.json (a no-op once they exist)."""
        marker = self.dir / "config.json"
        if not marker.exists():
            atomic_write_bytes(marker, self.config.to_json().encode(), durable=False)

    def _object(self, sha: str, suffix: str) -> Path:
        return self.dir / "objects" / sha[:2] / f"{sha}{suffix}"

    def get(self, sha: str) -> dict | None:
        """The facts stored for a file's content, or None when absent or damaged."""
        try:
            meta = json.loads(self._object(sha, ".json").read_text())
        except (OSError, ValueError):
            return None
        if meta.get("ok"):
            try:
                tokens = self.tokens(sha)
            except (OSError, ValueError):
                return None
            if len(tokens) != meta.get("tokens"):
                return None
        return meta

    def put(self, sha: str, meta: dict, tokens: np.ndarray | None = None) -> None:
        """Store facts (and for a usable file its tokens: uint16, shape (L,)). Tokens go first, so
        a facts file that says "ok" always has its tokens beside it."""
        if tokens is not None:
            with (
                atomic_path(self._object(sha, ".npy"), durable=False) as tmp,
                open(tmp, "wb") as f,
            ):
                np.save(f, np.ascontiguousarray(tokens, dtype=np.uint16))
        atomic_write_bytes(self._object(sha, ".json"), json.dumps(meta).encode(), durable=False)

    def tokens(self, sha: str) -> np.ndarray:
        """The token ids of a usable file, memory-mapped read-only: uint16, shape (L,)."""
        return np.load(self._object(sha, ".npy"), mmap_mode="r")

    # --- the per-folder index of file stats -----------------------------------------------------
    def _folder_index_path(self, folder: Path) -> Path:
        key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
        return self.dir / "folders" / f"{key}.json"

    def load_folder_index(self, folder: Path) -> dict[str, list]:
        """relative path -> [size in bytes, mtime in ns, sha] from the last scan of `folder`."""
        try:
            data = json.loads(self._folder_index_path(folder).read_text())
            return data["files"] if isinstance(data.get("files"), dict) else {}
        except (OSError, ValueError, AttributeError):
            return {}

    def save_folder_index(self, folder: Path, files: dict[str, list]) -> None:
        text = json.dumps({"folder": str(folder.resolve()), "files": files})
        atomic_write_bytes(self._folder_index_path(folder), text.encode(), durable=False)
