"""Render assets/icons/composer.svg to the PNG sizes desktops ask for, with Qt's own SVG renderer.

    python scripts/render_icons.py

Run it after every change to the SVG: tests/project/test_desktop_files.py re-renders the SVG with
`render()` below and fails when a PNG no longer matches. QtSvg is already a dependency (PySide6),
so rendering needs no other tool, and the app draws the SVG with the same renderer.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QByteArray, Qt  # noqa: E402
from PySide6.QtGui import QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

from composer.cli.desktop import ICON_SIZES  # noqa: E402

ICONS = ROOT / "assets" / "icons"
SVG = ICONS / "composer.svg"


def png_path(size: int) -> Path:
    return ICONS / f"composer-{size}.png"


def render(svg: bytes, size: int) -> QImage:
    """The SVG drawn into a transparent size x size image (straight, not premultiplied, alpha).

    Straight ARGB32 is what a PNG stores, so an image read back from the file compares equal.
    """
    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise ValueError("the SVG does not parse")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image.convertToFormat(QImage.Format.Format_ARGB32)


def main() -> int:
    svg = SVG.read_bytes()
    for size in ICON_SIZES:
        path = png_path(size)
        if not render(svg, size).save(str(path), "PNG"):
            print(f"could not write {path}", file=sys.stderr)
            return 1
        print(f"Wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
