"""packaging/: the PyInstaller spec's file filter keeps what the app loads, and every path the spec
and the README name exists. Building the bundle takes minutes (packaging/build.py does it and
smoke-tests the result); these checks take milliseconds and need no PyInstaller."""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "composer.spec"


def spec_filter():
    """The spec's `kept` function with its pattern lists, without running PyInstaller."""
    tree = ast.parse(SPEC.read_text(encoding="utf-8"), str(SPEC))
    wanted = {"EXCLUDED_FILES", "KEPT_FILES", "kept"}
    nodes = [
        node
        for node in tree.body
        if (isinstance(node, ast.FunctionDef) and node.name in wanted)
        or (isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) in wanted)
    ]
    namespace = {"fnmatch": fnmatch}
    exec(compile(ast.Module(nodes, []), str(SPEC), "exec"), namespace)
    return namespace["kept"]


@pytest.mark.parametrize(
    "name",
    [
        "torch/lib/libtorch_cpu.so",
        "torch/bin/torch_shm_manager",  # `import torch` fails without it
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqwayland.so",
        "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
        "PySide6/Qt/lib/libQt6Multimedia.so.6",
        "libQt6Multimedia.so.6",
        "libQt6Svg.so.6",
        "composer/assets/model/model.safetensors",
        "pretty_midi/TimGM6mb.sf2",
        "symusic/bin/midi2abc",
    ],
)
def test_the_spec_keeps_what_the_app_loads(name):
    assert spec_filter()([(name, "source", "BINARY")]), name


@pytest.mark.parametrize(
    "name",
    [
        "torch/bin/test_api",
        "torch/test/op_registration_test",
        "torch/lib/libtorchbind_test.so",
        "PySide6/Qt/translations/qtbase_de.qm",
        "PySide6/Qt/plugins/multimedia/libffmpegmediaplugin.so",
        "libavcodec.so.61",
        "PySide6/Qt/lib/libQt6Quick.so.6",
        "libQt6Pdf.so.6",
    ],
)
def test_the_spec_drops_what_the_app_never_loads(name):
    assert not spec_filter()([(name, "source", "BINARY")]), name


def test_files_the_spec_reads_exist():
    text = SPEC.read_text(encoding="utf-8")
    for path in ("packaging/composer_app.py", "assets/model/model.json"):
        assert (ROOT / path).is_file(), path
    for icon in ("composer-256.png", "composer-512.png"):
        assert icon in text
        assert (ROOT / "assets" / "icons" / icon).is_file(), icon


def test_build_output_is_ignored_and_the_readme_names_the_command():
    ignored = (PACKAGING / ".gitignore").read_text(encoding="utf-8").split()
    assert "/build/" in ignored and "/dist/" in ignored
    assert ".venv/bin/python packaging/build.py" in (PACKAGING / "README.md").read_text("utf-8")
