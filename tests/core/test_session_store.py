"""The autosave store (composer/core/session/) and FolderLock (composer/core/files/filelock.py).

Real files in tmp_path, real processes for locks and kills; every load of a damaged folder runs
under a time limit, so a FIFO or a deep JSON file fails the test rather than hanging it."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from composer.core.files.filelock import FolderLock, LockedError, read_lock_owner
from composer.core.midi.piece import NOTE_DTYPE, TIME_SIGNATURE_DTYPE, make_notes, make_tempos
from composer.core.session import (
    SESSION_FILE,
    SET_ASIDE,
    SavedPiece,
    Session,
    SessionError,
    SessionStore,
)
from composer.core.session.store import _save_error

REPO = Path(__file__).resolve().parents[2]
POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and FIFOs")


def make_piece(title: str, n: int = 20, seed: int = 0, **kwargs) -> SavedPiece:
    rng = np.random.default_rng(seed)
    start = np.sort(rng.integers(0, 10_000, n))
    notes = make_notes(start, start + rng.integers(1, 500, n), rng.integers(21, 109, n), 90)
    signatures = np.array([(0, 4, 4), (1920, 3, 4)], dtype=TIME_SIGNATURE_DTYPE)
    return SavedPiece(
        title=title,
        notes=notes,
        ticks_per_beat=480,
        tempos=make_tempos([(0, 500_000), (960, 400_000 + seed)]),
        time_signatures=signatures,
        **kwargs,
    )


def assert_same(restored: SavedPiece, saved: SavedPiece) -> None:
    for name in ("notes", "tempos", "time_signatures"):
        a, b = getattr(restored, name), getattr(saved, name)
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), name
        assert a.flags.writeable, name
    for name in (
        "title",
        "ticks_per_beat",
        "source",
        "export_path",
        "modified",
        "metadata",
        "view",
    ):
        assert getattr(restored, name) == getattr(saved, name), name


def within(fn, seconds: float = 30):
    """fn() in a daemon thread; fails the test if it has not returned after `seconds`."""
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test below
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{fn} did not return within {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["value"]


def saved_slot(root: Path, *pieces: SavedPiece) -> Path:
    """A closed slot under root holding `pieces`; returns its folder."""
    session = SessionStore(root).open()
    session.save(list(pieces), 0)
    session.close(keep=True)
    return session.folder


def reopen(root: Path) -> Session:
    return within(lambda: SessionStore(root).open())


def piece_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.npz"))


def entries(folder: Path) -> list[dict]:
    return json.loads((folder / SESSION_FILE).read_text())["pieces"]


def rewrite_session(folder: Path, change) -> None:
    document = json.loads((folder / SESSION_FILE).read_text())
    change(document)
    (folder / SESSION_FILE).write_text(json.dumps(document))


def plant_piece_file(folder: Path, index: int, data: bytes) -> None:
    """Replace piece `index`'s file by `data`, with session.json's checksum and size to match, as
    someone crafting a hostile folder would."""
    name = entries(folder)[index]["file"]
    (folder / name).write_bytes(data)

    def change(document):
        document["pieces"][index]["sha256"] = hashlib.sha256(data).hexdigest()
        document["pieces"][index]["size"] = len(data)

    rewrite_session(folder, change)


# --- saving and restoring --------------------------------------------------------------------------
def test_round_trip_of_two_pieces(tmp_path):
    # any structured notes dtype will do, not only NOTE_DTYPE
    wide = np.dtype(
        [("start", "<i8"), ("end", "<i8"), ("pitch", "u1"), ("velocity", "u1"), ("track", "<u2")]
    )
    notes = np.zeros(5, dtype=wide)
    notes["start"], notes["end"], notes["pitch"], notes["track"] = range(5), range(1, 6), 60, 3
    notes["velocity"] = 64
    first = make_piece(
        "Variation 1",
        source="/music/in.mid",
        export_path="/music/out.mid",
        modified=True,
        metadata={"seed": 7, "temperature": 0.9, "model": "run-3", "nested": {"a": [1, 2, None]}},
        view={"zoom": 1.25, "scroll_x": 1200, "scroll_y": -3.5},
    )
    second = make_piece("Ünïcode ♪", seed=1)
    second.notes = notes
    empty = SavedPiece("Empty", np.zeros(0, NOTE_DTYPE), 96, make_tempos(), first.time_signatures)

    session = SessionStore(tmp_path / "sessions").open()
    assert session.pieces == [] and session.warnings == [] and session.current == 0
    session.save([first, second, empty], current=1)
    session.close(keep=True)
    assert session.closed

    restored = reopen(tmp_path / "sessions")
    assert restored.folder == session.folder and restored.warnings == []
    assert restored.current == 1 and len(restored.pieces) == 3
    for got, want in zip(restored.pieces, [first, second, empty]):
        assert_same(got, want)
    restored.close(keep=True)


def test_unchanged_pieces_are_not_rewritten(tmp_path):
    a, b = make_piece("A", seed=1), make_piece("B", seed=2)
    session = SessionStore(tmp_path).open()
    session.save([a, b], 0)
    stats = {p.name: p.stat() for p in piece_files(session.folder)}
    assert len(stats) == 2

    session.save([a, b], 1)
    again = {p.name: p.stat() for p in piece_files(session.folder)}
    assert {n: (s.st_ino, s.st_mtime_ns) for n, s in again.items()} == {
        n: (s.st_ino, s.st_mtime_ns) for n, s in stats.items()
    }

    b.notes = b.notes[:-1]  # an edit: only B's file changes, and its old file goes
    session.save([a, b], 1)
    after = {p.name: p.stat() for p in piece_files(session.folder)}
    [a_name] = set(after) & set(stats)
    assert (after[a_name].st_ino, after[a_name].st_mtime_ns) == (
        stats[a_name].st_ino,
        stats[a_name].st_mtime_ns,
    )
    assert len(after) == 2
    session.close(keep=True)

    # a restored session knows its files are good: saving them again rewrites nothing
    restored = reopen(tmp_path)
    restored.save(restored.pieces, 0)
    assert {p.name: p.stat().st_ino for p in piece_files(restored.folder)} == {
        n: s.st_ino for n, s in after.items()
    }
    restored.close(keep=True)


def test_two_apps_get_two_slots_and_a_closed_slot_comes_back(tmp_path):
    store = SessionStore(tmp_path)
    first = store.open()
    first.save([make_piece("first")], 0)
    second = store.open()  # while the first app runs
    assert second.folder != first.folder and second.pieces == []
    second.save([make_piece("second", seed=5)], 0)

    with pytest.raises(LockedError) as locked:
        FolderLock(first.folder).acquire()
    assert locked.value.owner_pid == os.getpid() and locked.value.path == first.folder
    assert f"in use by another Composer (process {os.getpid()})" in str(locked.value)

    first.close(keep=True)
    third = store.open()  # the next launch picks up the first app's pieces
    assert third.folder == first.folder
    assert [p.title for p in third.pieces] == ["first"]
    fourth = store.open()  # the second slot is still locked: a new, empty one
    assert fourth.folder not in (first.folder, second.folder) and fourth.pieces == []
    for session in (second, third, fourth):
        session.close(keep=True)


def test_a_slot_holding_a_session_is_preferred_to_an_empty_one(tmp_path):
    store = SessionStore(tmp_path)
    one, two = store.open(), store.open()
    two.save([make_piece("kept")], 0)
    one.close(keep=True)  # slot 1: empty, unlocked
    two.close(keep=True)  # slot 2: a saved session, unlocked
    session = store.open()
    assert session.folder == two.folder and [p.title for p in session.pieces] == ["kept"]
    session.close(keep=True)


_CHILD = """
import sys, time
from pathlib import Path
from composer.core.session import SessionStore
from tests.core.test_session_store import make_piece

