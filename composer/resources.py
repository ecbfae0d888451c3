"""Files shipped with Composer (the bundled model, icons, desktop files, licence texts).

They live in `assets/` at the top of a checkout. A wheel, an sdist and the PyInstaller bundle carry
the same folder inside the package as `composer/assets/` (pyproject.toml maps it there), and they
are found with importlib.resources, never relative to the working directory.
"""

from __future__ import annotations

import contextlib
from importlib import resources
from pathlib import Path

# The reverse-DNS name of the desktop entry and AppStream files in assets/linux, and of the icon
# they name; the app gives it to Qt so docks match the window to the entry.
APP_ID = "io.github.composermidi.Composer"

_CHECKOUT_ASSETS = Path(__file__).resolve().parent.parent / "assets"


def assets_dir() -> Path:
    """The assets folder: the installed package's copy when there is one, else the checkout's.

    The installed copy is asked for first: a checkout's sibling folder named `assets` only counts
    when this module was imported from a checkout (an editable install or ./run), where the
    package folder has no copy of its own.
    """
    installed = Path(str(resources.files("composer") / "assets"))
    if (installed / "model").is_dir():
        return installed
    if (_CHECKOUT_ASSETS / "model").is_dir():
        return _CHECKOUT_ASSETS
    raise FileNotFoundError(
        "Composer's assets folder is missing from this installation; reinstall Composer"
    )


def asset(*parts: str) -> Path:
    """A file or folder inside the assets folder, e.g. asset("model", "model.json")."""
    return assets_dir().joinpath(*parts)


def default_model() -> Path:
    """The bundled model's model.json, which `composer generate` and the app use when given none."""
    with contextlib.suppress(FileNotFoundError):  # no assets folder at all
        path = asset("model", "model.json")
        if path.is_file():
            return path
    raise FileNotFoundError(  # the file a caller expected is not there: not a bug
        "no MODEL given and no bundled model is installed; give a run folder made by "
        "`composer train` or a model .json file"
    )
