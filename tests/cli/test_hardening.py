"""Hardening: fuzzed MIDI, training killed at any moment, hostile model files, full disks.

The fuzz test runs COMPOSER_FUZZ_EXAMPLES mutated files (default 150 in the test run; set it to
5000 for a long manual run), the kill test COMPOSER_KILLS kills (default 5).
"""

from __future__ import annotations

import json
import os
import pickle
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import mido
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file

from composer.core.corpus import CacheWriteError, TokenCache, ingest
from composer.core.corpus.worker import tokenize_file
from composer.core.generation import ModelFileError, load_model
from composer.core.midi import read_midi, write_midi
from composer.core.tokens import TokenizerConfig, Vocabulary, decode
from composer.core.training import checkpoint as ckpt
from composer.core.training.export import export_model
from tests.conftest import corpus, corpus_file
from tests.training_helpers import (
    copy_chorales,
    tiny_model,
    tiny_trained_run,
)

CONFIG = TokenizerConfig()
VOCAB = Vocabulary(CONFIG)
EXAMPLES = int(os.environ.get("COMPOSER_FUZZ_EXAMPLES", "150"))
KILLS = int(os.environ.get("COMPOSER_KILLS", "5"))


def _seed_files() -> list[bytes]:
    """A chorale, a folk tune, a drum hit per track and a primer with silent tracks (from
    ../shared/corpora, or their stand-ins in tests/data)."""
    paths = [
        sorted(corpus("bach_chorales").glob("*.mid"))[0],
        sorted(corpus("nottingham").glob("*.mid"))[0],
        corpus_file("library_testdata", "note_seq/note_seq/testdata/example_is_drum.mid"),
        corpus_file("library_testdata", "magenta/magenta_models_melody_rnn_primer.mid"),
    ]
    return [p.read_bytes() for p in paths]


SEEDS = _seed_files()


