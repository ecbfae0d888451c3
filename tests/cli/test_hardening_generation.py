"""Generation that never ends, and outputs that are not files (issue 16).

Every model here is a real tiny model: trained for two steps on four chorales, exported with
export_model, and then given weights that misbehave in one chosen way, with the SHA-256 in its
JSON brought up to date (so the loader's integrity checks pass and only the new checks can
catch it). A hang must not hang the suite: the one run that used to loop forever is a
subprocess with a timeout, and every other input is one the fixed code refuses at once.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from safetensors.torch import load_file, save

from composer.cli import main
from composer.core.generation import ModelFileError, Sampler, SamplingSettings, load_model, sampling
from composer.core.midi import read_midi, write_midi
from composer.core.tokens import TokenizerConfig, Vocabulary
from composer.core.training.export import export_model
from tests.conftest import corpus
from tests.training_helpers import tiny_trained_run

VOCAB = Vocabulary(TokenizerConfig())
REPO = Path(__file__).resolve().parents[2]


def _id(kind: str, value: int = 0) -> int:
    return VOCAB.ranges[kind][0] + value


def _retouch(model_json: Path, change) -> Path:
    """Change the tensors of an exported model in place and rewrite its size and SHA-256."""
    info = json.loads(model_json.read_text())
    weights = model_json.parent / info["weights"]
    tensors = load_file(str(weights))
    change(tensors)
    data = save(tensors, metadata={"format": "composer-model"})
    weights.write_bytes(data)
    info.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    model_json.write_text(json.dumps(info))
    return model_json


def _nan_weight(tensors) -> None:
    tensors["model.lstm.weight_hh_l0"][0, 0] = float("nan")


def _overflowing(tensors) -> None:
    """Finite weights whose logits are infinite: four units of the last layer are driven to
    h = tanh(1) (every gate's bias 100), and the head multiplies them by 3e38 (float32 holds up
    to 3.4e38), so every logit is 4 x 0.76 x 3e38 = inf from the first token on."""
    hidden = tensors["model.lstm.bias_ih_l1"].shape[0] // 4
    for gate in range(4):
        tensors["model.lstm.bias_ih_l1"][gate * hidden : gate * hidden + 4] = 100.0
    tensors["model.head.weight"][:, :4] = 3e38


def _constant(likely: dict[int, float]):
    """Logits that ignore the music: the head's weights are zero and its bias -30 except for the
    tokens in `likely` (id -> logit)."""

    def change(tensors) -> None:
        tensors["model.head.weight"].zero_()
        tensors["model.head.bias"].fill_(-30.0)
        for token, logit in likely.items():
            tensors["model.head.bias"][token] = logit

    return change


# One note (C4) on and off, one grid step of time; with Eos (-1) a variation ends after a few
# notes, at a different step for each seed; without it, it plays until its length is reached.
_PLAYING = {_id("NoteOn", 60): 0.0, _id("NoteOff", 60): 0.0, _id("TimeShift"): 0.0}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("hardening-generation")
    _, run = tiny_trained_run(root, files=4, steps=2)
    checkpoint = root / "run" / run["latest"]

    def made(name: str, change=None) -> Path:
        path = export_model(checkpoint, root / name, half=False)
        return _retouch(path, change) if change else path

    return SimpleNamespace(
        good=made("good"),
        nan=made("nan", _nan_weight),
        overflowing=made("overflowing", _overflowing),
        # Always a Tempo token: the music never moves forward and never ends.
        stuck=made("stuck", _constant({_id("Tempo", 15): 30.0})),
        ending=made("ending", _constant({**_PLAYING, _id("Eos"): -1.0})),
        endless=made("endless", _constant(_PLAYING)),
    )


def _generate(capsys, *args) -> tuple[int, str, str]:
    status = main(["generate", *map(str, args)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _refused(capsys, *args) -> str:
    """The one sentence `composer generate` refuses these arguments with (exit status 2)."""
    status, _, err = _generate(capsys, *args)
    assert status == 2, err
    assert err.startswith("composer generate: ") and err.count("\n") == 1, err
    return err


# --- Generation that never ends ----------------------------------------------------------------


def test_lengths_and_temperatures_out_of_range_are_refused_with_one_sentence(
    models, tmp_path, capsys
):
    # The core refuses them, so that the app and `composer evaluate` get the same limits.
    for bad in (
        dict(temperature=1e-300),
        dict(temperature=1e308),
        dict(temperature=float("inf")),
        dict(temperature=float("nan")),
        dict(seconds=float("inf")),
        dict(seconds=float("nan")),
        dict(seconds=1e9),
        dict(seconds=sampling.MAX_SECONDS * 1.01),
        dict(seconds=None, max_tokens=100_000_000),
        dict(seconds=None, max_tokens=sampling.MAX_TOKENS + 1),
    ):
        with pytest.raises(ValueError):
            SamplingSettings(**bad)
    SamplingSettings(seconds=sampling.MAX_SECONDS, temperature=sampling.MIN_TEMPERATURE)
    SamplingSettings(
        seconds=None, max_tokens=sampling.MAX_TOKENS, temperature=sampling.MAX_TEMPERATURE
    )

    out = tmp_path / "tune.mid"
    for args, words in (
        (["--temperature", "1e-300"], "temperature 1e-300 is too low"),
        (["--temperature", "1e308"], "temperature 1e+308 is too high"),
        (["--temperature", "inf"], "temperature inf is too high"),
        (["--seconds", "inf"], "at most 3600 seconds"),
        (["--seconds", "1e9"], "at most 3600 seconds"),
        (["--seconds", "0"], "the length in seconds must be above 0"),  # was 30 s, silently
        (["--tokens", "100000000", "--variations", "8"], "at most 500,000 tokens"),
    ):
        err = _refused(capsys, models.good, "--out", out, "--seed", 1, *args)
        assert words in err, err
    assert not out.exists()


def test_a_model_with_nan_weights_is_refused_when_loaded(models, tmp_path, capsys):
    weights = models.nan.with_suffix(".safetensors")
    with pytest.raises(ModelFileError, match="not numbers") as refused:
        load_model(models.nan)
    assert str(weights) in str(refused.value) and "earlier checkpoint" in str(refused.value)
    err = _refused(capsys, models.nan, "--out", tmp_path / "t.mid", "--tokens", 50)
    assert str(weights) in err and "not numbers" in err
    assert not (tmp_path / "t.mid").exists()


def test_logits_that_are_not_numbers_end_generation_with_a_sentence(models, tmp_path, capsys):
    loaded = load_model(models.overflowing)  # every weight is finite: loading cannot tell
    sampler = Sampler(loaded, SamplingSettings(seconds=None, max_tokens=20, seed=1))
    with pytest.raises(ModelFileError, match="not numbers") as stopped:
        list(sampler.run())
    assert str(models.overflowing) in str(stopped.value)
    err = _refused(capsys, models.overflowing, "--out", tmp_path / "t.mid", "--tokens", 20)
    assert str(models.overflowing) in err and "not numbers" in err
    assert not (tmp_path / "t.mid").exists()


@pytest.mark.slow
def test_a_model_that_never_moves_time_forward_is_stopped(models, tmp_path):
    # In tokens the run is bounded anyway, but the music it wrote has no length: say so.
    sampler = Sampler(load_model(models.stuck), SamplingSettings(seconds=None, max_tokens=5000))
    with pytest.raises(ModelFileError, match="without moving the music forward"):
        list(sampler.run())
    # In seconds it used to loop forever; the cap ends it after a thousand tokens or so.
    out = tmp_path / "t.mid"
    command = [sys.executable, "-m", "composer", "generate", str(models.stuck), "--out", str(out)]
    try:
        done = subprocess.run(
            [*command, "--seconds", "5", "--seed", "1"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=180,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("composer generate never ended on a model that never moves time forward")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("composer generate: ") and str(models.stuck) in done.stderr
    assert "without moving the music forward" in done.stderr
    assert not out.exists()


def test_the_app_shows_the_sentence_when_the_model_goes_wrong_while_sampling(window, qtbot, models):
    panel = window.generation
    panel.model.insertItem(0, "overflowing", str(models.overflowing))
    panel.model.setCurrentIndex(0)
    panel.seconds.setValue(2)
    panel.variations.setValue(1)
    window.generating.generate()
    qtbot.waitUntil(lambda: not panel.is_running, timeout=60_000)
    with pytest.raises(ModelFileError) as core:  # what the core says, which the CLI prints too
        list(Sampler(load_model(models.overflowing), SamplingSettings(seconds=2)).run())
    assert panel.message.text() == f"{core.value}."
    assert str(models.overflowing) in panel.message.text()


# --- Outputs that are not files -----------------------------------------------------------------


def test_a_device_or_pipe_is_never_replaced_even_with_force(models, tmp_path, capsys):
    pipe = tmp_path / "pipe.mid"
    os.mkfifo(pipe)
    link = tmp_path / "link.mid"
    link.symlink_to(pipe)  # what --out /dev/stdout is: a link to something that is not a file
    for target in (pipe, link):
        err = _refused(capsys, models.good, "--out", target, "--seconds", 1, "--force")
        assert f"{target} is a named pipe (FIFO), not a file" in err
        assert stat.S_ISFIFO(os.stat(pipe).st_mode) and link.is_symlink()
    piece = read_midi(next(corpus("bach_chorales").glob("*.mid")))
    with pytest.raises(OSError, match="named pipe"):
        write_midi(piece, pipe, overwrite=True)
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.mid", "pipe.mid"]  # no .tmp left


def test_a_folder_given_as_out_is_named_with_the_fix(models, tmp_path, capsys):
    folder = tmp_path / "tunes.mid"
    folder.mkdir()
    for force in ([], ["--force"]):
        err = _refused(capsys, models.good, "--out", folder, "--seconds", 1, *force)
        assert f"{folder} is a folder, not a file" in err and ".tmp" not in err, err
        assert "already exists" not in err  # --force would not help: do not suggest it
    assert folder.is_dir() and not any(folder.iterdir())


def _read_only_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create files in: a 0555 folder, or (as root, who may write
    there anyway) /sys, which containers mount read-only."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    for candidate in (folder, Path("/sys")):
        try:
            fd, name = tempfile.mkstemp(dir=candidate)
        except OSError:
            return candidate
        os.close(fd)
        os.unlink(name)
    pytest.skip("no folder here refuses new files to this user")


def test_a_read_only_folder_is_named_not_the_temporary_file(models, tmp_path, capsys):
    out = _read_only_folder(tmp_path) / "tune.mid"
    err = _refused(capsys, models.good, "--out", out, "--seconds", 1, "--variations", 2)
    assert f"{out.with_name('tune-1.mid')} cannot be written" in err, err
    assert "choose another folder" in err and ".tmp" not in err
    piece = read_midi(next(corpus("bach_chorales").glob("*.mid")))
    with pytest.raises(OSError) as refused:
        write_midi(piece, out)
    assert str(refused.value).startswith(f"{out} cannot be written") and ".tmp" not in str(
        refused.value
    )


# --- SIGINT -------------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    """stderr as a terminal whose user presses Ctrl-C (a real SIGINT) at the first progress line."""

    interrupted = False

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text.startswith("\rGenerating") and not self.interrupted:
            self.interrupted = True
            signal.raise_signal(signal.SIGINT)  # Python raises KeyboardInterrupt here
        return super().write(text)


def _interrupted(model: Path, out: Path, monkeypatch, capsys) -> tuple[int, str, str]:
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    args = ["--out", out, "--variations", 8, "--seconds", 3600, "--seed", 0]
    status = main(["generate", str(model), *map(str, args)])
    monkeypatch.undo()
    assert terminal.interrupted
    return status, capsys.readouterr().out, terminal.getvalue()


def test_ctrl_c_before_any_variation_is_finished_says_nothing_was_written(
    models, tmp_path, monkeypatch, capsys
):
    status, _, err = _interrupted(models.endless, tmp_path / "tune.mid", monkeypatch, capsys)
    assert status == 130
    assert "nothing was written" in err and "kept" not in err, err
    assert not list(tmp_path.iterdir())


def test_ctrl_c_keeps_the_variations_finished_so_far(models, tmp_path, monkeypatch, capsys):
    whole = tmp_path / "whole" / "tune.mid"
    status, _, _ = _generate(
        capsys, models.ending, "--out", whole, "--variations", 8, "--seconds", 3600, "--seed", 0
    )
    assert status == 0
    status, printed, err = _interrupted(models.ending, tmp_path / "tune.mid", monkeypatch, capsys)
    assert status == 130
    written = sorted(tmp_path.glob("tune-*.mid"))
    assert 0 < len(written) < 8  # this seed: some variations had ended at the interruption
    assert f"{len(written)} of 8 variation(s) were finished and written" in err, err
    for path in written:
        assert f"Wrote {path}" in printed
        # Complete pieces: the same bytes as the run that was not interrupted.
        assert path.read_bytes() == whole.with_name(path.name).read_bytes()
    assert not list(tmp_path.glob(".*.tmp"))


def test_weights_removed_while_they_are_read_are_a_sentence(tmp_path):
    """load_model checks the .safetensors file is there before it reads it; a run pruning it (or
    a person moving it) in between was a FileNotFoundError traceback from the read itself."""
    from composer.core.generation import ModelFileError
    from composer.core.generation.loading import _read_tensors

    gone = tmp_path / "model.safetensors"
    with pytest.raises(ModelFileError, match="moved or removed while Composer read it"):
        _read_tensors(gone, {"head.weight": (4, 4)}, {})
