"""House rules that keep the layers apart: composer.core never imports Qt."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run import-linter's command line on the project in `cwd` (its pyproject.toml contracts)."""
    code = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, env=env
    )


def test_core_never_imports_qt():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The core never imports Qt KEPT" in result.stdout


def test_the_contract_catches_a_qt_import_in_core(tmp_path):
    """The same contract, run on a copy of the package with one Qt import added, must fail."""
    shutil.copytree(ROOT / "composer", tmp_path / "composer")
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (tmp_path / "composer" / "core" / "midi" / "sneaky.py").write_text(
        textwrap.dedent("from PySide6 import QtCore  # noqa\n")
    )
    result = lint_imports(tmp_path, env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode != 0
    assert "composer.core.midi.sneaky -> PySide6" in result.stdout
