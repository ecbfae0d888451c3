"""Reading files that may be hostile: only regular files, never more than a limit, JSON bounded.

A "MIDI file" may be a FIFO (reading it waits forever), a link to /dev/zero (reading never ends),
or 2 GB of zeros; a JSON file may nest a million levels (Python's parser then raises
RecursionError, which no caller expects). Everything Composer reads from a user's folder, a cache
or a run goes through here: the file is opened without waiting (O_NONBLOCK), checked to be a
regular file on the open descriptor (so it cannot be swapped after the check), and read up to
its limit; anything else is an UnsafeFileError whose message names the file and the fix.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

#: No MIDI file a musician has is near this: a dense 10-minute orchestral file is about 1 MB.
MAX_MIDI_BYTES = 64 * 1024 * 1024
#: run.json lists every file of a run's collection (about 150 bytes each): 64 MB is 400,000 files.
MAX_JSON_BYTES = 64 * 1024 * 1024

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


class UnsafeFileError(OSError):
    """A file that is not a regular file or is too large. `reason` is the sentence without the
    file's name (as ingest's failure list shows it); str() starts with the path."""

    def __init__(self, path, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path} {reason}")

    def __reduce__(self):  # it crosses from worker processes
        return type(self), (self.path, self.reason)


def regular_file_size(path: str | Path) -> int:
    """The size in bytes of a regular file (following links), or UnsafeFileError."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeFileError(path, _not_regular(info.st_mode))
    return info.st_size


def read_regular(path: str | Path, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most `limit` bytes. OSError when it cannot be read
    (UnsafeFileError when it is not a regular file or is larger than `limit`)."""
    fd = os.open(path, _FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFileError(path, _not_regular(info.st_mode))
        if info.st_size > limit:
            raise UnsafeFileError(path, _too_large(info.st_size, limit, what))
        chunks, size = [], 0
        while True:  # read until the end, and not past the limit even if the file grows
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise UnsafeFileError(path, _too_large(size, limit, what))
        return b"".join(chunks)
    finally:
        os.close(fd)


def load_json(path: str | Path, limit: int = MAX_JSON_BYTES, what: str = "JSON file"):
    """Parse a JSON file read with read_regular. ValueError (with the reason) when it is not JSON
    or nests absurdly deep; OSError when it cannot be read."""
    return parse_json(read_regular(path, limit, what))


def parse_json(data: bytes | str):
    """json.loads, with nesting too deep for the parser (RecursionError, which callers do not
    expect) turned into the ValueError they handle."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("it nests too deep to be one of Composer's files") from None


def _not_regular(mode: int) -> str:
    kind = (
        "a folder"
        if stat.S_ISDIR(mode)
        else "a named pipe (FIFO)"
        if stat.S_ISFIFO(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    return f"is {kind}, not a file; remove it or replace it with a real file"


def _too_large(size: int, limit: int, what: str) -> str:
    return (
        f"is {size / 2**20:,.0f} MB, more than any {what} can be ({limit / 2**20:.0f} MB); "
        "it is probably not one: remove it"
    )
