"""House rules that keep the layers apart (the import-linter contracts in pyproject.toml): imports
point down from composer.launch through the app and the command line (blind to each other) to the
core, which never imports Qt; the model never imports training."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def lint_imports(cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run import-linter's command line on the project in `cwd` (its pyproject.toml contracts)."""
    code = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, env=env
    )


CONTRACTS = [
    "The core never imports Qt",
    "Layers: launch, then app | cli, then about, then core, then resources",
    "The app and the command line never import each other",
    "The model never imports training",
]


def copy_of_the_package(tmp_path: Path) -> Path:
    """composer/ and pyproject.toml copied to tmp_path, to plant a bad import in."""
    shutil.copytree(ROOT / "composer", tmp_path / "composer")
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    return tmp_path


def test_every_contract_is_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in CONTRACTS:
        assert f"{name} KEPT" in result.stdout


def test_the_contract_catches_a_qt_import_in_core(tmp_path):
    """The same contract, run on a copy of the package with one Qt import added, must fail."""
    copy_of_the_package(tmp_path)
    (tmp_path / "composer" / "core" / "midi" / "sneaky.py").write_text(
        textwrap.dedent("from PySide6 import QtCore  # noqa\n")
    )
    result = lint_imports(tmp_path, env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode != 0
    assert "composer.core.midi.sneaky -> PySide6" in result.stdout


def test_the_layers_contract_catches_an_upward_import(tmp_path):
    """The core importing the app, inside a function as the app's lazy imports are, fails the
    layers contract; so does the command line importing the app."""
    copy_of_the_package(tmp_path)
    folders = tmp_path / "composer" / "core" / "files" / "folders.py"
    folders.write_text(
        folders.read_text() + "\n\ndef _up():\n    import composer.app.paths  # noqa\n"
    )
    env = {"PYTHONPATH": str(tmp_path)}
    result = lint_imports(tmp_path, env=env)
    assert result.returncode != 0
    assert f"{CONTRACTS[1]} BROKEN" in result.stdout
    assert "composer.core.files.folders -> composer.app.paths" in result.stdout

    folders.write_text((ROOT / "composer" / "core" / "files" / "folders.py").read_text())
    progress = tmp_path / "composer" / "cli" / "progress.py"
    progress.write_text(progress.read_text() + "\nfrom composer.app import paths  # noqa\n")
    result = lint_imports(tmp_path, env=env)
    assert f"{CONTRACTS[1]} BROKEN" in result.stdout and f"{CONTRACTS[2]} BROKEN" in result.stdout
    assert "composer.cli.progress -> composer.app.paths" in result.stdout


def test_the_model_contract_catches_an_import_of_training(tmp_path):
    copy_of_the_package(tmp_path)
    config = tmp_path / "composer" / "core" / "model" / "config.py"
    config.write_text(
        config.read_text() + "\nfrom composer.core.training import checkpoint  # noqa\n"
    )
    result = lint_imports(tmp_path, env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode != 0
    assert f"{CONTRACTS[3]} BROKEN" in result.stdout
    assert "composer.core.model.config -> composer.core.training.checkpoint" in result.stdout


def test_the_architecture_document_names_every_module():
    """docs/architecture.md lists every module (its path under composer/, or its file name where
    its folder is named), so that the next person in finds each one there."""
    root = Path(__file__).resolve().parents[2]
    text = (root / "docs" / "architecture.md").read_text("utf-8")
    missing = [
        str(path.relative_to(root / "composer"))
        for path in sorted((root / "composer").rglob("*.py"))
        if path.name != "__init__.py"
        and str(path.relative_to(root / "composer")) not in text
        and path.name not in text
    ]
    assert not missing, f"not in docs/architecture.md: {', '.join(missing)}"
