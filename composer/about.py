"""What Composer is made of, for the About dialog and `composer about`: its version, the data
bundled with it (the default model's weights, the playback soundfont) and the third-party
components it runs on, each with its licence.

Versions and licences of Python packages are read from their installed metadata, so they stay
true whichever versions are installed; no Qt here, so the command line can print the same text.
"""

from __future__ import annotations

import importlib.util
import json
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from composer import __version__
from composer.resources import asset

CODE_LICENCE = "MIT"


@dataclass(frozen=True)
class Component:
    name: str
    version: str  # or where it comes from ("system"), or "not installed"
    licence: str  # an SPDX expression where the metadata gives one
    role: str  # what Composer uses it for, in a few words
    licence_file: Path | None = None  # the licence text shipped with Composer, when it has one


# (distribution name, shown name, role). The licence comes from each package's metadata.
PACKAGES = [
    ("PySide6", "Qt for Python (PySide6)", "the window, drawing and audio output"),
    ("shiboken6", "Shiboken", "PySide6's bindings runtime"),
    ("torch", "PyTorch", "training and running the LSTM"),
    ("numpy", "NumPy", "arrays of notes and tokens"),
    ("symusic", "symusic", "reading MIDI files"),
    ("mido", "Mido", "writing MIDI files and MIDI ports"),
    ("python-rtmidi", "python-rtmidi", "MIDI output ports"),
    ("pretty_midi", "pretty_midi", "the General MIDI soundfont"),
    ("safetensors", "safetensors", "model files that cannot run code"),
    ("platformdirs", "platformdirs", "where runs and settings are kept"),
    ("pyfluidsynth", "pyFluidSynth", "talking to FluidSynth"),
]

CLASSIFIER_LICENCES = {
    "MIT License": "MIT",
    "Apache Software License": "Apache-2.0",
    "BSD License": "BSD",
    "GNU Lesser General Public License v2 or later (LGPLv2+)": "LGPL-2.0-or-later",
    "GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0",
}


def licence_of(meta) -> str:
    """The licence a package declares: its License-Expression, a one-line License field, or its
    trove classifier; "see its metadata" when none says it briefly."""
    if meta.get("License-Expression"):
        return meta["License-Expression"]
    text = (meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 80:
        return text
    for classifier in meta.get_all("Classifier") or []:
        if classifier.startswith("License ::"):
            name = classifier.split(" :: ")[-1]
            return CLASSIFIER_LICENCES.get(name, name)
    return "see its package metadata"


def third_party() -> list[Component]:
    """The Python packages Composer runs on, then the system library it uses when present."""
    found = []
    for dist, name, role in PACKAGES:
        try:
            meta = metadata.metadata(dist)
        except metadata.PackageNotFoundError:
            found.append(Component(name, "not installed", "", role))
            continue
        found.append(Component(name, meta["Version"], licence_of(meta), role))
    if _qt_ships_ffmpeg():  # the desktop bundle leaves Qt's FFmpeg media back end out
        found.append(
            Component("FFmpeg", "inside Qt", "LGPL-2.1-or-later", "Qt Multimedia's media back end")
        )
    found += [
        Component("FluidSynth", "system", "LGPL-2.1-or-later", "instrument sounds, when installed"),
        Component("Python", platform.python_version(), "PSF-2.0", "the interpreter"),
    ]
    return found


def _qt_ships_ffmpeg() -> bool:
    """Whether the installed PySide6 carries FFmpeg's libraries (libavcodec or avcodec-N.dll)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return False
    folder = Path(next(iter(spec.submodule_search_locations)))
    return any(folder.rglob("*avcodec*"))


def bundled_data() -> list[Component]:
    """Data shipped with Composer whose licence is not Composer's own."""
    try:
        provenance = json.loads(asset("model", "model.json").read_text()).get("provenance", {})
    except (OSError, ValueError):
        provenance = {}
    try:
        soundfont_source = f"pretty_midi {metadata.version('pretty_midi')}"
    except metadata.PackageNotFoundError:
        soundfont_source = "pretty_midi"
    return [
        Component(
            provenance.get("name", "The bundled model"),
            f"step {provenance['best_step']}" if "best_step" in provenance else "",
            "GPL-3.0",  # the strictest licence of its data (the Nottingham collection)
            "the default model's weights, derived from "
            + str(provenance.get("data", "the Nottingham Music Database MIDI collection"))
            + "; they carry the strictest of those licences",
            asset("licenses", "GPL-3.0.txt"),
        ),
        Component(
            "TimGM6mb soundfont (Tim Brechbill)",
            f"from {soundfont_source}",
            "GPL-2.0",
            "General MIDI instruments for playback and WAV export",
            asset("licenses", "GPL-2.0.txt"),
        ),
    ]


def runtime() -> str:
    """Python and the platform, for bug reports."""
    return f"Python {platform.python_version()} on {platform.system()} {platform.machine()}"


def format_about() -> str:
    """Everything above as plain text (what `composer about` prints)."""
    lines = [
        f"Composer {__version__}: train an LSTM on your own MIDI collection and generate music.",
        f"Composer's code is under the {CODE_LICENCE} licence. {runtime()}.",
        "",
        "Bundled data:",
    ]
    for item in bundled_data():
        lines.append(f"  {item.name} ({item.version}), {item.licence}: {item.role}.")
        if item.licence_file is not None:
            lines.append(f"    Licence text: {item.licence_file}")
    lines += ["", "Third-party components (name, version, use, licence):"]
    components = third_party()
    name_width = max(len(item.name) for item in components)
    role_width = max(len(item.role) for item in components)
    for item in components:
        lines.append(
            f"  {item.name:<{name_width}}  {item.version:<13} {item.role:<{role_width}}  "
            f"{item.licence}"
        )
    return "\n".join(lines)
