"""Ingest: the token cache, bad files, crashes, duplicates, cancellation and the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from composer.cli import main
from composer.core.corpus import TokenCache, ingest
from composer.core.midi import read_midi
from composer.core.tokens import TokenizerConfig, Vocabulary, decode, quantize
from tests.conftest import corpus
from tests.crashing_worker import crash_on_some_files
from tests.midi_files import simple_tune


@pytest.fixture
def mixed_folder(tmp_path):
    """Real files from the shared corpora mixed with every kind of bad file, in subfolders."""
    folder = tmp_path / "collection"
    (folder / "sub" / "deeper").mkdir(parents=True)
    bach = sorted(corpus("bach_chorales").glob("*.mid"))[:6]
    for path in bach[:3]:
        shutil.copy(path, folder / path.name)
    for path in bach[3:]:
        shutil.copy(path, folder / "sub" / "deeper" / path.name.upper().replace(".MID", ".MIDI"))
    shutil.copy(bach[0], folder / "sub" / "copy-of-first.mid")  # a byte-identical duplicate
    data = bach[1].read_bytes()
    (folder / "truncated.mid").write_bytes(data[: len(data) // 3])
    (folder / "empty.mid").write_bytes(b"")
    (folder / "notes.mid").write_text("shopping list: eggs, milk\n")
    (folder / "header-only.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0")
    (folder / "readme.txt").write_text("not MIDI and not named like it: ignored")
    return folder


def test_mixed_folder_ingests_every_good_file_and_names_every_bad_one(mixed_folder, tmp_path):
    report = ingest(mixed_folder, tmp_path / "cache", jobs=2)
    assert report.files == 11 and report.ok == 6 and report.duplicates == 1
    failed = {p.split("/")[-1]: reason for p, reason in ((f.path, f.reason) for f in report.failed)}
    assert set(failed) == {"truncated.mid", "empty.mid", "notes.mid", "header-only.mid"}
    assert "empty" in failed["empty.mid"] and "not a MIDI file" in failed["notes.mid"]
    assert all(reason and "\n" not in reason for reason in failed.values())
    assert report.notes > 1000 and report.seconds_of_music > 60
    assert report.instruments and report.pitch_range[0] < report.pitch_range[1]


def test_cached_tokens_are_memory_mapped_uint16_that_decode_to_the_file(mixed_folder, tmp_path):
    config = TokenizerConfig()
    report = ingest(mixed_folder, tmp_path / "cache", config, jobs=0)
    cache = TokenCache(tmp_path / "cache", config)
    vocab = Vocabulary(config)
    for entry in report.entries:
        tokens = cache.tokens(entry.sha)
        assert isinstance(tokens, np.memmap) and tokens.dtype == np.uint16  # memory-mapped
        assert len(tokens) == entry.tokens
        want = quantize(read_midi(entry.path), vocab)
        assert decode(tokens, vocab).note_count == want.note_count


def test_second_ingest_reads_only_the_cache(mixed_folder, tmp_path, monkeypatch):
    first = ingest(mixed_folder, tmp_path / "cache", jobs=0)
    import composer.core.corpus.worker as worker_module

    def fail(*args):
        raise AssertionError("the second ingest parsed a file")

    monkeypatch.setattr(worker_module, "tokenize_file", fail)
    second = ingest(mixed_folder, tmp_path / "cache", jobs=0)
    assert second.from_cache == first.ok + 4  # failures are remembered too
    assert second.ok == first.ok and second.failed == first.failed and second.tokens == first.tokens


def test_an_edited_file_is_read_again(tmp_path):
    folder = tmp_path / "songs"
    folder.mkdir()
    simple_tune(folder / "a.mid")
    assert ingest(folder, tmp_path / "cache", jobs=0).notes == 5
    simple_tune(folder / "a.mid", pitches=(60, 62, 64))
    report = ingest(folder, tmp_path / "cache", jobs=0)
    assert report.notes == 3 and report.from_cache == 0


@pytest.mark.slow
def test_a_crashing_parser_costs_only_its_file(tmp_path):
    folder = tmp_path / "songs"
    folder.mkdir()
    for i in range(6):
        simple_tune(folder / f"tune{i}.mid", pitches=(60 + i, 64))
    simple_tune(folder / "crash-me.mid")
    report = ingest(folder, tmp_path / "cache", jobs=2, worker=crash_on_some_files)
    assert report.ok == 6
    assert [f.path.split("/")[-1] for f in report.failed] == ["crash-me.mid"]
    assert "crashed" in report.failed[0].reason
    again = ingest(folder, tmp_path / "cache", jobs=2, worker=crash_on_some_files)
    assert again.from_cache == 7  # the crash is remembered: no second crash


def test_stop_request_ends_ingest_and_keeps_finished_work(tmp_path):
    folder = tmp_path / "songs"
    folder.mkdir()
    for i in range(8):
        simple_tune(folder / f"tune{i}.mid", pitches=(50 + i,))
    seen = []
    report = ingest(
        folder, tmp_path / "cache", jobs=0,
        on_progress=seen.append, should_stop=lambda: len(seen) >= 3,
    )  # fmt: skip
    assert report.cancelled and report.ok == 3
    assert [p.done for p in seen] == [1, 2, 3] and seen[-1].total == 8
    assert ingest(folder, tmp_path / "cache", jobs=0).from_cache == 3


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ingest(tmp_path / "nowhere", tmp_path / "cache")


@pytest.mark.slow
@pytest.mark.corpus
def test_nottingham_counts_every_file_and_each_duplicate_once(tmp_path):
    folder = corpus("nottingham", stand_in=False)  # the figures are the real collection's
    report = ingest(folder, tmp_path / "cache", jobs=2)
    assert report.files == 1034 and not report.failed
    assert report.duplicates == 5  # five pairs of byte-identical files in this corpus
    assert report.ok == 1034 - 5
    again = ingest(folder, tmp_path / "cache", jobs=2)
    assert again.from_cache == again.ok == report.ok and again.tokens == report.tokens


def run_cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "composer", *args], capture_output=True, text=True, env=env
    )


@pytest.mark.slow
def test_cli_json_summary_and_exit_status(mixed_folder, tmp_path):
    result = run_cli("ingest", str(mixed_folder), "--cache-dir", str(tmp_path / "c"), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    expected = {"files", "ok", "duplicates", "failed", "notes", "tokens", "seconds_of_music",
                "instruments", "elapsed_s"}  # fmt: skip
    assert expected <= set(data)
    assert data["files"] == 11 and data["ok"] == 6 and len(data["failed"]) == 4
    assert all(set(f) == {"path", "reason", "detail"} for f in data["failed"])
    assert "Traceback" not in result.stderr


def test_cli_readable_summary_lists_bad_files(mixed_folder, tmp_path, capsys):
    assert (
        main(["ingest", str(mixed_folder), "--cache-dir", str(tmp_path / "c"), "--jobs", "0"]) == 0
    )
    out = capsys.readouterr().out
    assert "11 MIDI files, 6 usable, 1 duplicates" in out
    assert "empty.mid: the file is empty" in out


@pytest.mark.slow
def test_cli_fails_clearly_for_a_missing_folder_or_no_usable_file(tmp_path):
    result = run_cli("ingest", str(tmp_path / "nowhere"))
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.mid").write_bytes(b"nonsense")
    result = run_cli("ingest", str(tmp_path / "bad"), "--jobs", "0")
    assert result.returncode == 1 and "no usable MIDI file" in result.stderr


def test_ingest_command_does_not_import_torch_or_qt(tmp_path):
    simple_tune(tmp_path / "a.mid")
    code = (
        "import sys; from composer.cli import main; "
        f"main(['ingest', {str(tmp_path)!r}, '--jobs', '0', '--json']); "
        "print([m for m in ('torch', 'PySide6') if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr


def test_help_lists_the_commands_and_version_works():
    assert all(c in run_cli("--help").stdout for c in ("ingest", "train", "generate"))
    assert run_cli("--version").stdout.startswith("composer ")


def test_a_worker_count_past_the_limit_is_one_sentence_for_ingest_and_train(
    mixed_folder, tmp_path, capsys
):
    """Issue 25: --jobs 99999999999999999999 was a traceback (and a large one a fork bomb)."""
    from composer.core.corpus.ingest import max_jobs

    for jobs in ("99999999999999999999", str(max_jobs() + 1), "-1"):
        for command in (
            ["ingest", str(mixed_folder)],
            ["train", str(mixed_folder), "--out", str(tmp_path / "run"), "--steps", "1"],
        ):
            assert main([*command, "--jobs", jobs, "--cache-dir", str(tmp_path / "c")]) == 2
            err = capsys.readouterr().err
            assert f"choose 0 (none, read in this process) to {max_jobs()}" in err, err
            assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def _bound_by_permissions():
    """preexec_fn for a process that folder permissions apply to. Root reads a folder of mode 000
    (the test machines run as root), so there the process gives up the two capabilities that let
    it (CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, through Linux's prctl and capset); a user
    needs nothing."""
    import ctypes
    import os

    if os.getuid() != 0:
        return None
    if not sys.platform.startswith("linux"):
        pytest.skip("as root, folder permissions are tested on Linux only (capset)")

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [(name, ctypes.c_uint32) for name in ("effective", "permitted", "inheritable")]

    libc = ctypes.CDLL(None, use_errno=True)
    header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3
    assert libc.capget(ctypes.byref(header), data) == 0
    dac = (1 << 1) | (1 << 2)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
    data[0].effective &= ~dac
    data[0].permitted &= ~dac

    def give_up_reading_everything() -> None:
        # Out of the bounding set too: root regains its permitted set at exec otherwise.
        for cap in (1, 2):
            if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl")
        if libc.capset(ctypes.byref(header), data) != 0:
            raise OSError(ctypes.get_errno(), "capset")

    return give_up_reading_everything


@pytest.mark.slow
def test_a_folder_that_cannot_be_read_is_named_with_the_reason(tmp_path):
    """Issue 25: an unreadable folder read as "0 MIDI files" and an unreadable subfolder was
    skipped without a word. The real os.walk of a real `composer ingest` process, for which the
    folder's permissions hold."""
    folder = tmp_path / "music"
    (folder / "locked").mkdir(parents=True)
    chorales = sorted(corpus("bach_chorales").glob("*.mid"))
    shutil.copy(chorales[0], folder / chorales[0].name)
    shutil.copy(chorales[1], folder / "locked" / chorales[1].name)
    (folder / "locked").chmod(0)
    bound = _bound_by_permissions()

    def composer_ingest(where):
        command = [sys.executable, "-m", "composer", "ingest", str(where), "--jobs", "0",
                   "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
        return subprocess.run(
            command, capture_output=True, text=True, preexec_fn=bound, timeout=120
        )

    try:
        done = composer_ingest(folder)
        assert done.returncode == 0, done.stderr
        assert "1 MIDI files, 1 usable" in done.stdout
        said = f"could not read the folder {folder / 'locked'} (Permission denied), so the MIDI"
        assert said in done.stdout
        done = composer_ingest(folder / "locked")
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert done.stderr == (
            f"composer ingest: could not read the folder {folder / 'locked'} (Permission "
            "denied); choose a folder you may open, or allow reading it.\n"
        )
    finally:
        (folder / "locked").chmod(0o755)