session = SessionStore(Path(sys.argv[1])).open()
session.save([make_piece("survivor", 50, 3), make_piece("other", 5, 4)], 1)
print(session.folder, flush=True)
time.sleep(600)
"""


@POSIX_ONLY
def test_session_of_a_killed_app_is_restored(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        folder = Path(within(child.stdout.readline, 120).strip())
        assert folder.parent == tmp_path, child.stderr.read() if child.poll() is not None else ""
        with pytest.raises(LockedError) as locked:  # held by the live child
            FolderLock(folder).acquire()
        assert locked.value.owner_pid == child.pid
        assert f"(process {child.pid})" in str(locked.value)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    assert read_lock_owner(folder / ".lock")[0] == child.pid  # the dead owner's file is still there

    session = reopen(tmp_path)  # ...but its lock died with it
    assert session.folder == folder and session.warnings == []
    assert session.current == 1
    assert_same(session.pieces[0], make_piece("survivor", 50, 3))
    assert_same(session.pieces[1], make_piece("other", 5, 4))
    session.close(keep=True)


_FULL_DISK_CHILD = """
import json, resource, signal, sys
from pathlib import Path
from composer.core.session import SessionError, SessionStore
from tests.core.test_session_store import make_piece

session = SessionStore(Path(sys.argv[1])).open()
session.save([make_piece("small", 10, 1)], 0)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
try:
    session.save([make_piece("small", 10, 1), make_piece("big", 50_000, 2)], 1)
