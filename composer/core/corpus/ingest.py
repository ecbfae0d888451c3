"""Ingest: scan a folder, tokenise every usable MIDI file in parallel, report what could not be used.

The loop knows nothing of terminals or Qt: it reports progress through a callback and checks a stop
request between files. Parsing runs in worker processes (spawned, so that it is safe from a GUI
process with threads); if a native parser crashes, the files that were in flight are retried one
per process, so the crash costs only the file that causes it.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from composer.core.corpus.cache import TokenCache
from composer.core.corpus.scan import scan_midi_files, unreadable_sentence
from composer.core.errors import SettingsError
from composer.core.files.safe_files import MAX_MIDI_BYTES, UnsafeFileError, read_regular
from composer.core.tokens.config import TokenizerConfig

CRASH_REASON = "the MIDI parser crashed on this file; export it again or remove it"
CRASH_DETAIL = "the worker process reading this file died"
CHANGED_REASON = "changed while it was being read; open the folder again to read it as it is now"
#: Worker processes per CPU core at most (`jobs`): parsing keeps a core busy, so more only queue
#: for the cores and cost memory; a little more than one each covers a file system that waits.
#: Windows' process pool takes at most 61 (WaitForMultipleObjects' limit).
MAX_JOBS_PER_CORE = 4


def max_jobs() -> int:
    """The most worker processes `ingest` starts on this computer."""
    most = MAX_JOBS_PER_CORE * (os.cpu_count() or 1)
    return min(most, 61) if os.name == "nt" else most


def check_jobs(jobs: int | None) -> None:
    """SettingsError unless `jobs` is None (one per core) or 0 to max_jobs()."""
    if jobs is None:
        return
    cores = os.cpu_count() or 1
    if jobs < 0 or jobs > max_jobs():
        raise SettingsError(
            f"{jobs:,} worker processes cannot be used: choose 0 (none, read in this process) "
            f"to {max_jobs()} ({MAX_JOBS_PER_CORE} for each of this computer's {cores} CPU cores)"
        )


@dataclass(frozen=True)
class IngestProgress:
    done: int  # files finished (from the cache or freshly tokenised)
    total: int  # files found
    path: str  # the file just finished


@dataclass(frozen=True)
class FileFailure:
    path: str
    reason: str  # one sentence a musician can act on
    detail: str = ""  # the parser's (or the system's) own words, for the log and --json


@dataclass(frozen=True)
class CorpusEntry:
    """One usable, distinct file: where it is, its content hash (the cache key), its token count."""

    path: str
    sha: str
    tokens: int


@dataclass
class IngestReport:
    folder: str
    cache_dir: str  # the cache folder for this tokenizer config (TokenCache.dir)
    files: int = 0  # MIDI files found
    ok: int = 0  # distinct usable files
    duplicates: int = 0  # files byte-identical to one found earlier, counted once
    failed: list[FileFailure] = field(default_factory=list)
    notes: int = 0
    tokens: int = 0
    seconds_of_music: float = 0.0
    instruments: dict[str, int] = field(default_factory=dict)  # instrument -> usable files with it
    pitch_range: tuple[int, int] | None = None
    from_cache: int = 0  # distinct files answered by the cache without parsing
    elapsed_s: float = 0.0
    cancelled: bool = False
    entries: list[CorpusEntry] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # what was repaired, said once

    def to_json_dict(self) -> dict:
        data = asdict(self)
        data["elapsed_s"] = round(self.elapsed_s, 3)
        data["seconds_of_music"] = round(self.seconds_of_music, 3)
        data.pop("entries")
        return data


Worker = Callable[
    [str, str], tuple[dict, "np.ndarray | None"]
]  # (path, config JSON) -> facts, tokens


def ingest(
    folder: str | Path,
    cache_root: str | Path,
    config: TokenizerConfig | None = None,
    *,
    jobs: int | None = None,
    on_progress: Callable[[IngestProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    worker: Worker | None = None,
) -> IngestReport:
    """Tokenise every MIDI file under `folder` into the cache at `cache_root`.

    jobs: worker processes (None: one per CPU core; 0: in this process, without crash isolation;
    at most max_jobs()). The workers end when this process ends, killed or not.
    worker: the per-file function (default worker.tokenize_file); tests pass one that crashes.
    Raises FileNotFoundError / NotADirectoryError for a missing folder, SettingsError for one that
    cannot be read or `jobs` out of range; never for a bad file (nor an unreadable subfolder: the
    report's notices name it).
    """
    check_jobs(jobs)
    started = time.perf_counter()
    folder = _checked_folder(folder)
    config = config or TokenizerConfig()
    cache = TokenCache(cache_root, config)
    cache.ensure()
    report = IngestReport(folder=str(folder), cache_dir=str(cache.dir))
    paths, unreadable = scan_midi_files(folder)
    report.notices.extend(unreadable_sentence(path, why) for path, why in unreadable)
    report.files = len(paths)
    progress = _Progress(report.files, on_progress or (lambda progress: None))

    old_index = cache.load_folder_index(folder)
    paths_of, new_index = _hash_files(paths, folder, old_index, report, progress)
    results, todo = _known_to_cache(cache, paths_of, report, progress, folder)
    if todo:
        _tokenise(todo, cache, config, paths_of, new_index, folder, results, report, progress,
                  jobs=jobs, worker=worker, stop=should_stop or (lambda: False))  # fmt: skip

    cache.save_folder_index(folder, new_index)
    if not report.cancelled:
        cache.compact()
    _summarise(report, paths_of, results)
    report.elapsed_s = time.perf_counter() - started
    return report


def _checked_folder(folder: str | Path) -> Path:
    """`folder` as a Path; FileNotFoundError / NotADirectoryError with the fix otherwise."""
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"{folder} does not exist; check the path")
    if not folder.is_dir():
        raise NotADirectoryError(
            f"{folder} is not a folder; give the folder that holds your MIDI files"
        )
    return folder


class _Progress:
    """Files done so far, told to the caller's on_progress."""

    def __init__(self, total: int, notify: Callable[[IngestProgress], None]) -> None:
        self.total, self.notify, self.done = total, notify, 0

    def add(self, files: int, where: str) -> None:
        self.done += files
        self.notify(IngestProgress(self.done, self.total, where))


def _hash_files(paths, folder: Path, old_index: dict, report: IngestReport, progress: _Progress):
    """Phase 1, content hashes, reusing the last scan's hash for files whose size and mtime are
    unchanged: (sha -> paths with that content in scan order, the new folder index). A file
    that cannot be read is a failure in the report (not remembered: the file system may say
    otherwise next time)."""
    new_index: dict[str, list] = {}
    paths_of: dict[str, list[str]] = {}
    for path in paths:
        rel = str(path.relative_to(folder))
        try:
            sha, stat_key = _content_hash(path, old_index.get(rel))
        except OSError as exc:
            reason = (
                exc.reason
                if isinstance(exc, UnsafeFileError)
                else f"could not be read ({exc.strerror or type(exc).__name__})"
            )
            report.failed.append(FileFailure(str(path), reason, str(exc)))
            progress.add(1, str(path))
            continue
        new_index[rel] = [*stat_key, sha]
        if sha in paths_of:
            report.duplicates += 1
        paths_of.setdefault(sha, []).append(str(path))
    return paths_of, new_index


def _known_to_cache(cache: TokenCache, paths_of: dict, report: IngestReport, progress, folder):
    """Phase 2, what the cache already knows: (sha -> facts for those, [(path, sha)] to
    tokenise). Reading the cache checks its packs; damaged ones are said in the notices."""
    if cache.verify():
        report.notices.append(
            f"{len(cache.damaged)} part(s) of the token cache in {cache.dir} were damaged or "
            "from an older Composer; their files were read again"
        )
    results: dict[str, dict] = {}
    todo = []
    known = 0
    for sha, same_content in paths_of.items():
        meta = cache.get(sha)
        if meta is None or _old_failure(meta):
            todo.append((same_content[0], sha))
        else:
            results[sha] = meta
            report.from_cache += 1
            known += len(same_content)
    if results:
        progress.add(known, str(folder))
    return results, todo


def _tokenise(
    todo, cache, config, paths_of, new_index, folder, results, report, progress, *, jobs, worker,
    stop,
) -> None:  # fmt: skip
    """Phase 3, the files the cache does not know, read by `worker` (in processes unless jobs
    is 0): each result goes into the cache under the content it was parsed from; a file that
    changed after it was hashed is hashed again next time. Whatever was finished is kept, also
    after a stop or an error."""

    def on_result(path: str, sha: str, outcome: tuple[dict, np.ndarray | None]) -> None:
        meta, tokens = outcome
        parsed = meta.pop("sha", sha)  # the hash of the bytes the worker parsed
        if not meta.get("retry"):  # remembered, so the next ingest reads it from the cache
            cache.put(parsed, meta, tokens)  # under the content it came from, always
        if parsed != sha:  # the file changed after it was hashed: hash it again next time
            meta = {"ok": False, "reason": CHANGED_REASON, "detail": "", "retry": True}
            new_index.pop(str(Path(path).relative_to(folder)), None)
        results[sha] = meta
        progress.add(len(paths_of[sha]), path)

    if worker is None:
        from composer.core.corpus.worker import tokenize_file as worker
    config_json = config.to_json()
    try:
        if jobs == 0:
            for path, sha in todo:
                if stop():
                    report.cancelled = True
                    break
                on_result(path, sha, worker(path, config_json))
        else:
            report.cancelled = _run_in_processes(
                todo, worker, config_json, jobs or os.cpu_count() or 1, on_result, stop
            )
    finally:
        cache.flush()


def _old_failure(meta: dict) -> bool:
    """A failure cached before reasons were put in words (it has no detail), or by a Composer
    that remembered file-system errors ("could not be read"): read the file again."""
    if meta.get("ok"):
        return False
    return "detail" not in meta or str(meta.get("reason", "")).startswith("could not be read")


def _content_hash(path: Path, previous: list | None) -> tuple[str, tuple[int, int]]:
    """(SHA-256 of the content, (size, mtime) key). Only regular files of at most
    MAX_MIDI_BYTES are read; the hash of the last scan is reused while size and mtime hold."""
    info = path.stat()
    stat_key = (info.st_size, info.st_mtime_ns)
    if previous and tuple(previous[:2]) == stat_key and stat.S_ISREG(info.st_mode):
        return previous[2], stat_key
    data = read_regular(path, MAX_MIDI_BYTES, "MIDI file")
    return hashlib.sha256(data).hexdigest(), stat_key


def _run_in_processes(todo, worker, config_json, jobs, on_result, stop) -> bool:
    """Run `worker` over (path, sha) pairs in `jobs` processes. Returns True if stopped early."""
    pending = list(reversed(todo))  # pop() from the end keeps the scan order
    context = get_context("spawn")
    while pending:
        suspects = []
        with ProcessPoolExecutor(
            max_workers=jobs, mp_context=context, initializer=_leave_signals_to_the_parent
        ) as pool:
            in_flight = {}
            while pending or in_flight:
                if stop():
                    for future in in_flight:
                        future.cancel()
                    pool.shutdown(wait=True, cancel_futures=True)
                    return True
                while (
                    pending and len(in_flight) < 2 * jobs
                ):  # a short queue: few suspects on a crash
                    path, sha = pending.pop()
                    in_flight[pool.submit(worker, path, config_json)] = (path, sha)
                finished, _ = wait(in_flight, timeout=0.2, return_when=FIRST_COMPLETED)
                broken = False
                for future in finished:
                    path, sha = in_flight.pop(future)
                    try:
                        on_result(path, sha, future.result())
                    except BrokenProcessPool:
                        suspects.append((path, sha))
                        broken = True
                if broken:
                    suspects.extend(in_flight.values())
                    break
        # A worker died: every file it might have been holding is retried alone.
        for path, sha in suspects:
            if stop():
                return True
            on_result(path, sha, _run_alone(worker, path, config_json, context))
    return False


def _leave_signals_to_the_parent() -> None:
    """In a worker: ignore Ctrl+C (the terminal sends it to the workers too). The parent decides:
    it stops between files, keeps what was finished and shuts the workers down; a worker killed
    by the keyboard would look like a parser crash. And end when the parent ends (below)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _end_with_the_parent()


def _end_with_the_parent() -> None:
    """In a worker: exit as soon as the parent process is gone, however it ended. A worker waits
    for work on a pipe whose writing end it holds itself (the pool hands both ends to every
    worker), so a parent killed with SIGKILL left its workers waiting for ever. The parent's
    sentinel (multiprocessing.parent_process(): a pipe on POSIX, a process handle on Windows)
    becomes ready only when the parent has ended; a daemon thread waits on it."""
    import multiprocessing
    import threading

    parent = multiprocessing.parent_process()
    if parent is None:  # not a spawned worker (called in the parent itself)
        return

    def wait_then_exit() -> None:
        parent.join()  # returns when the sentinel is ready: the parent has ended
        os._exit(1)  # no clean-up to do: the parent, which would take the result, is gone

    threading.Thread(target=wait_then_exit, name="end-with-parent", daemon=True).start()


def _run_alone(worker, path, config_json, context) -> tuple[dict, None]:
    with ProcessPoolExecutor(
        max_workers=1, mp_context=context, initializer=_leave_signals_to_the_parent
    ) as solo:
        try:
            return solo.submit(worker, path, config_json).result()
        except BrokenProcessPool:
            return {"ok": False, "reason": CRASH_REASON, "detail": CRASH_DETAIL}, None


def _summarise(report: IngestReport, paths_of, results) -> None:
    lowest, highest = 128, -1
    for sha, same_content in paths_of.items():
        meta = results.get(sha)
        if meta is None:  # not reached before a stop
            continue
        if not meta.get("ok"):
            failures = (
                FileFailure(p, meta["reason"], meta.get("detail", "")) for p in same_content
            )
            report.failed.extend(failures)
            continue
        report.ok += 1
        report.notes += meta["notes"]
        report.tokens += meta["tokens"]
        report.seconds_of_music += meta["seconds"]
        for name in meta["instruments"]:
            report.instruments[name] = report.instruments.get(name, 0) + 1
        if meta.get("pitch_range"):
            lowest = min(lowest, meta["pitch_range"][0])
            highest = max(highest, meta["pitch_range"][1])
        report.entries.append(CorpusEntry(same_content[0], sha, meta["tokens"]))
    report.failed.sort(key=lambda failure: failure.path)
    report.instruments = dict(sorted(report.instruments.items(), key=lambda kv: (-kv[1], kv[0])))
    report.pitch_range = (lowest, highest) if highest >= 0 else None
