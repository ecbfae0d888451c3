"""Reading an autosaved session's files as hostile input: regular files only, sizes bounded
before reading, links only inside the slot folder, arrays parsed without pickle with their sizes
checked before anything is allocated. Used by session.py; a failure is a `Damaged` reason, which
becomes one warning naming the file."""

from __future__ import annotations

import contextlib
import errno
import importlib
import io
import math
import os
import stat
import zipfile
from pathlib import Path

import numpy as np

from composer.core.midi.piece import TEMPO_DTYPE, TIME_SIGNATURE_DTYPE

ARRAYS = ("notes", "tempos", "time_signatures")  # the members of a piece file, in order
READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in after the check cannot make open() wait
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


class Damaged(Exception):
    """Why a file or an entry cannot be restored; `path` is the file, None for a session.json entry."""

    def __init__(self, reason: str, path: Path | None = None):
        super().__init__(reason)
        self.reason = reason
        self.path = path


def read_regular(
    path: Path, folder: Path, limit: int, *, expected_size: int | None = None
) -> bytes:
    """The bytes of `path` if it is a regular file in `folder` (a link to one in the folder will do)
    of at most `limit` bytes (and of `expected_size`, if given). FileNotFoundError if there is no
    such name; Damaged for anything else."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise  # nothing there
    except OSError as exc:
        raise Damaged(f"it cannot be read: {exc.strerror or exc}") from None
    try:
        if stat.S_ISLNK(st.st_mode):
            real = os.path.realpath(path)
            if os.path.dirname(real) != os.path.realpath(folder):
                raise Damaged("it is a link to a file outside its folder")
            path, st = Path(real), os.lstat(real)
        if not stat.S_ISREG(st.st_mode):
            raise Damaged("it is not a regular file")
        check_size(st.st_size, limit, expected_size)
        fd = os.open(path, READ_FLAGS)
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):  # replaced between lstat and open
                raise Damaged("it is not a regular file")
            data = f.read(min(st.st_size, limit) + 1)
    except OSError as exc:
        raise Damaged(f"it cannot be read: {exc.strerror or exc}") from None
    check_size(len(data), limit, expected_size)
    return data


def check_size(size: int, limit: int, expected: int | None) -> None:
    if size > limit:
        raise Damaged(f"it is larger than the {limit // 2**20} MB allowed")
    if expected is not None and size != expected:
        raise Damaged(f"its size is {size} bytes where {expected} were saved")


def load_npz(data: bytes) -> dict[str, np.ndarray]:
    """The three arrays of a piece file, parsed without pickle and checked before allocating."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        if sorted(info.filename for info in infos) != sorted(f"{key}.npy" for key in ARRAYS):
            raise Damaged("it does not hold exactly the notes, tempos and time signatures")
        arrays = {}
        for info in infos:
            if info.file_size > len(data):  # a compressed member may not expand beyond the file
                raise Damaged("an array in it claims more bytes than the file has")
            with archive.open(info) as member:
                arrays[info.filename[: -len(".npy")]] = read_npy(member, info.file_size)
    notes, tempos, signatures = (arrays[key] for key in ARRAYS)
    if notes.ndim != 1 or notes.dtype.names is None:
        raise Damaged("its notes are not a list of structured records")
    if tempos.ndim != 1 or tempos.dtype != TEMPO_DTYPE:
        raise Damaged("its tempos are not a tempo map")
    if signatures.ndim != 1 or signatures.dtype != TIME_SIGNATURE_DTYPE:
        raise Damaged("its time signatures are not a list of time signatures")
    return {key: arrays[key] for key in ARRAYS}


def read_npy(member, size: int) -> np.ndarray:
    fmt = np.lib.format
    version = fmt.read_magic(member)
    if version == (1, 0):
        shape, fortran_order, dtype = fmt.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, fortran_order, dtype = fmt.read_array_header_2_0(member)
    else:
        shape, fortran_order, dtype = read_header_v3(member, version)
    if dtype.hasobject:
        raise Damaged("it holds Python objects, which are never loaded")
    if any(length < 0 for length in shape):
        raise Damaged("an array in it has a negative length")
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    if nbytes > size:
        raise Damaged("an array in it claims more bytes than it holds")
    raw = member.read(nbytes + 1)
    if len(raw) != nbytes:
        raise Damaged("an array in it is cut short or has bytes left over")
    if dtype.itemsize == 0:
        return np.empty(shape, dtype)
    flat = np.frombuffer(raw, dtype=dtype, count=count)
    return flat.reshape(shape, order="F" if fortran_order else "C").copy()


def read_header_v3(member, version: tuple[int, int]):
    """Format 3.0 (UTF-8 field names) has no public header reader; use numpy's own."""
    if version == (3, 0):
        for module_name in ("numpy.lib._format_impl", "numpy.lib.format"):
            with contextlib.suppress(ImportError):
                reader = getattr(importlib.import_module(module_name), "_read_array_header", None)
                if reader is not None:
                    return reader(member, version)
    raise Damaged(f"an array in it has an unknown format version {version}")


def entry_field(entry: dict, key: str, kind: type, *, optional: bool = False):
    if key not in entry:
        raise Damaged(f"it has no {key}")
    value = entry[key]
    if optional and value is None:
        return None
    # bool is an int to Python, but a JSON true is not a number of ticks
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Damaged(f"its {key} is not {_KIND_NAMES[kind]}")
    return value


_KIND_NAMES = {str: "text", int: "a whole number", bool: "true or false", dict: "a JSON object"}


def move_aside(path: Path, aside: Path) -> Path:
    """Move `path` (a file, link or FIFO, never followed) into the folder `aside`, under a name
    not taken there; returns where it went. OSError when it cannot be moved (it then stays)."""
    aside.mkdir(exist_ok=True)
    return _free_name(aside, path.name, lambda target: os.rename(path, target))


def write_aside(name: str, data: bytes, aside: Path) -> Path:
    """Write `data` as a new file `name` (or a free name like it) in the folder `aside`."""
    aside.mkdir(exist_ok=True)

    def write(target: Path) -> None:
        with open(target, "xb") as f:  # never replaces what an earlier set-aside left
            f.write(data)

    return _free_name(aside, name, write)


def _free_name(folder: Path, name: str, put) -> Path:
    stem, dot, suffix = name.partition(".")
    for counter in range(1, 1000):
        target = folder / (name if counter == 1 else f"{stem}-{counter}{dot}{suffix}")
        if os.path.lexists(target):
            continue
        try:
            put(target)
        except FileExistsError:
            continue
        return target
    raise FileExistsError(errno.EEXIST, f"no free name for {name} in {folder}")


def title_of(entry: object, index: int) -> str:
    title = entry.get("title") if isinstance(entry, dict) else None
    if isinstance(title, str) and title:
        return f"“{title[:200]}”"
    return f"piece {index + 1}"