@st.composite
def mutated_midi(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(
            st.sampled_from(["flip", "truncate", "insert", "delete", "chunk", "tempo", "division"])
        )
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "chunk":  # a track that lies about its length
            tracks = [i for i in range(len(data) - 8) if data[i : i + 4] == b"MTrk"]
            if tracks:
                i = draw(st.sampled_from(tracks))
                lie = draw(
                    st.sampled_from(
                        [0, 1, 7, 0x7FFFFFFF, 0xFFFFFFFF, draw(st.integers(0, 2**32 - 1))]
                    )
                )
                data[i + 4 : i + 8] = lie.to_bytes(4, "big")
        elif kind == "tempo":  # absurd tempo events
            tempos = [i for i in range(len(data) - 6) if data[i : i + 3] == b"\xff\x51\x03"]
            value = draw(st.sampled_from([0, 1, 0xFFFFFF, draw(st.integers(0, 0xFFFFFF))]))
            if tempos:
                i = draw(st.sampled_from(tempos))
                data[i + 3 : i + 6] = value.to_bytes(3, "big")
        elif kind == "division" and len(data) >= 14:  # absurd resolution, SMPTE included
            data[12:14] = draw(
                st.sampled_from([0, 1, 0x7FFF, 0x8000, 0xE728, draw(st.integers(0, 0xFFFF))])
            ).to_bytes(2, "big")
    return bytes(data)


@settings(
    max_examples=EXAMPLES,
    deadline=5000,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@pytest.mark.slow
@given(data=mutated_midi())
def test_fuzzed_files_end_as_music_or_as_a_failure_with_a_reason(tmp_path, data):
    path = tmp_path / "fuzzed.mid"
    path.write_bytes(data)
    meta, tokens = tokenize_file(str(path), CONFIG.to_json())  # what ingest's workers run
    if meta["ok"]:
        assert len(tokens) == meta["tokens"] and int(tokens.max()) < len(VOCAB)
        decode(tokens, VOCAB)
    else:
        assert "retry" not in meta, f"an unexpected error, not a clear reason: {meta['reason']}"
        assert meta["reason"] and "Traceback" not in meta["reason"]


def test_ingest_of_a_folder_of_broken_files_accounts_for_every_file(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "broken"
    folder.mkdir()
    seeds = _seed_files()
    for i in range(40):
        data = bytearray(seeds[i % len(seeds)])
        for _ in range(3):
            data[int(rng.integers(0, len(data)))] ^= int(rng.integers(1, 256))
        (folder / f"f{i:02d}.mid").write_bytes(bytes(data[: int(rng.integers(10, len(data) + 1))]))
    report = ingest(folder, tmp_path / "cache", jobs=2)
    assert report.ok + len(report.failed) + report.duplicates == 40
    assert all(f.reason and "Traceback" not in f.reason for f in report.failed)


def test_a_file_that_would_become_billions_of_tokens_is_refused(tmp_path):
    midi = mido.MidiFile(ticks_per_beat=1)
    midi.tracks.append(mido.MidiTrack([
        mido.Message("note_on", note=60, velocity=80, time=0),
        mido.Message("note_off", note=60, velocity=0, time=1),
        mido.Message("note_on", note=62, velocity=80, time=2**27),  # a note 134 million beats later
        mido.Message("note_off", note=62, velocity=0, time=1),
    ]))  # fmt: skip
    midi.save(tmp_path / "far.mid")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    meta, tokens = tokenize_file(str(tmp_path / "far.mid"), CONFIG.to_json())
    assert not meta["ok"] and "is too long" in meta["reason"] and tokens is None
    assert (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 500_000
    )  # kB: no 2 GB array


def _check_run_is_consistent(run_dir: Path) -> int:
    """run.json names a complete checkpoint (hash checked); returns its step."""
    run = ckpt.read_run(run_dir)
    if not run.get("latest"):
        return 0
    info = ckpt.read_checkpoint(run_dir / run["latest"])
    assert ckpt.read_tensors(run_dir / run["latest"], info)  # size and SHA-256 match
    # Besides latest and best there may be hidden temporary files (a write cut short), a
    # checkpoint written just before run.json could point at it, and one not yet pruned (a kill
    # while pruning); the next checkpoint removes them. Every visible file is complete.
    named = {Path(run[k]).stem for k in ("latest", "best") if run.get(k)}
    for path in (run_dir / "checkpoints").iterdir():
        if path.name.startswith(".") or path.stem in named:
            continue
        if path.suffix == ".json":
            json.loads(path.read_text())
        else:
            load_file(path)
    return run["step"]


@pytest.mark.slow
def test_training_killed_at_random_moments_resumes_from_the_last_complete_checkpoint(tmp_path):
    folder = copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 8)
    run_dir = tmp_path / "run"
    env = {**os.environ, "COMPOSER_CACHE_DIR": str(tmp_path / "cache")}
    first = [sys.executable, "-m", "composer", "train", str(folder), "--out", str(run_dir), "--steps", "100000",
             "--eval-every", "3", "--hidden-size", "32", "--embedding-size", "16", "--window", "64",
             "--batch-size", "4", "--device", "cpu"]  # fmt: skip
    again = [sys.executable, "-m", "composer", "train", "--out", str(run_dir), "--resume"]
    rng = random.Random(0)
    metrics = run_dir / "metrics.jsonl"
    saved = 0
    for _ in range(KILLS):
        lines_before = len(metrics.read_text().splitlines()) if metrics.exists() else 0
        process = subprocess.Popen(
            again
            if (run_dir / "run.json").exists()
            else first,  # a run without a checkpoint resumes from 0
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (
            not metrics.exists() or len(metrics.read_text().splitlines()) <= lines_before + 1
        ):
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.5))  # checkpoints every 3 steps: many kills land in a write
        process.send_signal(signal.SIGKILL)
        process.wait()
        records = [
            json.loads(line) for line in metrics.read_text().splitlines() if line.endswith("}")
        ]
        step = _check_run_is_consistent(run_dir)
        saved_logged = max([r["step"] for r in records if r["event"] == "checkpoint"] or [0])
        trained_logged = max([r["step"] for r in records if r["event"] == "train"] or [0])
        assert step >= saved_logged  # nothing reported as saved was lost
        assert step >= trained_logged - 3  # at most one checkpoint interval of work
        assert step >= saved
        saved = step
    assert saved > 0
    done = subprocess.run(
        [*again, "--steps", str(saved + 2)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert f"Resuming at step {saved}" in done.stdout
    assert _check_run_is_consistent(run_dir) == saved + 2


class _Payload:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_hostile_model_files_are_refused_and_never_run_code(tmp_path):
    marker = tmp_path / "PAYLOAD-RAN"
    payload = pickle.dumps(_Payload(marker))
    torch_file = tmp_path / "model.pt"
    torch.save({"x": _Payload(marker)}, torch_file)  # a torch checkpoint is a pickle too
    assert not marker.exists()
    for name, data in (
        ("model.json", payload),
        ("weights.safetensors", payload),
        ("model.ckpt", torch_file.read_bytes()),
    ):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ModelFileError):
            load_model(tmp_path / name)
    # A well-formed JSON whose weights file is a pickle.
    (tmp_path / "evil.json").write_text(json.dumps({
        "format": "composer-model", "model": tiny_model().to_dict(), "tokenizer": json.loads(CONFIG.to_json()),
        "vocabulary": VOCAB.to_json_dict()["tokens"], "weights": "evil.safetensors",
    }))  # fmt: skip
    (tmp_path / "evil.safetensors").write_bytes(payload)
    with pytest.raises(ModelFileError, match="not a valid safetensors file"):
        load_model(tmp_path / "evil.json")
    with pytest.raises(ModelFileError):
        load_model(torch_file)
    assert not marker.exists(), "a model file ran code"


def test_absurd_or_mismatched_models_are_refused_before_any_large_allocation(tmp_path):
    _, run = tiny_trained_run(tmp_path, files=4, steps=2)
    exported = export_model(tmp_path / "run" / run["latest"], tmp_path / "model")
    info = json.loads(exported.read_text())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for model, message in (
        ({**info["model"], "hidden_size": 10**9}, "hidden_size must be 1 to 8192"),
        (
            {**info["model"], "hidden_size": 8192, "layers": 16, "embedding_size": 8192},
            "Composer loads at most",
        ),
        (
            {**info["model"], "hidden_size": 4096, "layers": 2},
            r"shape .* but the model needs",
        ),  # 1 GB if built first
    ):
        exported.write_text(json.dumps({**info, "model": model}))
        with pytest.raises(ModelFileError, match=message):
            load_model(exported)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 300_000  # kB
    exported.write_text(json.dumps(info))
    weights = tmp_path / "model" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    with pytest.raises(ModelFileError, match="incomplete or damaged"):
        load_model(exported)


def _full_disk(monkeypatch, module, after: int = 0):
    """Make `module`'s atomic writes fail like a full disk, after writing half a temporary file."""
    real = module.atomic_write_bytes
    calls = []

    def failing(path, data, **kwargs):
        calls.append(path)
        if len(calls) > after:
            tmp = Path(path).parent / f".{Path(path).name}.half.tmp"
            tmp.write_bytes(data[: len(data) // 2])
            tmp.unlink()  # atomic_path removes its temporary file when the write fails
            raise OSError(28, "No space left on device")
        return real(path, data, **kwargs)

    monkeypatch.setattr(module, "atomic_write_bytes", failing)


def test_a_full_disk_during_export_keeps_the_previous_file(tmp_path, monkeypatch):
    piece = read_midi(next(corpus("bach_chorales").glob("*.mid")))
    target = write_midi(piece, tmp_path / "out.mid")
    previous = target.read_bytes()

    def half_written(self, filename=None, file=None):
        Path(filename).write_bytes(b"MThd\x00\x00")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mido.MidiFile, "save", half_written)
    with pytest.raises(OSError, match="No space"):
        write_midi(piece, target, overwrite=True)
    assert target.read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mid"]  # no temporary file left


def test_a_full_disk_while_caching_tokens_says_so_and_keeps_the_old_cache(tmp_path, monkeypatch):
    from composer.core.corpus import cache as cache_module

    folder = copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 3)
    first = ingest(folder, tmp_path / "cache", jobs=0)
    packs = sorted((Path(first.cache_dir) / "packs").iterdir())
    copy_chorales(corpus("nottingham"), folder, 2)
    _full_disk(monkeypatch, cache_module, after=1)  # the tokens are written, their index is not
    with pytest.raises(
        CacheWriteError,
        match=r"Could not write the token cache .*No space left on device.*COMPOSER_CACHE_DIR",
    ):
        ingest(folder, tmp_path / "cache", jobs=0)
    assert sorted((Path(first.cache_dir) / "packs").iterdir()) == packs  # no orphan, old packs kept
    monkeypatch.undo()
    again = ingest(folder, tmp_path / "cache", jobs=0)
    assert again.ok == 5 and again.from_cache == 3
    cache = TokenCache(tmp_path / "cache", CONFIG)
    assert all(len(cache.tokens(e.sha)) == e.tokens for e in again.entries)
