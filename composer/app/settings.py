"""Every QSettings key the app uses, with its type and default, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from composer.app import paths
from composer.core.generation.settings import SamplingSettings  # the sampling defaults' home


@dataclass(frozen=True)
class Key:
    name: str
    default: Any
    kind: type


GEOMETRY = Key("window/geometry", QByteArray(), QByteArray)
WINDOW_STATE = Key("window/state", QByteArray(), QByteArray)  # docks and toolbars
LAST_FOLDER = Key("library/last_folder", "", str)
PRESET = Key("training/preset", "small", str)
TEMPERATURE = Key("generation/temperature", SamplingSettings.temperature, float)
TOP_K = Key("generation/top_k", SamplingSettings.top_k, int)
TOP_P = Key("generation/top_p", SamplingSettings.top_p, float)
SECONDS = Key("generation/seconds", SamplingSettings.seconds, float)
VARIATIONS = Key("generation/variations", 2, int)  # the app offers a choice of two
SEED = Key("generation/seed", 1, int)  # used when the random seed is off
RANDOM_SEED = Key("generation/random_seed", True, bool)
SOUNDFONT = Key("playback/soundfont", "", str)  # "" = TimGM6mb from pretty_midi


def settings() -> QSettings:
    """The user's settings; with $COMPOSER_DATA_DIR (tests, benchmarks, the screenshot script) an
    ini file in that folder instead, so that they never touch the user's own."""
    if os.environ.get("COMPOSER_DATA_DIR"):
        return QSettings(str(paths.data_dir() / "settings.ini"), QSettings.Format.IniFormat)
    return QSettings("Composer", "Composer")


def read(key: Key) -> Any:
    value = settings().value(key.name, key.default)
    if key.kind is bool and isinstance(value, str):  # some back-ends store booleans as text
        return value.lower() == "true"
    try:
        return key.kind(value) if value is not None else key.default
    except (TypeError, ValueError):
        return key.default


def write(key: Key, value: Any) -> None:
    settings().setValue(key.name, value)
