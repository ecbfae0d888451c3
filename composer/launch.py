"""The `composer` command's entry point: a COMMAND runs in composer.cli; no command, or MIDI files
to show, opens the desktop app (composer.app).

The one module that imports both the command line and the app, so that each can stay blind to the
other (the layers contract in pyproject.toml). Each is imported only when needed: `composer
--help` never loads Qt.
"""

from __future__ import annotations

from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from composer.cli import main as run_command

    return run_command(argv, open_app=open_app)


def open_app(files: list[Path] | None) -> int:
    """The desktop app, showing `files` when given."""
    from composer.app.main import run

    return run(files=files)
