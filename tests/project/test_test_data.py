"""tests/data is what scripts/make_test_data.py writes, byte for byte, and every file reads."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from composer.core.midi import read_midi
from tests.conftest import DATA, STAND_IN_FILES, STAND_INS


def _script():
    spec = importlib.util.spec_from_file_location(
        "make_test_data", DATA.parents[1] / "scripts" / "make_test_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_committed_files_are_what_the_script_writes(tmp_path):
    _script().write_all(tmp_path)
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    kept = sorted(p.relative_to(DATA) for p in DATA.rglob("*") if p.is_file())
    assert kept == made, "run `python scripts/make_test_data.py` and commit tests/data"
    for relative in made:
        assert (DATA / relative).read_bytes() == (tmp_path / relative).read_bytes(), relative
    assert sum((DATA / p).stat().st_size for p in made) < 200_000  # small enough to commit


def test_every_stand_in_reads_as_music():
    assert {p.name for p in DATA.iterdir() if p.is_dir()} == set(STAND_INS.values())
    assert all((DATA / "quirks" / name).is_file() for name in STAND_IN_FILES.values())
    for path in sorted(DATA.rglob("*.mid")):
        piece = read_midi(path)
        assert piece.note_count > 0 and piece.duration_seconds > 0, path
