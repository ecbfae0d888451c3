"""The token cache never holds wrong data: files that change or vanish while ingest reads them,
damaged packs, hostile indexes, special files and huge files (issue 16)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from composer.core.corpus import TokenCache, ingest
from composer.core.corpus.cache import COMPACT_AFTER_PACKS, PACK_KEY
from composer.core.corpus.ingest import CHANGED_REASON
from composer.core.corpus.worker import tokenize_file
from composer.core.midi import read_midi
from composer.core.tokens import TokenizerConfig, Vocabulary, encode
from tests.conftest import corpus

CONFIG = TokenizerConfig()


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "songs"
    folder.mkdir()
    for path in sorted(corpus("bach_chorales").glob("*.mid"))[:4]:
        shutil.copy(path, folder / path.name)
    return folder


def _fresh(path) -> np.ndarray:
    return encode(read_midi(path), Vocabulary(CONFIG))


def _every_entry_is_a_fresh_parse(folder, cache_root) -> None:
    """The invariant: each file's cached tokens equal a parse of the file as it is now."""
    report = ingest(folder, cache_root, CONFIG, jobs=0)
    cache = TokenCache(cache_root, CONFIG)
    for entry in report.entries:
        sha = hashlib.sha256(Path(entry.path).read_bytes()).hexdigest()
        assert entry.sha == sha
        assert np.array_equal(np.asarray(cache.tokens(sha)), _fresh(entry.path)), entry.path


def test_a_file_replaced_while_ingest_reads_it_is_never_filed_under_the_old_content(
    folder, tmp_path
):
    victim = sorted(folder.glob("*.mid"))[1]
    old_sha = hashlib.sha256(victim.read_bytes()).hexdigest()
    other = sorted(corpus("bach_chorales").glob("*.mid"))[10]

    def replacing_worker(path, config_json):
        if path == str(victim):  # hashed already; now another piece takes its place
            shutil.copy(other, victim)
        return tokenize_file(path, config_json)

    report = ingest(folder, tmp_path / "cache", CONFIG, jobs=0, worker=replacing_worker)
    failed = {f.path: f.reason for f in report.failed}
    assert failed == {str(victim): CHANGED_REASON}
    cache = TokenCache(tmp_path / "cache", CONFIG)
    assert cache.get(old_sha) is None  # nothing filed under the content it no longer has
    _every_entry_is_a_fresh_parse(folder, tmp_path / "cache")  # and next time it is read right


def test_a_file_deleted_while_ingest_reads_it_is_not_remembered_as_unreadable(folder, tmp_path):
    victim = sorted(folder.glob("*.mid"))[2]
    kept = victim.read_bytes()

    def deleting_worker(path, config_json):
        if path == str(victim):
            victim.unlink()
        return tokenize_file(path, config_json)

    report = ingest(folder, tmp_path / "cache", CONFIG, jobs=0, worker=deleting_worker)
    assert [f.path for f in report.failed] == [str(victim)]
    assert "could not be read" in report.failed[0].reason
    victim.write_bytes(kept)  # it comes back
    again = ingest(folder, tmp_path / "cache", CONFIG, jobs=0)
    assert again.failed == [] and again.ok == 4


def _pack(cache_root):
    cache = TokenCache(cache_root, CONFIG)
    [index] = sorted((cache.dir / "packs").glob("*.json"))
    return index, index.with_suffix(".tokens")


def test_a_pack_with_scrambled_tokens_is_dropped_and_read_again_and_said_once(folder, tmp_path):
    ingest(folder, tmp_path / "cache", CONFIG, jobs=0)
    _, tokens = _pack(tmp_path / "cache")
    tokens.write_bytes(np.frombuffer(tokens.read_bytes(), np.uint16)[::-1].tobytes())
    report = ingest(folder, tmp_path / "cache", CONFIG, jobs=0)
    assert report.from_cache == 0 and report.ok == 4
    assert len(report.notices) == 1 and "damaged" in report.notices[0]
    _every_entry_is_a_fresh_parse(folder, tmp_path / "cache")


