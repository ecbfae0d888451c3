"""Every QSettings key the app uses, with its type, default and limits, in one place.

The settings file is read back as hostile input: a value of the wrong type, not a finite number
or outside its key's limits (temperature=nan, a seed of 20 digits), or a path that names no
file, is never used: `read` and `read_file` give the default instead and keep one sentence about
it in `fallbacks`, which the window shows."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from composer.app import paths
from composer.core.generation.settings import (  # the sampling defaults' and limits' home
    MAX_SECONDS,
    MAX_SEED,
    MAX_TEMPERATURE,
    MIN_TEMPERATURE,
    SamplingSettings,
)


@dataclass(frozen=True)
class Key:
    name: str
    default: Any
    kind: type
    low: float | None = None  # the smallest value used (numbers only)
    high: float | None = None  # the largest

    def fits(self, value: Any) -> bool:
        """Whether `value` (of `kind`) can be used: finite and within the limits."""
        if self.kind not in (int, float) or isinstance(value, bool):
            return True
        if not math.isfinite(value):
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


GEOMETRY = Key("window/geometry", QByteArray(), QByteArray)
WINDOW_STATE = Key("window/state", QByteArray(), QByteArray)  # docks and toolbars
LAST_FOLDER = Key("library/last_folder", "", str)
# Where pieces were last saved or exported: the next Save As starts there (never in the folder
# the library reads, where a saved piece would join what the model learns from).
EXPORT_FOLDER = Key("pieces/export_folder", "", str)
PRESET = Key("training/preset", "small", str)
CONTEXT = Key("training/context", False, bool)  # the Train panel's "Hear the bar and other parts"
TEMPERATURE = Key(
    "generation/temperature",
    SamplingSettings.temperature,
    float,
    MIN_TEMPERATURE,
    MAX_TEMPERATURE,
)
TOP_K = Key("generation/top_k", SamplingSettings.top_k, int, 0, 1000)  # 0: off
TOP_P = Key("generation/top_p", SamplingSettings.top_p, float, 0.05, 1.0)
SECONDS = Key("generation/seconds", SamplingSettings.seconds, float, 1, MAX_SECONDS)
VARIATIONS = Key("generation/variations", 2, int, 1, 16)  # the app offers a choice of two
#: The largest seed a QSpinBox can hold (a signed 32-bit integer): the seed boxes' limit, below
#: the core's MAX_SEED.
SEED_BOX_MAX = min(MAX_SEED, 2**31 - 1)
SEED = Key("generation/seed", 1, int, 0, SEED_BOX_MAX)  # used when the random seed is off
RANDOM_SEED = Key("generation/random_seed", True, bool)
SOUNDFONT = Key("playback/soundfont", "", str)  # "" = TimGM6mb from pretty_midi

#: One sentence per setting that was read back unusable and replaced by its default.
fallbacks: list[str] = []


def settings() -> QSettings:
    """The user's settings; with $COMPOSER_DATA_DIR (tests, benchmarks, the screenshot script) an
    ini file in that folder instead, so that they never touch the user's own."""
    if os.environ.get("COMPOSER_DATA_DIR"):
        return QSettings(str(paths.data_dir() / "settings.ini"), QSettings.Format.IniFormat)
    return QSettings("Composer", "Composer")


def read(key: Key) -> Any:
    """The value of `key`, or its default when there is none or it cannot be used."""
    store = settings()
    value = store.value(key.name, key.default)
    if key.kind is bool and isinstance(value, str):  # some back-ends store booleans as text
        return value.lower() == "true"
    raw = value
    try:
        value = key.kind(value) if value is not None else key.default
    except (TypeError, ValueError, OverflowError):
        value = None
    if key.kind is str and not isinstance(raw, str):  # str() takes anything: a list ("a, b")
        value = None
    if value is None or not key.fits(value):
        must = _KIND_WORDS[key.kind]
        if key.low is not None and key.high is not None:
            must = f"a number from {key.low:,} to {key.high:,}"
        shown = key.default if key.kind in (int, float) or key.default else None
        default = "the default" if shown is None else f"the default, {shown},"
        if key.kind is QByteArray:
            default = "the window's own layout"
        _fall_back(
            f"The setting {key.name}={str(raw)[:40]} in {store.fileName()} is not {must}; "
            f"{default} is used instead."
        )
        return key.default
    return value


#: What a setting of each kind must be, as the sentence about an unusable one says it.
_KIND_WORDS = {
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    str: "text",
    QByteArray: "a window layout Composer saved",
}


def _fall_back(sentence: str) -> None:
    if sentence not in fallbacks:
        fallbacks.append(sentence)


def read_file(key: Key) -> Path | None:
    """The existing file a path setting names; None when it names none, with a sentence in
    `fallbacks` when it names something that is not a file (moved away, or not a path at all)."""
    chosen = read(key)
    if not chosen:
        return None
    try:
        if Path(chosen).is_file():
            return Path(chosen)
    except (OSError, ValueError):  # a name too long for the system, a NUL in it
        pass
    _fall_back(
        f"The setting {key.name}={chosen[:40]} in {settings().fileName()} names no file; "
        "it is left unused."
    )
    return None


def take_fallbacks() -> list[str]:
    """The sentences about unusable settings read so far, once."""
    taken = list(fallbacks)
    fallbacks.clear()
    return taken


def write(key: Key, value: Any) -> None:
    settings().setValue(key.name, value)
