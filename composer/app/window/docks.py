"""The window's docks: each panel in a dock of its own that scrolls and is as wide as the panel
needs, every dock and toolbar listed in the View menu, and the panels' widgets kept across
starts (panel_state.py)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QDockWidget, QScrollArea

from composer.app.panels.panel_state import PanelState


def add_dock(window, name: str, title: str, panel, area) -> QDockWidget:
    """`panel` in a new dock of `window` (object name "<name>-dock", for the saved layout)."""
    scroll = QScrollArea()
    scroll.setWidget(panel)
    scroll.setWidgetResizable(True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    # Never clip a field: as wide as the panel needs, also when it grows (Steer opened), and
    # taller panels scroll.
    _FollowWidth(scroll, panel)
    dock = QDockWidget(title, window)
    dock.setObjectName(f"{name}-dock")
    dock.setWidget(scroll)
    window.addDockWidget(area, dock)
    return dock


def list_panels_in_view_menu(window) -> None:
    """Every panel and toolbar in View, so a closed one comes back from the menu (not only from
    a right-click on a toolbar)."""
    menu = window.menus["View"]
    menu.addSeparator()
    for name in ("library", "training", "tracks", "generation"):
        menu.addAction(window.docks[name].toggleViewAction())
    for bar in (window.toolbar, window.edit_toolbar):
        menu.addAction(bar.toggleViewAction())


def panel_states(window) -> list[PanelState]:
    """The panels' widgets kept across starts: the Generate model, the Steer box, the length of
    training, the edit toolbar's grid."""
    steer = window.generation.steering
    names = ("tonic", "scale", "lowest", "highest", "instrument_ranges", "polyphony",
             "programs", "drums", "tempo", "meter", "grid", "density", "primer_density")  # fmt: skip
    length = window.training.length
    return [
        PanelState("generate", {"model": window.generation.model}),
        PanelState("steer", {"on": steer, **{n: getattr(steer, n) for n in names}}),
        PanelState(
            "train", {"unit": length.unit, "steps": length.steps, "minutes": length.minutes}
        ),
        PanelState(
            "edit",
            {"grid": window.grid_box, "snap": window.snap_box, "strength": window.strength_box},
        ),
    ]


class _FollowWidth(QObject):
    """Keeps a scroll area at least as wide as its panel's minimum (plus a scroll bar), each
    time the panel's layout changes: a panel that grows (the Steer box opened) widens its dock
    instead of being cut at the right."""

    def __init__(self, scroll: QScrollArea, panel) -> None:
        super().__init__(scroll)
        self.scroll, self.panel = scroll, panel
        panel.installEventFilter(self)
        self.follow()

    def follow(self) -> None:
        bar = self.scroll.verticalScrollBar().sizeHint().width()
        self.scroll.setMinimumWidth(self.panel.minimumSizeHint().width() + bar + 6)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LayoutRequest:
            self.follow()
        return False