def test_token_ids_outside_the_vocabulary_are_refused_even_with_a_matching_checksum(
    folder, tmp_path
):
    ingest(folder, tmp_path / "cache", CONFIG, jobs=0)
    index, tokens = _pack(tmp_path / "cache")
    data = np.frombuffer(tokens.read_bytes(), np.uint16).copy()
    data[5] = 65535
    tokens.write_bytes(data.tobytes())
    entries = json.loads(index.read_text())
    entries[PACK_KEY]["sha256"] = hashlib.sha256(data.tobytes()).hexdigest()
    index.write_text(json.dumps(entries))
    report = ingest(folder, tmp_path / "cache", CONFIG, jobs=0)
    assert report.from_cache == 0 and report.notices
    _every_entry_is_a_fresh_parse(folder, tmp_path / "cache")


@pytest.mark.parametrize(
    "damage",
    [
        lambda entries, sha: entries[sha].update(offset="x"),
        lambda entries, sha: entries.__setitem__(sha, [1, 2]),
        lambda entries, sha: entries[sha].update(tokens=10**12),
        lambda entries, sha: entries.pop(PACK_KEY),  # a pack from before checksums
    ],
)
def test_a_malformed_pack_index_is_dropped_not_a_crash(folder, tmp_path, damage):
    ingest(folder, tmp_path / "cache", CONFIG, jobs=0)
    index, _ = _pack(tmp_path / "cache")
    entries = json.loads(index.read_text())
    damage(entries, next(k for k in entries if k != PACK_KEY))
    index.write_text(json.dumps(entries))
    _every_entry_is_a_fresh_parse(folder, tmp_path / "cache")


def test_a_damaged_or_hostile_folder_index_means_hash_again(folder, tmp_path):
    ingest(folder, tmp_path / "cache", CONFIG, jobs=0)
    [index] = (TokenCache(tmp_path / "cache", CONFIG).dir / "folders").glob("*.json")
    for text in ("[" * 200_000 + "]" * 200_000, '{"files": {"a.mid": [1, "x", 3]}}', "\0\0"):
        index.write_text(text)
        report = ingest(folder, tmp_path / "cache", CONFIG, jobs=0)
        assert report.ok == 4 and report.failed == []


def test_many_packs_are_compacted_into_one_without_losing_an_entry(folder, tmp_path):
    cache = TokenCache(tmp_path / "cache", CONFIG)
    cache.ensure()
    paths = sorted(folder.glob("*.mid"))
    for i in range(COMPACT_AFTER_PACKS + 3):  # one pack per ingest run, as ingest writes them
        path = paths[i % len(paths)]
        meta, tokens = tokenize_file(str(path), CONFIG.to_json())
        cache.put(meta.pop("sha") if i < len(paths) else f"{i:064x}", meta, tokens)
        cache.flush()
    (cache.dir / "packs" / "broken.json").write_text("{")
    before = {sha: np.asarray(cache.tokens(sha)).copy() for sha in cache._load()}
    reader = TokenCache(tmp_path / "cache", CONFIG)
    assert reader.compact() == COMPACT_AFTER_PACKS + 4  # every old pack and the broken one
    assert len(list((cache.dir / "packs").glob("*.json"))) == 1
    after = TokenCache(tmp_path / "cache", CONFIG)
    assert after.verify() == []
    for sha, tokens in before.items():
        assert np.array_equal(np.asarray(after.tokens(sha)), tokens)


def test_fifos_devices_and_huge_files_are_refused_without_reading_them(folder, tmp_path):
    os.mkfifo(folder / "y.mid")  # reading it would wait forever
    os.symlink("/dev/zero", folder / "x.mid")  # reading it would never end
    with open(folder / "huge.mid", "wb") as sparse:  # 2 GB of zeros, taking no disk space
        sparse.truncate(2 * 2**30)
    (folder / "sub").mkdir()
    (folder / "sub" / "folder.mid").mkdir()  # a folder named like a file: scan skips it
    for jobs in (0, 2):
        report = ingest(folder, tmp_path / f"cache{jobs}", CONFIG, jobs=jobs)
        failed = {os.path.basename(f.path): f.reason for f in report.failed}
        assert report.ok == 4, failed
        assert "named pipe" in failed["y.mid"] and "device" in failed["x.mid"]
        assert "2,048 MB" in failed["huge.mid"] and "remove it" in failed["huge.mid"]


