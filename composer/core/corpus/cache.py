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
missing tokens. The index records the size and SHA-256 of its tokens file, checked once when a
TokenCache first reads the pack (about 20 ms for 10 million tokens), together with the token ids
being within the vocabulary: a pack that fails either (or has no checksum, from before there were
checksums) is ignored, named in `damaged`, and its files are read again. Training memory-maps the
.tokens files (`TokenCache.tokens`), so the check is not repeated on every read.

Every ingest adds a pack; `compact()` merges them into one when there are many, under a lock so
that two processes never compact at once, and removes the packs it merged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from pathlib import Path

import numpy as np

from composer.core.checks import is_count
from composer.core.files.atomic import atomic_write_bytes
from composer.core.files.safe_files import MAX_JSON_BYTES, load_json, read_regular
from composer.core.tokens.config import TokenizerConfig
from composer.core.tokens.meter import Meter, rows_problem

PACK_KEY = "__pack__"  # the index entry that describes the pack itself (not a file's sha)
COMPACT_AFTER_PACKS = 32  # more packs than this cost more to open than one merge costs


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
        self._packs: list[Path] = []  # the packs read by _load, verified
        self.damaged: list[str] = []  # packs ignored because they failed their check
        self._note_on: tuple[int, int] | None = None  # the vocabulary's NoteOn range

    def ensure(self) -> None:
        """Create the folder and its config.json (a no-op once they exist)."""
        marker = self.dir / "config.json"
        if not marker.exists():
            try:
                atomic_write_bytes(marker, self.config.to_json().encode(), durable=False)
            except OSError as exc:
                raise _write_error(self.dir, exc) from None

    # --- reading ----------------------------------------------------------------------------------
    def _load(self) -> dict[str, tuple[Path, dict]]:
        if self._entries is None:
            self._entries = {}
            vocab_size = _vocab_size(self.config)
            for index_path in sorted((self.dir / "packs").glob("*.json")):
                entries = self._verified_pack(index_path, vocab_size)
                if entries is None:
                    self.damaged.append(index_path.stem)
                    continue
                self._packs.append(index_path)
                tokens_path = index_path.with_suffix(".tokens")
                for sha, meta in entries.items():
                    self._entries[sha] = (tokens_path, meta)
        return self._entries

    def _verified_pack(self, index_path: Path, vocab_size: int) -> dict[str, dict] | None:
        """A pack's entries, or None when the pack fails its checksum, holds ids outside the
        vocabulary, or its index is not what flush() writes."""
        try:
            entries = load_json(index_path, MAX_JSON_BYTES, "cache index")
            pack = entries.pop(PACK_KEY) if isinstance(entries, dict) else None
            data = read_regular(index_path.with_suffix(".tokens"), int(pack["bytes"]), "cache pack")
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None
        if len(data) != pack["bytes"] or hashlib.sha256(data).hexdigest() != pack.get("sha256"):
            return None
        tokens = np.frombuffer(data, dtype=np.uint16)
        if len(tokens) and int(tokens.max()) >= vocab_size:
            return None
        valid = {}
        for sha, meta in entries.items():
            if not isinstance(meta, dict):
                return None
            if meta.get("ok"):
                offset, count = meta.get("offset"), meta.get("tokens")
                if not (is_count(offset) and is_count(count) and offset + count <= len(tokens)):
                    return None
            if _well_formed(meta):  # else not cached: its file is read again
                valid[sha] = meta
        return valid

    def verify(self) -> list[str]:
        """Read (and check) every pack; the names of those found damaged and ignored."""
        self._load()
        return self.damaged

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

    def meter(self, sha: str) -> Meter:
        """The time signatures of a usable file on the token grid (tokens/meter.py)."""
        return Meter.from_rows(self._load()[sha][1]["meter"], self.config.steps_per_beat)

    def parts(self, sha: str) -> np.ndarray | None:
        """The track of each NoteOn token of a usable file, in token order (uint8: the track's
        index in the file, 255 for the 256th and later), or None when the file has one track
        or its entry's parts do not fit its tokens (then its notes are one part)."""
        text = self._load()[sha][1]["parts"]
        if not text:
            return None
        try:
            parts = np.frombuffer(base64.b64decode(text, validate=True), np.uint8)
        except ValueError:
            return None
        if self._note_on is None:
            from composer.core.tokens.vocab import Vocabulary

            self._note_on = Vocabulary(self.config).ranges["NoteOn"]
        first, size = self._note_on
        tokens = self.tokens(sha)
        count = int(((tokens >= first) & (tokens < first + size)).sum())
        return parts if len(parts) == count else None

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
        index[PACK_KEY] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        try:
            atomic_write_bytes(tokens_path, data, durable=False)
            atomic_write_bytes(
                tokens_path.with_suffix(".json"), json.dumps(index).encode(), durable=False
            )
        except OSError as exc:
            tokens_path.unlink(missing_ok=True)  # tokens without their index are of no use
            self._pending, self._pending_tokens = [], 0
            raise _write_error(self.dir, exc) from None
        del index[PACK_KEY]
        entries = self._load()
        for sha, meta in index.items():
            entries[sha] = (tokens_path, meta)
        self._packs.append(tokens_path.with_suffix(".json"))
        self._pending, self._pending_tokens = [], 0

    # --- compaction ---------------------------------------------------------------------------
    def compact(self, *, force: bool = False) -> int:
        """Merge every verified pack into one and delete the merged ones (and the damaged ones),
        when there are more than COMPACT_AFTER_PACKS (or always with force). Returns the packs
        removed; 0 when another process is compacting or writing this cache's lock."""
        from composer.core.files.filelock import FolderLock, LockedError

        self.flush()
        self._load()
        if not force and len(self._packs) + len(self.damaged) <= COMPACT_AFTER_PACKS:
            return 0
        try:
            lock = FolderLock(self.dir, name=".compact.lock").acquire()
        except (LockedError, OSError):
            return 0
        try:
            merged, damaged = list(self._packs), list(self.damaged)
            live = dict(self._entries)
            for sha, (_, meta) in live.items():
                self._pending.append((sha, meta, self.tokens(sha) if meta.get("ok") else None))
            self.flush()  # one new pack with every live entry, verified as any other
            self._maps.clear()
            removed = 0
            for index_path in merged + [self.dir / "packs" / f"{n}.json" for n in damaged]:
                for path in (index_path, index_path.with_suffix(".tokens")):
                    try:
                        path.unlink(missing_ok=True)
                    except OSError:  # in use on Windows: the next compaction takes it
                        continue
                removed += 1
            self._entries, self._packs, self.damaged = None, [], []
            return removed
        finally:
            lock.release()

    # --- the per-folder index of file stats -----------------------------------------------------
    def _folder_index_path(self, folder: Path) -> Path:
        key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
        return self.dir / "folders" / f"{key}.json"

    def load_folder_index(self, folder: Path) -> dict[str, list]:
        """relative path -> [size in bytes, mtime in ns, sha] from the last scan of `folder`.
        A damaged or hostile index is treated as no index: every file is hashed again."""
        try:
            data = load_json(self._folder_index_path(folder), MAX_JSON_BYTES, "folder index")
            files = data["files"] if isinstance(data.get("files"), dict) else {}
        except (OSError, ValueError, AttributeError, TypeError, KeyError):
            return {}
        return {
            rel: entry
            for rel, entry in files.items()
            if isinstance(entry, list)
            and len(entry) == 3
            and is_count(entry[0])
            and isinstance(entry[1], int)
            and isinstance(entry[2], str)
        }

    def save_folder_index(self, folder: Path, files: dict[str, list]) -> None:
        text = json.dumps({"folder": str(folder.resolve()), "files": files})
        try:
            atomic_write_bytes(self._folder_index_path(folder), text.encode(), durable=False)
        except OSError as exc:
            raise _write_error(self.dir, exc) from None


