"""The on-disk token cache, keyed by file content and tokenizer config.

Layout under the cache root::

    <config fingerprint>/config.json         the TokenizerConfig, for people and tools
    <config fingerprint>/packs/<name>.tokens uint16 token ids of many files, back to back
    <config fingerprint>/packs/<name>.json   sha -> what ingest learnt about the file (or why it
                                             failed) and where its tokens start in the .tokens file
    <config fingerprint>/folders/<hash>.json path -> (size, mtime, sha) of one scanned folder, so
                                             that an unchanged file is not even read again

Entries are keyed by the SHA-256 of the file's bytes: byte-identical files share one entry, a
renamed file is still cached, an edited file gets a new entry. Tokens are written in packs of many
files, because creating two small files per MIDI file cost more than parsing it (measured on the
folk corpus). Each pack is written atomically, tokens before index, so an index never points at
missing tokens; a pack whose tokens are damaged is ignored and its files are read again.
Training memory-maps the .tokens files (`TokenCache.tokens`).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from pathlib import Path

import numpy as np

from composer.core.atomic import atomic_write_bytes
from composer.core.tokens.config import TokenizerConfig


class CacheWriteError(OSError):
    """The cache could not be written; the message says where and what to do."""


class TokenCache:
    """Token arrays and per-file facts for one tokenizer config under one cache root."""

    def __init__(self, root: str | Path, config: TokenizerConfig):
        self.root = Path(root)
        self.config = config
        self.dir = self.root / config.fingerprint
        self._entries: dict[str, tuple[Path, dict]] | None = None  # sha -> (tokens file, facts)
        self._maps: dict[Path, np.memmap] = {}
        self._pending: list[tuple[str, dict, np.ndarray | None]] = []
        self._pending_tokens = 0
        self._last_flush = time.monotonic()

    def ensure(self) -> None:
        """Create the folder and its config.json (a no-op once they exist)."""
        marker = self.dir / "config.json"
        if not marker.exists():
            atomic_write_bytes(marker, self.config.to_json().encode(), durable=False)

    # --- reading ----------------------------------------------------------------------------------
    def _load(self) -> dict[str, tuple[Path, dict]]:
        if self._entries is None:
            self._entries = {}
            for index_path in sorted((self.dir / "packs").glob("*.json")):
                tokens_path = index_path.with_suffix(".tokens")
                try:
                    entries = json.loads(index_path.read_text())
                    size = tokens_path.stat().st_size // 2 if tokens_path.exists() else 0
                except (OSError, ValueError):
                    continue
                if not isinstance(entries, dict):
                    continue
                for sha, meta in entries.items():
                    if meta.get("ok") and meta.get("offset", 0) + meta.get("tokens", 0) > size:
                        continue  # tokens missing or cut short: read the file again
                    self._entries[sha] = (tokens_path, meta)
        return self._entries

    def get(self, sha: str) -> dict | None:
        """The facts stored for a file's content, or None when it has not been seen."""
        found = self._load().get(sha)
        return found[1] if found else None

    def tokens(self, sha: str) -> np.ndarray:
        """The token ids of a usable file, memory-mapped read-only: uint16, shape (L,)."""
        tokens_path, meta = self._load()[sha]
        if tokens_path not in self._maps:
            self._maps[tokens_path] = np.memmap(tokens_path, dtype=np.uint16, mode="r")
        return self._maps[tokens_path][meta["offset"] : meta["offset"] + meta["tokens"]]

    # --- writing ----------------------------------------------------------------------------------
    def put(self, sha: str, meta: dict, tokens: np.ndarray | None = None) -> None:
        """Record facts about a file (and for a usable file its tokens: uint16, shape (L,)).
        Buffered: written in packs, at the latest every 10 seconds or on flush()."""
        self._pending.append((sha, meta, tokens))
        self._pending_tokens += 0 if tokens is None else len(tokens)
        if self._pending_tokens > 16_000_000 or time.monotonic() - self._last_flush > 10:
            self.flush()

    def flush(self) -> None:
        """Write buffered entries as one new pack (tokens first, then its index)."""
        self._last_flush = time.monotonic()
        if not self._pending:
            return
        # Random part: two caches in one process and second must never pick the same name (one
        # would replace the other's pack).
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{secrets.token_hex(4)}"
        tokens_path = self.dir / "packs" / f"{name}.tokens"
        index, arrays, offset = {}, [], 0
        for sha, meta, tokens in self._pending:
            meta = dict(meta)
            if tokens is not None:
                meta["offset"] = offset
                arrays.append(np.asarray(tokens, dtype=np.uint16))
                offset += len(tokens)
            index[sha] = meta
        data = np.concatenate(arrays).tobytes() if arrays else b""
        try:
            atomic_write_bytes(tokens_path, data, durable=False)
            atomic_write_bytes(
                tokens_path.with_suffix(".json"), json.dumps(index).encode(), durable=False
            )
        except OSError as exc:
            tokens_path.unlink(missing_ok=True)  # tokens without their index are of no use
            self._pending, self._pending_tokens = [], 0
            raise CacheWriteError(
                f"Could not write the token cache in {self.dir} ({exc.strerror or exc}); free some "
                "space, or set COMPOSER_CACHE_DIR to a folder with room"
            ) from None
        entries = self._load()
        for sha, meta in index.items():
            entries[sha] = (tokens_path, meta)
        self._pending, self._pending_tokens = [], 0

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