def _children(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat_file:
                    fields = stat_file.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


@pytest.mark.slow
def test_sigterm_during_ingest_keeps_the_work_done_and_leaves_no_worker_behind(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    folder = tmp_path / "many"
    folder.mkdir()
    # Twelve thousand distinct small files (a tune and trailing bytes, as many copies of each as
    # the folder of tunes needs: 12 of the 1,034 Nottingham tunes, 1,000 of the 12 stand-ins):
    # several seconds of parsing, far longer than the wait below (symusic reads a tune in under
    # 1 ms).
    tunes = sorted(corpus("nottingham").glob("*.mid"))
    copies = -(-12_000 // len(tunes))
    for path in tunes:
        data = path.read_bytes()
        for extra in range(copies):
            (folder / f"{path.stem}-{extra}.mid").write_bytes(data + b"\0" * extra)
    command = [sys.executable, "-m", "composer", "ingest", str(folder), "--jobs", "2",
               "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(_children(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # the workers are parsing
    workers = _children(process.pid)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "stopped; the files read so far are kept in the cache" in err
    left = workers
    for _ in range(50):  # the pool's helper processes see the pipe close and exit
        left = [pid for pid in left if os.path.exists(f"/proc/{pid}")]
        if not left:
            break
        time.sleep(0.1)
    names = [Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ") for pid in left]
    assert not left, f"left behind: {names}"
    kept = TokenCache(tmp_path / "cache", CONFIG)
    assert kept.verify() == [] and len(kept._load()) > 0  # parsed work was flushed, not lost


@pytest.mark.parametrize(
    "damage",
    [
        lambda meta: meta.pop("notes"),  # issue 25: every ingest and training raised KeyError
        lambda meta: meta.update(notes="many"),
        lambda meta: meta.update(seconds=None),
        lambda meta: meta.update(instruments="Piano"),
        lambda meta: meta.update(instruments=[1, 2]),
        lambda meta: meta.update(pitch_range=[60]),
        lambda meta: meta.update(pitch_range=[200, 100]),
        lambda meta: meta.update(ok="yes"),
        lambda meta: meta.update(ok=False, reason=None, detail=""),
        lambda meta: meta.pop("parts"),  # an entry made before the tracks were kept
        lambda meta: meta.update(parts=[0, 1]),
    ],
)
@pytest.mark.slow
def test_an_entry_missing_a_fact_or_of_the_wrong_type_is_read_again_not_a_crash(
    folder, tmp_path, damage
):
    ingest(folder, tmp_path / "cache", CONFIG, jobs=0)
    index, _ = _pack(tmp_path / "cache")
    entries = json.loads(index.read_text())
    damage(entries[next(k for k in entries if k != PACK_KEY)])
    index.write_text(json.dumps(entries))  # the pack's checksum covers its tokens, not this
    report = ingest(folder, tmp_path / "cache", CONFIG, jobs=0)
    assert report.ok == 4 and report.from_cache == 3 and not report.failed
    _every_entry_is_a_fresh_parse(folder, tmp_path / "cache")
    from composer.core.training import Collection, new_run
    from tests.training_helpers import tiny_model, tiny_training

    collection = Collection.from_ingest(report, TokenCache(tmp_path / "cache", CONFIG))
    trainer = new_run(tmp_path / "run", collection, tiny_model(), tiny_training(steps=1))
    assert [event for event in trainer.run()]  # training reads the cache as ingest left it


def _running(pid: int) -> bool:
    """Whether `pid` is a live process (not gone, not a zombie waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat_file:
            return stat_file.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds processes through /proc")
def test_workers_end_when_ingest_is_killed_outright(tmp_path):
    """SIGKILL gives the parent no chance to shut its pool down: the workers must notice on their
    own (issue 25: three of them lived on for ever, waiting for work)."""
    import signal
    import subprocess
    import sys
    import time

    folder = tmp_path / "many"
    folder.mkdir()
    tunes = sorted(corpus("nottingham").glob("*.mid"))
    copies = -(-6_000 // len(tunes))  # distinct files, seconds of parsing (as above)
    for path in tunes:
        data = path.read_bytes()
        for extra in range(copies):
            (folder / f"{path.stem}-{extra}.mid").write_bytes(data + b"\0" * extra)
    command = [sys.executable, "-m", "composer", "ingest", str(folder), "--jobs", "3",
               "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(_children(process.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # the workers are parsing
        children = _children(process.pid)  # the workers (and multiprocessing's helper)
        assert len(children) >= 3 and process.poll() is None
    finally:
        process.kill()
        process.wait(timeout=30)
    left = children
    for _ in range(100):  # they notice within moments; 10 s at most here
        left = [pid for pid in left if _running(pid)]
        if not left:
            break
        time.sleep(0.1)
    names = [Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ") for pid in left]
    for pid in left:  # do not leave them to the machine when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left, f"left behind: {names}"
