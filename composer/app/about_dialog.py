"""Help → About Composer: the version, and the licences of the bundled model data and of the
third-party components (composer/about.py gathers them; this only lays them out)."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QUrl, qVersion
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from composer import __version__, about


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("About Composer")
        icon = QLabel()
        icon.setPixmap(QApplication.windowIcon().pixmap(64, 64))
        title = QLabel(
            f"<h2>Composer {escape(__version__)}</h2>"
            "<p>Train an LSTM on your own MIDI collection and generate new music.</p>"
            f"<p>Composer's code is under the {about.CODE_LICENCE} licence. Model files are "
            "safetensors + JSON: opening one never runs code.</p>"
            f"<p>{escape(about.runtime())}, Qt {escape(qVersion())}.</p>"
        )
        title.setWordWrap(True)
        header = QHBoxLayout()
        header.addWidget(icon)
        header.addWidget(title, 1)

        self.details = QTextBrowser()
        self.details.setOpenLinks(False)  # licence files open in the user's text viewer
        self.details.anchorClicked.connect(QDesktopServices.openUrl)
        self.details.setHtml(details_html())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)
        self.resize(760, 560)


def details_html() -> str:
    """Two tables: the bundled data and the third-party components, with their licences."""
    rows = []
    for item in about.bundled_data():
        link = ""
        if item.licence_file is not None and item.licence_file.is_file():
            url = QUrl.fromLocalFile(str(item.licence_file)).toString()
            link = f' (<a href="{escape(url)}">text</a>)'
        rows.append(
            f"<tr><td><b>{escape(item.name)}</b><br>{escape(item.version)}</td>"
            f"<td>{escape(item.licence)}{link}</td><td>{escape(item.role)}</td></tr>"
        )
    bundled = "".join(rows)
    components = "".join(
        f"<tr><td><b>{escape(item.name)}</b></td><td>{escape(item.version)}</td>"
        f"<td>{escape(item.licence)}</td><td>{escape(item.role)}</td></tr>"
        for item in about.third_party()
    )
    return (
        "<h3>Bundled data</h3>"
        '<table cellspacing="0" cellpadding="4" border="0">'
        f"<tr><th align=left>Data</th><th align=left>Licence</th><th align=left>What</th></tr>"
        f"{bundled}</table>"
        "<p>Music you generate is yours.</p>"
        "<h3>Third-party components</h3>"
        '<table cellspacing="0" cellpadding="4" border="0">'
        "<tr><th align=left>Component</th><th align=left>Version</th>"
        "<th align=left>Licence</th><th align=left>Used for</th></tr>"
        f"{components}</table>"
    )
