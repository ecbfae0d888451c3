"""`composer about`: the version, the licences of the bundled model data and of the third-party
components (the same facts as the app's Help → About dialog)."""

from __future__ import annotations

import argparse


def add_parser(commands) -> None:
    about = commands.add_parser(
        "about",
        help="show the version and the licences of bundled data and third-party components",
        description="Show Composer's version, the licences of the data bundled with it (the "
        "default model's weights, the playback soundfont) and of the components it runs on.",
    )
    about.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from composer.about import format_about

    print(format_about())
    return 0