except SessionError as exc:
    print(json.dumps({"message": str(exc), "errno": exc.errno, "folder": str(session.folder)}))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_failed_save_raises_one_sentence_and_keeps_the_previous_session(tmp_path):
    # A file size limit makes writes fail as a full disk would, without filling a real disk.
    result = subprocess.run(
        [sys.executable, "-c", _FULL_DISK_CHILD, str(tmp_path)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["errno"] == errno.EFBIG
    assert (
        report["folder"] in report["message"] and "previous autosave is kept" in report["message"]
    )
    assert "\n" not in report["message"]

    session = reopen(tmp_path)
    assert session.warnings == [] and [p.title for p in session.pieces] == ["small"]
    assert len(piece_files(session.folder)) == 1  # the big piece's file was removed
    assert not list(session.folder.glob(".*.tmp"))
    session.close(keep=True)


def test_a_full_disk_message_names_the_folder_and_the_fix(tmp_path):
    error = _save_error(tmp_path, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
    assert isinstance(error, SessionError) and error.errno == errno.ENOSPC
    assert str(error) == (
        f"Could not autosave the open pieces in {tmp_path} (the disk is full; free some space "
        "on it); the previous autosave is kept"
    )


def test_close_without_keeping_leaves_nothing_behind(tmp_path):
    root = tmp_path / "sessions"
    session = SessionStore(root).open()
    session.save([make_piece("a"), make_piece("b", seed=1)], 0)
    session.close(keep=False)
    assert list(root.iterdir()) == []
    fresh = reopen(root)
    assert fresh.pieces == [] and fresh.warnings == []
    fresh.close(keep=False)
    assert list(root.iterdir()) == []


def test_saving_a_closed_session_or_a_bad_piece_raises(tmp_path):
    session = SessionStore(tmp_path).open()
    good = make_piece("good")
    session.save([good], 0)
    bad = make_piece("bad", metadata={"x": object()})
    with pytest.raises(TypeError, match="JSON-safe"):
        session.save([good, bad], 0)
    bad = make_piece("bad")
    bad.notes = np.array([(0, None)], dtype=[("start", "<i8"), ("obj", "O")])
    with pytest.raises(TypeError, match="without objects"):
        session.save([good, bad], 0)
    assert len(piece_files(session.folder)) == 1  # nothing written for the refused saves
    session.close(keep=True)
    with pytest.raises(ValueError, match="closed"):
        session.save([good], 0)


# --- damaged and hostile folders ------------------------------------------------------------------
def test_corrupted_piece_bytes_give_a_warning_and_the_other_piece(tmp_path):
    folder = saved_slot(tmp_path, make_piece("bad"), make_piece("good", seed=1))
    path = folder / entries(folder)[0]["file"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    session = reopen(tmp_path)
    assert [p.title for p in session.pieces] == ["good"]
    [warning] = session.warnings
    assert "“bad”" in warning and str(path) in warning and "checksum" in warning
    session.close(keep=True)


def test_truncated_session_file_is_kept_aside(tmp_path):
    folder = saved_slot(tmp_path, make_piece("a"))
    text = (folder / SESSION_FILE).read_bytes()
    (folder / SESSION_FILE).write_bytes(text[: len(text) // 2])
    piece_file = piece_files(folder)  # its piece's file, which no entry names now

    session = reopen(tmp_path)
    assert session.pieces == [] and session.folder == folder
    [warning] = session.warnings
    assert str(folder / SESSION_FILE) in warning and "starts empty" in warning
    [aside] = folder.glob(f"{SESSION_FILE}.damaged-*")
    assert aside.read_bytes() == text[: len(text) // 2]  # nothing lost
    assert aside.name in warning
    session.save([make_piece("new")], 0)  # and the slot works again
    session.close(keep=True)
    assert [p.title for p in reopen(tmp_path).pieces] == ["new"]
    assert str(folder / SET_ASIDE) in warning  # the piece file was not deleted, but kept there
    assert [p.name for p in (folder / SET_ASIDE).glob("*.npz")] == [p.name for p in piece_file]


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_json_nested_a_million_levels_gives_a_warning(tmp_path, opening):
    folder = saved_slot(tmp_path, make_piece("a"))
    closing = "]" if opening == "[" else "}"
    (folder / SESSION_FILE).write_text(opening * 1_000_000 + "1" + closing * 1_000_000)
    session = reopen(tmp_path)
    assert session.pieces == []
    [warning] = session.warnings
    assert "nested too deeply" in warning and str(folder / SESSION_FILE) in warning
    session.close(keep=True)


def test_oversized_session_file_gives_a_warning(tmp_path):
    folder = saved_slot(tmp_path, make_piece("a"))
    with open(folder / SESSION_FILE, "r+b") as f:
        f.truncate(17 * 1024 * 1024)  # sparse: no 17 MB written
    session = reopen(tmp_path)
    assert session.pieces == [] and "larger than" in session.warnings[0]
    session.close(keep=True)


@POSIX_ONLY
def test_fifo_named_like_a_piece_file_gives_a_warning(tmp_path):
    folder = saved_slot(tmp_path, make_piece("fifo"), make_piece("good", seed=1))
    path = folder / entries(folder)[0]["file"]
    path.unlink()
    os.mkfifo(path)
    session = reopen(tmp_path)  # opening a FIFO to read would wait for a writer forever
    assert [p.title for p in session.pieces] == ["good"]
    [warning] = session.warnings
    assert str(path) in warning and "not a regular file" in warning
    session.close(keep=True)


@POSIX_ONLY
def test_fifo_named_session_json_gives_a_warning(tmp_path):
    folder = saved_slot(tmp_path, make_piece("a"))
    (folder / SESSION_FILE).unlink()
    os.mkfifo(folder / SESSION_FILE)
    session = reopen(tmp_path)
    assert session.pieces == [] and "not a regular file" in session.warnings[0]
    session.close(keep=True)


@POSIX_ONLY
def test_links_out_of_the_folder_are_refused_and_links_within_it_followed(tmp_path):
    root = tmp_path / "sessions"
    folder = saved_slot(root, make_piece("outside"), make_piece("inside", seed=1))
    outside, inside = (folder / e["file"] for e in entries(folder))
    stolen = tmp_path / "elsewhere.npz"
    outside.rename(stolen)
    outside.symlink_to(stolen)
    inside.rename(folder / "real.bin")
    inside.symlink_to("real.bin")
    session = reopen(root)
    assert [p.title for p in session.pieces] == ["inside"]
    [warning] = session.warnings
    assert str(outside) in warning and "outside its folder" in warning
    session.close(keep=True)


def test_missing_piece_file_gives_a_warning(tmp_path):
    folder = saved_slot(tmp_path, make_piece("gone"), make_piece("good", seed=1))
    (folder / entries(folder)[0]["file"]).unlink()
    session = reopen(tmp_path)
    assert [p.title for p in session.pieces] == ["good"]
    assert "missing" in session.warnings[0] and "“gone”" in session.warnings[0]
    session.close(keep=True)


MISSING = object()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("title", 5),
        ("ticks_per_beat", "480"),
        ("ticks_per_beat", True),
        ("ticks_per_beat", 0),
        ("metadata", []),
        ("modified", "yes"),
        ("source", 3),
        ("file", "../../../../etc/passwd"),
        ("sha256", MISSING),
        ("size", -1),
        ("lengths", {"notes": 20}),
        ("lengths", {"notes": 19, "tempos": 2, "time_signatures": 2}),
        ("file", MISSING),
        ("title", MISSING),
    ],
)
def test_wrong_types_in_a_piece_entry_give_a_warning(tmp_path, key, value):
    folder = saved_slot(tmp_path, make_piece("good", seed=1), make_piece("bad"))

    def change(document):
        entry = document["pieces"][1]
        if value is MISSING:
            del entry[key]
        else:
            entry[key] = value

    rewrite_session(folder, change)
    session = reopen(tmp_path)
    assert [p.title for p in session.pieces] == ["good"]
    [warning] = session.warnings
    assert warning.startswith("Could not restore ") and warning.endswith(".")
    assert (key in warning or key.replace("_", " ") in warning) and str(folder) in warning
    session.close(keep=True)


@pytest.mark.parametrize(
    ("change", "titles", "warnings"),
    [
        (lambda d: d.update(pieces={}), [], 1),
        (lambda d: d.update(format="something else"), [], 1),
        (lambda d: d.update(version="1"), [], 1),
        (lambda d: d.update(version=99), [], 1),  # a newer Composer's file is kept aside too
        (lambda d: d.clear(), [], 1),
        (lambda d: d["pieces"].extend([None, 3, "x", [], {}]), ["a"], 5),
        (lambda d: d.update(current="first"), ["a"], 0),  # the first tab, as a default
        (lambda d: d.update(current=10**30), ["a"], 0),
    ],
)
def test_wrong_types_in_session_json_give_warnings_not_exceptions(
    tmp_path, change, titles, warnings
):
    folder = saved_slot(tmp_path, make_piece("a"))
    rewrite_session(folder, change)
    session = reopen(tmp_path)
    assert [p.title for p in session.pieces] == titles and session.current == 0
    assert len(session.warnings) == warnings
    assert all(str(folder) in w and w.endswith(".") for w in session.warnings)
    assert len(list(folder.glob(f"{SESSION_FILE}.damaged-*"))) == (0 if titles else 1)
    session.close(keep=True)


def test_top_level_not_an_object_is_kept_aside(tmp_path):
    folder = saved_slot(tmp_path, make_piece("a"))
    (folder / SESSION_FILE).write_text("[1, 2, 3]")
    session = reopen(tmp_path)
    assert session.pieces == [] and "not a Composer session file" in session.warnings[0]
    assert len(list(folder.glob(f"{SESSION_FILE}.damaged-*"))) == 1
    session.close(keep=True)


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _npy_with_header(shape, descr="<i8") -> bytes:
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header


def _hostile_archives() -> dict[str, bytes]:
    good = make_piece("x")
    arrays = {"notes": good.notes, "tempos": good.tempos, "time_signatures": good.time_signatures}
    objects = np.array([1, "two", None], dtype=object)
    huge = io.BytesIO()
    with zipfile.ZipFile(huge, "w") as archive:
        archive.writestr("notes.npy", _npy_with_header((10**12,), NOTE_DTYPE.descr))
        archive.writestr("tempos.npy", _npy_with_header((1,)))
        archive.writestr("time_signatures.npy", _npy_with_header((1,)))
    return {
        "objects": _npz(**{**arrays, "notes": objects}),
        "wrong tempo dtype": _npz(**{**arrays, "tempos": np.zeros(2)}),
        "extra member": _npz(**arrays, extra=np.zeros(1)),
        "missing member": _npz(notes=good.notes, tempos=good.tempos),
        "huge shape": huge.getvalue(),
        "not a zip": b"PK\x03\x04" + b"\x00" * 100,
    }


@pytest.mark.parametrize("kind", list(_hostile_archives()))
def test_hostile_piece_files_with_matching_checksums_give_warnings(tmp_path, kind):
    folder = saved_slot(tmp_path, make_piece("hostile"), make_piece("good", seed=1))
    plant_piece_file(folder, 0, _hostile_archives()[kind])
    session = reopen(tmp_path)
    assert [p.title for p in session.pieces] == ["good"]
    [warning] = session.warnings
    assert "“hostile”" in warning and str(folder / entries(folder)[0]["file"]) in warning
    session.close(keep=True)


def test_current_tab_follows_the_restored_pieces(tmp_path):
    folder = saved_slot(tmp_path, *(make_piece(t, seed=i) for i, t in enumerate("abc")))
    rewrite_session(folder, lambda d: d.update(current=2))
    (folder / entries(folder)[0]["file"]).unlink()  # "a" is lost: "c" is now tab 1
    session = reopen(tmp_path)
    assert [p.title for p in session.pieces] == ["b", "c"] and session.current == 1
    session.close(keep=True)


def test_leftover_temporary_files_are_removed_by_the_next_save(tmp_path):
    folder = saved_slot(tmp_path, make_piece("a"))
    (folder / f".{SESSION_FILE}.abc123_x.tmp").write_bytes(b"half")
    session = reopen(tmp_path)
    session.save(session.pieces, 0)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [".lock", SESSION_FILE, entries(folder)[0]["file"]]
    )
    session.close(keep=True)


# --- nothing that was not understood is deleted (issue 25) -------------------------------------------
def test_a_piece_with_one_bad_field_is_set_aside_and_never_deleted(tmp_path):
    folder = saved_slot(tmp_path, make_piece("good", seed=1), make_piece("bad", metadata={"k": 1}))
    name = entries(folder)[1]["file"]
    data = (folder / name).read_bytes()
    rewrite_session(folder, lambda d: d["pieces"][1].update(modified="yes"))
    entry = entries(folder)[1]

    session = reopen(tmp_path)
    assert [p.title for p in session.pieces] == ["good"]
    [warning] = session.warnings
    aside = folder / SET_ASIDE
    assert "“bad”" in warning and "modified" in warning and str(aside) in warning
    session.save(session.pieces, 0)  # the autosave that used to delete the intact file
    session.close(keep=False)  # and closing with nothing left open
    assert (aside / name).read_bytes() == data
    assert json.loads((aside / name.replace(".npz", ".json")).read_text()) == entry


def test_swapped_piece_files_are_found_by_their_checksums(tmp_path):
    a, b = make_piece("a", n=30), make_piece("b", n=30, seed=1)  # files of the same size
    folder = saved_slot(tmp_path, a, b)
    file_a, file_b = (folder / e["file"] for e in entries(folder))
    bytes_a, bytes_b = file_a.read_bytes(), file_b.read_bytes()
    file_a.write_bytes(bytes_b)
    file_b.write_bytes(bytes_a)

    session = reopen(tmp_path)
    assert session.warnings == []
    assert_same(session.pieces[0], a)
    assert_same(session.pieces[1], b)
    session.save(session.pieces, 0)  # each goes back under its own name
    session.close(keep=True)
    assert sorted(piece_files(folder)) == sorted([file_a, file_b])
    session = reopen(tmp_path)
    assert session.warnings == [] and [p.title for p in session.pieces] == ["a", "b"]
    assert_same(session.pieces[0], a)
    session.close(keep=True)


def test_a_save_killed_while_swapped_files_move_loses_neither(tmp_path):
    a, b = make_piece("a", n=30), make_piece("b", n=30, seed=1)
    folder = saved_slot(tmp_path, a, b)
    file_a, file_b = (folder / e["file"] for e in entries(folder))
    bytes_a, bytes_b = file_a.read_bytes(), file_b.read_bytes()
    file_a.write_bytes(bytes_b)
    file_b.write_bytes(bytes_a)
    before = (folder / SESSION_FILE).read_bytes()
    session = reopen(tmp_path)
    session.save(session.pieces, 0)
    session.close(keep=True)
    # As if killed after a's file was written and before session.json: a's new bytes are in
    # place, b's are in the file moved out of a's way, and session.json is the old one.
    (folder / SESSION_FILE).write_bytes(before)
    (folder / f".{file_a.name}.displaced1.tmp").write_bytes(bytes_b)
    file_b.write_bytes(bytes_a)

    session = reopen(tmp_path)
    # a's new file, which no entry's checksum matches, is kept aside rather than trusted
    assert all("Could not restore" not in w for w in session.warnings)
    assert_same(session.pieces[0], a)
    assert_same(session.pieces[1], b)
    session.close(keep=True)


def test_pieces_another_window_left_join_the_next_start(tmp_path):
    store = SessionStore(tmp_path)
    first, second = store.open(), store.open()  # two windows at once
    first.save([make_piece("first")], 0)
    second.save([make_piece("second", seed=5), make_piece("third", seed=6)], 1)
    first.close(keep=True)
    second.close(keep=True)

    session = store.open()  # one window starts
    assert session.folder == first.folder and session.current == 0
    assert [p.title for p in session.pieces] == ["first", "second", "third"]
    assert session.merged == [(second.folder, 2)] and session.warnings == []
    assert (second.folder / SESSION_FILE).exists()  # kept until a save here holds its pieces
    session.save(session.pieces, 0)
    assert not (second.folder / SESSION_FILE).exists() and piece_files(second.folder) == []
    session.close(keep=True)
    again = store.open()
    assert [p.title for p in again.pieces] == ["first", "second", "third"] and not again.merged
    again.close(keep=True)


def test_a_window_that_closes_without_saving_leaves_the_other_slot_as_it_was(tmp_path):
    store = SessionStore(tmp_path)
    first, second = store.open(), store.open()
    first.save([make_piece("first")], 0)
    second.save([make_piece("second", seed=5)], 0)
    first.close(keep=True)
    second.close(keep=True)
    store.open().close(keep=True)  # started and closed before any save
    session = store.open()
    assert [p.title for p in session.pieces] == ["first", "second"]
    session.close(keep=True)


def test_view_values_that_are_not_finite_numbers_are_left_out(tmp_path):
    folder = saved_slot(tmp_path, make_piece("a", view={"key_height": 12}))
    view = {"key_height": 12, "left_tick": 10**400, "top_pitch": float("nan"), "zoom": "big"}
    rewrite_session(folder, lambda d: d["pieces"][0].update(view=view))
    session = reopen(tmp_path)
    assert session.warnings == [] and session.pieces[0].view == {"key_height": 12}
    session.close(keep=True)


def _with_notes(piece: SavedPiece, **columns) -> SavedPiece:
    notes = piece.notes.copy()
    for name, value in columns.items():
        notes[name][3] = value
    piece.notes = notes
    return piece


APP_NOTES = np.dtype(
    [("start", "<i8"), ("end", "<i8"), ("pitch", "<i2"), ("velocity", "<i2"), ("program", "<i2")]
)


def _app_piece(title: str, **columns) -> SavedPiece:
    piece = make_piece(title, seed=2)
    notes = np.zeros(len(piece.notes), APP_NOTES)
    for name in NOTE_DTYPE.names:
        notes[name] = piece.notes[name]
    piece.notes = notes
    return _with_notes(piece, **columns)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: _app_piece("p", pitch=32767), "pitch outside MIDI's 0 to 127"),
        (lambda: _app_piece("p", velocity=32767), "velocity outside MIDI's 1 to 127"),
        (lambda: _app_piece("p", program=32767), "program outside MIDI's 0 to 127"),
        (lambda: _app_piece("p", start=-5), "start before the beginning"),
        (lambda: _app_piece("p", end=0), "end before they start"),
        (lambda: make_piece("p"), "lack the fields program"),  # other fields than the app's
        (
            lambda: SavedPiece("p", np.zeros(2, [("a", "<i8")]), 480, make_tempos(), _SIGNATURES),
            "lack",
        ),
        (lambda: SavedPiece("p", _APP_NONE, 480, make_tempos([(0, 0)]), _SIGNATURES), "tempo"),
        (lambda: SavedPiece("p", _APP_NONE, 480, make_tempos(), _ZERO_METRE), "signature of 4/0"),
        (lambda: SavedPiece("p", _APP_NONE, 480, make_tempos(), _metre(300, 4)), "of 300/4"),
        (lambda: SavedPiece("p", _APP_NONE, 480, make_tempos(), _metre(3, 3)), "of 3/3"),
        (lambda: _app_piece("p", end=2**50), "end later than Composer can place"),
        (
            lambda: SavedPiece("p", _APP_NONE, 480, make_tempos([(2**50, 1)]), _SIGNATURES),
            "tempo map changes later",
        ),
    ],
)
def test_pieces_midi_cannot_hold_are_set_aside(tmp_path, make, words):
    folder = saved_slot(tmp_path, _app_piece("good"), make())
    name = entries(folder)[1]["file"]
    session = within(lambda: SessionStore(tmp_path, notes_dtype=APP_NOTES).open())
    assert [p.title for p in session.pieces] == ["good"]
    assert session.pieces[0].notes.dtype == APP_NOTES
    [warning] = session.warnings
    assert words in warning and str(folder / name) in warning and str(folder / SET_ASIDE) in warning
    assert (folder / SET_ASIDE / name).exists()
    session.close(keep=True)


_SIGNATURES = np.array([(0, 4, 4)], dtype=TIME_SIGNATURE_DTYPE)
_ZERO_METRE = np.array([(0, 4, 0)], dtype=TIME_SIGNATURE_DTYPE)


def _metre(numerator: int, denominator: int) -> np.ndarray:
    return np.array([(0, 4, 4), (1920, numerator, denominator)], dtype=TIME_SIGNATURE_DTYPE)


_APP_NONE = np.zeros(0, APP_NOTES)


def test_a_resolution_midi_cannot_hold_is_refused_on_saving_and_set_aside_on_restoring(tmp_path):
    fine = make_piece("fine")
    fine.ticks_per_beat = 40_000
    with pytest.raises(ValueError, match="32767 ticks per beat"):
        saved_slot(tmp_path / "refused", fine)
    folder = saved_slot(tmp_path, make_piece("good", seed=1), make_piece("fine"))
    rewrite_session(folder, lambda d: d["pieces"][1].update(ticks_per_beat=40_000))
    session = reopen(tmp_path)
    assert [p.title for p in session.pieces] == ["good"]
    [warning] = session.warnings
    assert "resolution of 40,000 ticks per beat" in warning and "32767" in warning
    session.close(keep=True)


def test_piece_files_no_entry_names_are_set_aside(tmp_path):
    folder = saved_slot(tmp_path, make_piece("a"))
    stray = folder / ("f" * 64 + ".npz")
    stray.write_bytes(b"someone's piece")
    session = reopen(tmp_path)
    assert [p.title for p in session.pieces] == ["a"]
    [warning] = session.warnings
    assert "1 piece file no entry names is kept in" in warning and str(folder) in warning
    session.save(session.pieces, 0)
    session.close(keep=False)
    assert (folder / SET_ASIDE / stray.name).read_bytes() == b"someone's piece"


# --- FolderLock -------------------------------------------------------------------------------------
def test_folder_lock_is_exclusive_and_released(tmp_path):
    folder = tmp_path / "run"
    with FolderLock(folder) as lock:
        assert lock.held and folder.is_dir()
        assert read_lock_owner(lock.lock_file)[0] == os.getpid()
        other = FolderLock(folder)
        with pytest.raises(LockedError) as locked:
            other.acquire()
        assert locked.value.path == folder and not other.held
        assert str(locked.value).startswith(f"{folder} is in use by another Composer (process ")
    assert not lock.held
    other.acquire()  # free again
    other.release(remove=True)
    assert not (folder / ".lock").exists()
    with pytest.raises(OSError, match="does not exist"):
        FolderLock(tmp_path / "missing", create=False).acquire()


@POSIX_ONLY
def test_folder_lock_refuses_a_lock_file_that_is_not_a_regular_file(tmp_path):
    os.mkfifo(tmp_path / ".lock")
    with pytest.raises(OSError, match="not a regular file"):
        within(FolderLock(tmp_path).acquire)
