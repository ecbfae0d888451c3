"""`composer install-desktop`: put Composer in the desktop's application menu, for one user.

A pip install puts a `composer` command in a bin folder but tells the desktop nothing. This copies
the desktop entry, the AppStream metainfo and the icons from assets/ into an XDG data folder
(default ~/.local/share), with the entry's Exec pointing at this very launcher, so the menu item
and "Open With" for .mid files start the Composer that ran the command even when its bin folder is
not on the desktop session's PATH. Distribution packages install the same files from assets/
themselves and do not need this.

audio/midi is already defined by shared-mime-info, so no MIME package is installed and
update-mime-database is never needed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from composer.resources import APP_ID, asset

# The hicolor theme's fixed-size folders that desktops look in; scripts/render_icons.py renders
# assets/icons/composer-N.png for each.
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)

# Characters that make an Exec argument need double quotes (desktop entry spec, "The Exec key").
_EXEC_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def add_parser(commands) -> None:
    install = commands.add_parser(
        "install-desktop",
        help="add Composer to the desktop's application menu and open .mid files with it",
        description="Install Composer's desktop entry, AppStream metainfo and icons into an XDG "
        'data folder, so that it appears in the application menu and in "Open With" for MIDI '
        "files. The entry starts this copy of Composer by its absolute path. Run it again after "
        "moving or reinstalling Composer; --uninstall removes the same files.",
    )
    install.add_argument(
        "--uninstall", action="store_true", help="remove the files an install put there"
    )
    install.add_argument(
        "--prefix",
        metavar="DIR",
        type=Path,
        help="the data folder to use (default: $XDG_DATA_HOME or ~/.local/share; "
        "/usr/local/share installs for every user, as root)",
    )
    install.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if sys.platform in ("win32", "darwin"):
        print(
            "composer install-desktop: desktop entries are for Linux and BSD desktops; on this "
            "system start Composer with the `composer` command or the packaged app.",
            file=sys.stderr,
        )
        return 2
    prefix = (args.prefix or default_prefix()).expanduser().absolute()
    try:
        if args.uninstall:
            _uninstall(prefix)
        else:
            _install(prefix)
    except PermissionError as exc:
        print(
            f"composer install-desktop: no permission to change {exc.filename or prefix}; "
            "choose a --prefix you can write to (or run it as root for a system folder).",
            file=sys.stderr,
        )
        return 2
    except (OSError, ValueError) as exc:
        print(f"composer install-desktop: {str(exc).rstrip('.')}.", file=sys.stderr)
        return 2
    return 0


def default_prefix() -> Path:
    """$XDG_DATA_HOME, else ~/.local/share (the spec says to ignore a relative $XDG_DATA_HOME)."""
    xdg = os.environ.get("XDG_DATA_HOME", "")
    return Path(xdg) if os.path.isabs(xdg) else Path.home() / ".local" / "share"


def destinations(prefix: Path) -> list[tuple[tuple[str, str], Path]]:
    """(asset folder, asset name) -> where it goes under `prefix`, for every file installed."""
    icons = prefix / "icons" / "hicolor"
    files = [
        (("linux", f"{APP_ID}.desktop"), prefix / "applications" / f"{APP_ID}.desktop"),
        (("linux", f"{APP_ID}.metainfo.xml"), prefix / "metainfo" / f"{APP_ID}.metainfo.xml"),
        (("icons", "composer.svg"), icons / "scalable" / "apps" / f"{APP_ID}.svg"),
    ]
    files += [
        (("icons", f"composer-{n}.png"), icons / f"{n}x{n}" / "apps" / f"{APP_ID}.png")
        for n in ICON_SIZES
    ]
    return files


def launcher_command() -> list[str]:
    """The command that starts this Composer, as absolute paths.

    A PyInstaller bundle is its own executable. Otherwise the `composer` script that pip put beside
    the interpreter (or that is running now); failing both, `python -m composer` with this
    interpreter, which always works.
    """
    if getattr(sys, "frozen", False):
        return [os.path.abspath(sys.executable)]
    names = ("composer", "composer.exe")
    running = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if running is not None and running.name in names and running.is_file():
        return [str(running.absolute())]
    beside = Path(sys.executable).absolute().parent
    for name in names:
        if (beside / name).is_file():
            return [str(beside / name)]
    return [str(Path(sys.executable).absolute()), "-m", "composer"]


def quote_exec_argument(argument: str) -> str:
    """One Exec argument, quoted per the desktop entry spec, then escaped as a string value.

    Inside double quotes ", `, $ and \\ take a backslash; the string-value rules then double every
    backslash (so a literal backslash becomes four). A literal % is written %%.
    """
    if "\n" in argument or "\r" in argument:
        raise ValueError(
            f"the path {argument!r} has a line break, which a desktop entry cannot hold"
        )
    argument = argument.replace("%", "%%")
    if argument == "" or _EXEC_RESERVED & set(argument):
        argument = '"' + "".join("\\" + c if c in '"`$\\' else c for c in argument) + '"'
    return argument.replace("\\", "\\\\")


def desktop_entry(template: str, command: list[str]) -> str:
    """The shipped entry with `composer` in Exec and TryExec replaced by `command`."""
    exec_value = " ".join(quote_exec_argument(part) for part in command)
    lines, rewritten = [], False
    for line in template.splitlines():
        if line == "Exec=composer" or line.startswith("Exec=composer "):
            line, rewritten = "Exec=" + exec_value + line[len("Exec=composer") :], True
        elif line == "TryExec=composer":
            line = "TryExec=" + command[0].replace("\\", "\\\\")
        lines.append(line)
    if not rewritten:
        raise ValueError(
            "the shipped desktop entry has no `Exec=composer` line; reinstall Composer"
        )
    return "\n".join(lines) + "\n"


def _install(prefix: Path) -> None:
    from composer.core.files.atomic import atomic_write_bytes

    files = [(asset(*source), target) for source, target in destinations(prefix)]
    missing = [str(source) for source, _ in files if not source.is_file()]
    if missing:
        raise FileNotFoundError(
            f"{missing[0]} is missing from this installation; reinstall Composer"
        )
    command = launcher_command()
    for source, target in files:
        data = source.read_bytes()
        if target.suffix == ".desktop":
            data = desktop_entry(data.decode("utf-8"), command).encode("utf-8")
        atomic_write_bytes(target, data)
        print(f"Installed {target}")
    _refresh_caches(prefix)
    print(f"Composer is in the application menu; the entry starts {' '.join(command)}")


def _uninstall(prefix: Path) -> None:
    removed = 0
    for _, target in destinations(prefix):
        if target.exists():
            target.unlink()
            removed += 1
            print(f"Removed {target}")
    if removed:
        _refresh_caches(prefix)
    else:
        print(f"Nothing to remove: Composer's desktop files are not installed in {prefix}")


def _refresh_caches(prefix: Path) -> None:
    """Tell the desktop about the change; the tools are optional and their failures harmless.

    update-desktop-database rebuilds the MIME-type-to-application cache behind "Open With". An icon
    cache is only refreshed where one exists: GTK ignores a stale cache by its time stamp but does
    not scan past a fresh one, while creating a cache in a folder that had none would leave a file
    behind that --uninstall does not own. Touching the theme folder marks any cache stale.
    """
    applications = prefix / "applications"
    _run_quietly(["update-desktop-database", "-q", str(applications)])
    hicolor = prefix / "icons" / "hicolor"
    try:
        os.utime(hicolor)
    except OSError:
        return
    if (hicolor / "icon-theme.cache").exists():
        _run_quietly(["gtk-update-icon-cache", "-q", "-f", "-t", str(hicolor)])


def _run_quietly(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        return
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(command, capture_output=True, timeout=60, check=False)
