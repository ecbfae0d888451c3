"""Linux desktop integration: the desktop entry, the AppStream metainfo, the icons and
`composer install-desktop`.

The validators are the freedesktop tools a distribution runs on these files (Debian:
desktop-file-utils, appstream). Their tests skip where a tool is missing, except under
COMPOSER_REQUIRE_TOOLS=1 (CI), where a missing tool fails the run rather than hiding a check.
"""

from __future__ import annotations

import argparse
import configparser
import importlib.util
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from composer.cli import desktop
from composer.resources import APP_ID

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "assets" / "linux"
ICONS = ROOT / "assets" / "icons"
DESKTOP_FILE = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
SVG = ICONS / "composer.svg"


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        reason = f"{name} is not installed (Debian: apt-get install {package})"
        if os.environ.get("COMPOSER_REQUIRE_TOOLS") == "1":
            pytest.fail(f"{reason}, and COMPOSER_REQUIRE_TOOLS=1 requires it")
        pytest.skip(reason)
    return path


def validate_desktop_file(path: Path) -> subprocess.CompletedProcess:
    command = [tool("desktop-file-validate", "desktop-file-utils"), str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def read_desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def load_render_icons():
    """scripts/render_icons.py, imported by path (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "render_icons", ROOT / "scripts" / "render_icons.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pixels(image) -> np.ndarray:
    """A straight-alpha ARGB32 QImage as a (height, width * 4) array of bytes."""
    from PySide6.QtGui import QImage

    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    rows = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    # A copy: the array must outlive `image`, whose buffer it would otherwise point into.
    return rows.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 4].copy()


# --- the shipped files --------------------------------------------------------------------------


def test_desktop_file_validate_accepts_the_desktop_entry():
    result = validate_desktop_file(DESKTOP_FILE)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_appstreamcli_accepts_the_metainfo():
    command = [
        tool("appstreamcli", "appstream"),
        "validate",
        "--no-net",
        "--pedantic",
        str(METAINFO),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    problems = [line for line in output.splitlines() if line.lstrip().startswith(("E:", "W:"))]
    assert problems == [], output


def test_files_agree_on_the_application_id():
    entry = read_desktop_entry(DESKTOP_FILE)
    metainfo = ET.parse(METAINFO).getroot()
    assert metainfo.get("type") == "desktop-application"
    assert metainfo.findtext("id") == APP_ID
    assert metainfo.findtext("launchable[@type='desktop-id']") == DESKTOP_FILE.name
    assert entry["Icon"] == APP_ID
    icons = [
        target for _, target in desktop.destinations(Path("/usr/share")) if "icons" in target.parts
    ]
    assert {target.stem for target in icons} == {entry["Icon"]}

    mime_types = entry["MimeType"].rstrip(";").split(";")
    assert "audio/midi" in mime_types
    assert {m.text for m in metainfo.iterfind("provides/mediatype")} <= set(mime_types)

    # The binary the metainfo promises is the one Exec starts and pip installs.
    binary = metainfo.findtext("provides/binary")
    assert f'\n{binary} = "composer.launch:main"' in (ROOT / "pyproject.toml").read_text()
    assert unquote_exec(entry["Exec"]) == [binary, "%f"]
    assert entry["TryExec"] == binary


def test_the_svg_uses_only_what_qtsvg_renders_and_nothing_outside_itself():
    svg = ET.parse(SVG).getroot()
    width, height = svg.get("viewBox").split()[2:]
    assert width == height
    unsupported = {"text", "filter", "mask", "clipPath", "image", "foreignObject", "use"}
    for element in svg.iter():
        assert element.tag.split("}")[-1] not in unsupported
        for name, value in element.attrib.items():
            assert not name.endswith("href"), f"{name}={value}"
            assert "url(" not in value or value.startswith("url(#"), f"{name}={value}"


@pytest.mark.parametrize("size", desktop.ICON_SIZES)
def test_each_png_is_a_render_of_the_current_svg(size):
    """Fails when the SVG changed and scripts/render_icons.py was not run again."""
    from PySide6.QtGui import QImage

    path = ICONS / f"composer-{size}.png"
    assert path.is_file(), f"{path} is missing; run scripts/render_icons.py"
    png = QImage(str(path))
    assert (png.width(), png.height()) == (size, size)
    expected = pixels(load_render_icons().render(SVG.read_bytes(), size)).astype(np.int16)
    different = np.abs(pixels(png).astype(np.int16) - expected) > 4
    # Allows another Qt release a few edge pixels antialiased differently; moving a shape or
    # changing a colour changes far more.
    assert different.mean() <= 0.0005, (
        f"composer-{size}.png is not composer.svg as rendered now; run scripts/render_icons.py"
    )


# --- composer install-desktop -------------------------------------------------------------------


def install_desktop(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="composer")
    desktop.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["install-desktop", *argv])
    return args.run(args)


def test_install_then_uninstall(tmp_path, capsys):
    prefix = tmp_path / "share"
    neighbour = prefix / "applications" / "someone-else.desktop"
    neighbour.parent.mkdir(parents=True)
    neighbour.write_text("[Desktop Entry]\n")
    assert install_desktop("--prefix", str(prefix)) == 0
    installed = [target for _, target in desktop.destinations(prefix)]
    assert all(path.is_file() for path in installed)
    assert str(installed[0]) in capsys.readouterr().out
    assert (prefix / "icons/hicolor/48x48/apps" / f"{APP_ID}.png").read_bytes() == (
        ICONS / "composer-48.png"
    ).read_bytes()

    entry = read_desktop_entry(prefix / "applications" / DESKTOP_FILE.name)
    command = unquote_exec(entry["Exec"])
    assert Path(command[0]).is_absolute() and Path(command[0]).is_file()
    assert (command[-1], entry["TryExec"]) == ("%f", command[0])

    assert install_desktop("--prefix", str(prefix), "--uninstall") == 0
    assert not any(path.exists() for path in installed)
    assert neighbour.is_file()
    assert install_desktop("--prefix", str(prefix), "--uninstall") == 0
    assert "Nothing to remove" in capsys.readouterr().out


def test_desktop_file_validate_accepts_the_installed_entry(tmp_path):
    assert install_desktop("--prefix", str(tmp_path)) == 0
    result = validate_desktop_file(tmp_path / "applications" / DESKTOP_FILE.name)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_install_goes_to_xdg_data_home_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert install_desktop() == 0
    assert (tmp_path / "data" / "applications" / DESKTOP_FILE.name).is_file()


def test_a_prefix_that_cannot_be_written_is_one_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert install_desktop("--prefix", str(blocker)) == 2
    error = capsys.readouterr().err
    assert error.startswith("composer install-desktop:") and "Traceback" not in error


def test_the_entry_starts_the_running_launcher(tmp_path, monkeypatch):
    """A PyInstaller bundle is its own launcher; a pip install's is the composer script running."""
    script = tmp_path / "bin" / "composer"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    monkeypatch.setattr(sys, "argv", [str(script), "install-desktop"])
    assert desktop.launcher_command() == [str(script)]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "Composer" / "composer"))
    assert desktop.launcher_command() == [str(tmp_path / "Composer" / "composer")]