def _well_formed(meta: dict) -> bool:
    """Whether an entry holds every fact ingest reads from it, each of its type (what
    worker.tokenize_file writes): a pack written by hand or by another program may not."""
    if meta.get("ok") is not True:
        return (
            meta.get("ok") is False
            and isinstance(meta.get("reason"), str)
            and isinstance(meta.get("detail", ""), str)
        )
    seconds = meta.get("seconds")
    instruments, pitches = meta.get("instruments"), meta.get("pitch_range")
    return (
        rows_problem(meta.get("meter")) is None
        # Entries from before the parts were kept lack them: their files are read again.
        and isinstance(meta.get("parts"), str)
        and is_count(meta.get("notes"))
        and isinstance(seconds, (int, float))
        and not isinstance(seconds, bool)
        and 0 <= seconds < float("inf")
        and isinstance(instruments, list)
        and all(isinstance(name, str) for name in instruments)
        and (
            pitches is None
            or (
                isinstance(pitches, list)
                and len(pitches) == 2
                and all(is_count(p) and p <= 127 for p in pitches)
                and pitches[0] <= pitches[1]
            )
        )
    )


def parts_text(on_parts: np.ndarray) -> str:
    """How an entry keeps the track of each NoteOn token (TokenCache.parts): base64 of one byte
    each, clipped at 255; empty when they are all one track."""
    on_parts = np.asarray(on_parts, np.int64)
    if len(on_parts) == 0 or (on_parts == on_parts[0]).all():
        return ""
    return base64.b64encode(np.minimum(on_parts, 255).astype(np.uint8).tobytes()).decode()


def _vocab_size(config: TokenizerConfig) -> int:
    from composer.core.tokens.vocab import Vocabulary

    return len(Vocabulary(config))


def _write_error(folder: Path, exc: OSError) -> CacheWriteError:
    return CacheWriteError(
        f"Could not write the token cache in {folder} ({exc.strerror or exc}); free some "
        "space, or set COMPOSER_CACHE_DIR to a folder you can write to, with room"
    )
