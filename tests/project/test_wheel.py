"""The package as pip users get it: `python -m build` makes an sdist and, from it, a wheel that
carries the bundled model and every asset; installed into a fresh virtual environment, the
`composer` command finds them through importlib.resources, from any working directory.

Building takes ~20 s, so the sdist, the wheel and the environment are made once for the module.
The fresh environment gets the wheel itself (`--no-deps`) and borrows the dependencies from the
environment running the tests through a .pth line: installing torch and Qt again would take
minutes and download gigabytes, and `pip check` still proves the wheel's requirements are met.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import mido
import pytest

from composer.resources import APP_ID
from tests.conftest import bundled_model_name

ROOT = Path(__file__).resolve().parents[2]


def _run(command: list, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [str(c) for c in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # No isolation: the build backend (setuptools) comes from this environment, not from PyPI.
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT], cwd=out)
    return out


@pytest.fixture(scope="module")
def fresh_env(dist, tmp_path_factory) -> Path:
    """A new virtual environment with only the wheel installed into it."""
    env = tmp_path_factory.mktemp("fresh") / "venv"
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    (wheel,) = dist.glob("*.whl")
    _run(
        [sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", wheel], env
    )
    site = Path(
        _run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], env
        ).stdout.strip()
    )
    (site / "borrowed-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return env


@pytest.mark.slow
def test_the_wheel_carries_the_model_and_every_asset(dist):
    (wheel,) = dist.glob("composer_midi-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        Path(p).relative_to("composer/assets").as_posix()
        for p in names
        if p.startswith("composer/assets/")
    }
    in_checkout = {
        p.relative_to(ROOT / "assets").as_posix()
        for p in (ROOT / "assets").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert in_checkout <= shipped, f"missing from the wheel: {sorted(in_checkout - shipped)}"
    for needed in (
        "model/model.json",
        "model/model.safetensors",
        "icons/composer.svg",
        f"linux/{APP_ID}.desktop",
        f"linux/{APP_ID}.metainfo.xml",
    ):
        assert needed in shipped
    assert "composer/resources.py" in names and "composer/app/main.py" in names
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "License-Expression: MIT" in text
    # The pin that keeps CI off the CUDA builds is on the install command, never in the wheel.
    assert "Requires-Dist: torch>=2.2" in text


@pytest.mark.slow
def test_the_sdist_can_rebuild_and_test_the_project(dist):
    (sdist,) = dist.glob("composer_midi-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {Path(*Path(n).parts[1:]).as_posix() for n in archive.getnames()}
    for needed in (
        "pyproject.toml",
        "setup.py",
        "LICENSE",
        "README.md",
        "assets/model/model.json",
        "assets/model/model.safetensors",
        "tests/conftest.py",
        "tests/data/chorales/chorale-01.mid",  # what the tests read without ../shared
        "scripts/make_test_data.py",
        "composer/cli/__init__.py",
    ):
        assert needed in names, f"{needed} is missing from {sdist.name}"
    assert "packaging/composer.spec" in names
    assert not any("__pycache__" in n for n in names)
    # Build outputs beside the sources (a PyInstaller bundle is ~640 MB) stay out.
    assert not any(n.startswith(("packaging/dist/", "packaging/build/", "build/")) for n in names)


@pytest.mark.slow
def test_installed_composer_reports_its_version_from_anywhere(fresh_env, tmp_path):
    from composer import __version__

    result = _run([fresh_env / "bin" / "composer", "--version"], cwd=tmp_path)
    assert result.stdout.strip() == f"composer {__version__}"
    _run([sys.executable, "-m", "pip", "--python", fresh_env / "bin" / "python", "check"], tmp_path)


@pytest.mark.slow
def test_installed_composer_generates_with_the_bundled_model(fresh_env, tmp_path):
    python = fresh_env / "bin" / "python"
    where = _run(
        [python, "-c", "import composer.resources as r; print(r.asset('model', 'model.json'))"],
        cwd=tmp_path,
    ).stdout.strip()
    assert Path(where).is_relative_to(fresh_env), f"assets came from {where}, not the install"

    out = tmp_path / "tune.mid"
    result = _run(
        [fresh_env / "bin" / "composer", "generate", "--seconds", "3", "--seed", "7", "--out", out],
        cwd=tmp_path,
    )
    assert bundled_model_name() in result.stdout
    notes = [m for m in mido.MidiFile(out) if m.type == "note_on" and m.velocity > 0]
    assert notes, f"{out} has no notes"

    licences = _run([fresh_env / "bin" / "composer", "about"], cwd=tmp_path).stdout
    assert "GPL-3.0" in licences and str(fresh_env) in licences