@pytest.mark.parametrize(
    "command",
    [
        ["/opt/my apps/composer"],
        ["/home/me/$weird `dir`/100%\\composer"],
        ["/usr/bin/python3", "-m", "composer"],
    ],
)
def test_exec_quoting_survives_awkward_paths(tmp_path, command):
    """Quoted per the spec, the entry validates and a launcher's unquoting gives the path back."""
    path = tmp_path / DESKTOP_FILE.name
    path.write_text(desktop.desktop_entry(DESKTOP_FILE.read_text(), command))
    result = validate_desktop_file(path)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    assert unquote_exec(read_desktop_entry(path)["Exec"]) == [*command, "%f"]


def unquote_exec(value: str) -> list[str]:
    """Exec's arguments as a launcher reads them (desktop entry spec, "The Exec key").

    First the string-value escapes (\\\\ is one backslash), then the quoting: inside double
    quotes a backslash makes the next ", `, $ or \\ literal. %% is a literal %.
    """
    value = value.replace("\\\\", "\\")
    arguments, current, quoted, i = [], None, False, 0
    while i < len(value):
        c = value[i]
        if quoted and c == "\\" and value[i + 1 : i + 2] in ('"', "`", "$", "\\"):
            current, i = current + value[i + 1], i + 2
            continue
        if c == '"':
            quoted, current = not quoted, current or ""
        elif c == " " and not quoted:
            if current is not None:
                arguments.append(current)
            current = None
        else:
            current = (current or "") + c
        i += 1
    if current is not None:
        arguments.append(current)
    return [a if a == "%f" else a.replace("%%", "%") for a in arguments]
