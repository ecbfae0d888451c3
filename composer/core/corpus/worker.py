"""Turning one file into tokens: the unit of work that ingest runs in worker processes.

Kept apart from ingest.py so that a second ingest served from the cache never imports the parser.
"""

from __future__ import annotations

from functools import lru_cache

from composer.core.corpus.cache import TokenCache
from composer.core.midi.reader import MidiReadError, read_midi
from composer.core.tokens.codec import encode
from composer.core.tokens.config import TokenizerConfig
from composer.core.tokens.vocab import Vocabulary


@lru_cache(maxsize=4)
def _cache_and_vocab(cache_root: str, config_json: str) -> tuple[TokenCache, Vocabulary]:
    config = TokenizerConfig.from_json(config_json)
    return TokenCache(cache_root, config), Vocabulary(config)


def tokenize_file(path: str, sha: str, cache_root: str, config_json: str) -> dict:
    """Read, tokenise and cache one file; return the facts stored for it (see TokenCache).

    Never raises for a bad file: the returned facts say {"ok": False, "reason": ...}.
    """
    cache, vocab = _cache_and_vocab(cache_root, config_json)
    try:
        piece = read_midi(path)
        if piece.note_count == 0:
            raise MidiReadError(path, "contains no notes; nothing to learn from it")
        tokens = encode(piece, vocab)
    except MidiReadError as exc:
        meta = {"ok": False, "reason": exc.reason}
        cache.put(sha, meta)
        return meta
    except Exception as exc:  # a bug or an exhausted resource must cost one file, not the run
        meta = {"ok": False, "reason": f"could not be processed ({type(exc).__name__}: {exc})"}
        return meta  # not cached: it may succeed on another day
    pitch_range = piece.pitch_range
    meta = {
        "ok": True,
        "notes": piece.note_count,
        "tokens": int(len(tokens)),
        "seconds": round(piece.duration_seconds, 3),
        "instruments": sorted({t.label for t in piece.tracks}),
        "pitch_range": list(pitch_range) if pitch_range else None,
    }
    cache.put(sha, meta, tokens)
    return meta
