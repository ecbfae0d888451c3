"""scripts/build_base_corpus.py without music21: the licence screen and the linking of shared
collections (the conversion itself needs music21 and minutes, so the script is its own check)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location(
        "build_base_corpus", ROOT / "scripts" / "build_base_corpus.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "text",
    [
        "!!!YEC: Copyright 2000, John Miller",
        "permission for non-commercial distribution and use",
        "<rights>Copyright © 1998 Someone</rights>",
        "All rights reserved.",
    ],
)
def test_restricting_notices_are_caught(script, text):
    assert script.RESTRICTIONS.search(text)


@pytest.mark.parametrize(
    "text",
    [
        "X: 1\nT:7th Regiment -- Reel\nB:Ryan's Mammoth Collection\nZ:Contributed by Ray Davies",
        "<rights>Copyright © </rights>",  # an empty notice in a Finale export names nobody
        "Z: Transcribed by Norbert Paap",
    ],
)
def test_plain_encodings_pass(script, text):
    assert not script.RESTRICTIONS.search(text)


def test_shared_collections_are_linked_not_copied(script, tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    (shared / "folk" / "sub").mkdir(parents=True)
    (shared / "folk" / "a.mid").write_bytes(b"MThd one")
    (shared / "folk" / "sub" / "b.MID").write_bytes(b"MThd two")
    (shared / "folk" / "LICENSE.md").write_text("GPL")
    monkeypatch.setattr(script, "SHARED", shared)
    source = script.Source("folk", "folk", "GPL-3.0", "test", shared="folk")
    target = tmp_path / "corpus" / "folk"
    assert script.link_shared(source, target) == 2
    assert sorted(p.name for p in target.iterdir()) == ["a.mid", "sub__b.MID"]
    assert all(p.is_symlink() and not Path(p.readlink()).is_absolute() for p in target.iterdir())
    assert (target / "sub__b.MID").read_bytes() == b"MThd two"
    assert script.link_shared(source, target) == 2  # again: nothing changes
    before = script.fingerprint(target)
    (shared / "folk" / "sub" / "b.MID").write_bytes(b"MThd changed")
    assert script.fingerprint(target) != before  # the fingerprint follows the content
