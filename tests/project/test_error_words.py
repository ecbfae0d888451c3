"""The core's errors carry their data and say their fix in neutral words; the command line names
its options and the app its controls (issue 19)."""

from __future__ import annotations

import ast
import pickle
import re
from pathlib import Path

import pytest

from composer.app.panels.training_jobs import in_app_words
from composer.cli.fixes import in_cli_words
from composer.core.training import DeviceError, NanLoss, OutOfMemory, RunExists

CORE = Path(__file__).resolve().parents[2] / "composer" / "core"
FLAG = re.compile(r"(?<![\w-])--[a-z]")


def test_out_of_memory_carries_its_data_and_each_front_says_the_fix_its_way():
    error = OutOfMemory("cuda", 64, 3, 512)
    assert (error.device, error.batch_size, error.layers, error.hidden_size) == ("cuda", 64, 3, 512)
    assert error.smaller_batch_size == 32
    assert str(error) == (
        "The CUDA ran out of memory with batch size 64 and a 3 x 512 model; try a smaller batch "
        "size (32) or a smaller model"
    )
    assert in_cli_words(error).endswith("; try --batch-size 32 or a smaller --preset")
    assert in_app_words(error).endswith(
        "; lower the batch size under Advanced (to 32) or choose a smaller model size"
    )


def test_nan_loss_run_exists_and_device_errors_carry_their_data():
    nan = NanLoss(step=8, learning_rate=0.002, saved_step=5)
    assert "step 8" in str(nan) and "checkpoint of step 5 is kept" in str(nan)
    assert "lower --learning-rate (now 0.002)" in in_cli_words(nan)
    assert "lower the learning rate under Advanced (now 0.002)" in in_app_words(nan)
    assert "no checkpoint was written yet" in str(NanLoss(1, 0.1, 0))

    held = RunExists(Path("/runs/bach"))
    assert held.run_dir == Path("/runs/bach")
    assert in_cli_words(held) == (
        "/runs/bach already holds a training run; add --resume to continue it, or choose "
        "another --out"
    )
    assert "Resume a run…" in in_app_words(held)

    cuda = DeviceError("CUDA was requested, but no GPU", "cuda", "install a CUDA build of torch")
    assert cuda.device == "cuda"
    assert str(cuda).endswith("; use the CPU, or install a CUDA build of torch")
    assert in_cli_words(cuda).endswith("; use --device cpu, or install a CUDA build of torch")
    assert in_app_words(cuda).endswith(
        "; choose CPU as the device, or install a CUDA build of torch"
    )
    unknown = DeviceError("unknown device 'tpu'; use auto, cpu, cuda or mps")
    assert in_cli_words(unknown) == in_app_words(unknown) == str(unknown)


@pytest.mark.parametrize(
    "error",
    [
        OutOfMemory("cpu", 4, 1, 32),
        NanLoss(3, 0.01, 2),
        RunExists(Path("run")),
        DeviceError("no MPS", "mps"),
    ],
)
def test_the_errors_survive_pickling_with_their_data(error):
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and str(again) == str(error)
    assert vars(again) == vars(error)


def _strings(tree: ast.AST):
    """The string constants of a module that are not docstrings (f-string parts included)."""
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            docstrings.add(id(body[0].value))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node


def test_no_core_message_names_a_command_line_option():
    """The core speaks to the command line and the app alike: no string in it names an option
    such as --batch-size or --resume (the CLI adds those in composer/cli/fixes.py)."""
    found = []
    for path in sorted(CORE.rglob("*.py")):
        for node in _strings(ast.parse(path.read_text(encoding="utf-8"))):
            if FLAG.search(node.value):
                found.append(f"{path.relative_to(CORE)}:{node.lineno}: {node.value!r}")
    assert not found, "\n".join(found)


# --- a person's choice, or a bug -----------------------------------------------------------------
def test_a_bad_setting_is_a_sentence_and_a_bug_is_not_passed_off_as_one(
    tmp_path, capsys, monkeypatch
):
    """The edges catch SettingsError, not every ValueError: a ValueError from a bug reaches the
    traceback (and the app's bug dialog), where the musician is not told it was their doing."""
    from composer.cli import main
    from composer.core.errors import SettingsError
    from composer.core.generation import generate

    out = tmp_path / "x.mid"
    assert main(["generate", "--out", str(out), "--seconds", "0"]) == 2
    said = capsys.readouterr().err
    assert said.startswith("composer generate: ") and "seconds" in said
    with pytest.raises(SettingsError):  # the same choice, from the core, is a SettingsError
        from composer.core.generation.settings import SamplingSettings

        SamplingSettings(seconds=0)

    def broken_run(self):
        raise ValueError("operands could not be broadcast together")  # what a bug looks like
        yield  # a generator, as Sampler.run is

    monkeypatch.setattr(generate.Sampler, "run", broken_run)
    with pytest.raises(ValueError, match="broadcast"):
        main(["generate", "--out", str(out), "--seconds", "1", "--seed", "1"])
    assert not out.exists()


def test_a_background_job_tells_a_bug_from_a_users_mistake(qtbot):
    """The app's workers: a SettingsError from the job is a sentence (not unexpected); a plain
    ValueError is unexpected, logged with its traceback for the bug dialog."""
    from composer.app.workers import Worker
    from composer.core.errors import SettingsError

    def outcome(error):
        def job(worker):
            raise error

        worker = Worker(job)
        failed = []
        worker.failed.connect(lambda message, unexpected: failed.append((message, unexpected)))
        worker.run()
        return failed

    assert outcome(SettingsError("the learning rate must be above 0")) == [
        ("the learning rate must be above 0.", False)
    ]
    [(message, unexpected)] = outcome(ValueError("operands could not be broadcast"))
    assert unexpected and "ValueError" in message
