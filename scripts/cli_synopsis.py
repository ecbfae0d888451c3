"""The synopsis of every `composer` command, from its argparse parser, for docs/command-line.md:
printed, or written between the markers there with --write (tests/cli/test_cli_docs.py checks that
the document holds exactly what this prints, so the synopsis cannot drift from the code).

    python scripts/cli_synopsis.py [--write]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "command-line.md"
START, END = "<!-- synopsis: scripts/cli_synopsis.py -->", "<!-- /synopsis -->"
WIDTH = "100"  # columns argparse wraps at: fixed, so the text is the same on every terminal


def synopsis() -> str:
    """Every command's usage, one block, as `composer COMMAND -h` prints it at WIDTH columns."""
    os.environ["COLUMNS"] = WIDTH
    sys.path.insert(0, str(ROOT))
    from composer.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    usages = [sub.format_usage().strip() for sub in commands.choices.values()]
    return "\n".join(u.removeprefix("usage: ") for u in usages)


def block() -> str:
    return f"{START}\n```\n{synopsis()}\n```\n{END}"


def main() -> None:
    text = block()
    if "--write" not in sys.argv:
        print(text)
        return
    doc = DOC.read_text("utf-8")
    if START in doc:
        before, rest = doc.split(START, 1)
        after = rest.split(END, 1)[1]
        doc = before + text + after
    else:  # first time: after the introduction
        head, rest = doc.split("\n## ", 1)
        doc = f"{head}\n## Synopsis\n\n{text}\n\n## {rest}"
    DOC.write_text(doc, "utf-8")
    print(f"wrote the synopsis into {DOC}")


if __name__ == "__main__":
    main()
