"""The open pieces: one tab each, one undo stack for all of them.

Why one stack for the window rather than one per piece: a generation adds tabs, which belongs to
no single piece, and Ctrl+Z right after it must take those tabs away again. So, as in a DAW's
project, undo walks back through everything done in the window; each step shows the tab it
changes. Closing a tab is itself an undoable step, so a piece closed by mistake comes back with
Ctrl+Z (after the window asked about changes not exported).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QLabel, QTabBar, QTabWidget

from composer.app.document import PieceDocument, SaveAnswer
from composer.app.editing.commands import DocumentsCommand
from composer.app.editing.operations import EditSettings
from composer.app.pianoroll.editor import PieceEditor

WELCOME = (
    "<h2>Composer</h2><p>Open or drop a folder of your MIDI files, train a model on it, "
    "and generate new music here.</p><p>Or pick a model in <b>Generate</b> and press "
    "<b>Ctrl+G</b>.</p>"
)


class Documents(QObject):
    """Owns the tab widget, the pieces in it (in tab order), their editors and the undo stack.

    `ask_save(document)` is supplied by the window: a SaveAnswer.
    Signals: `current_changed()` when another piece is shown; `changed()` when anything worth
    autosaving changed (a tab opened or closed, an edit, an undo).
    """

    current_changed = Signal()
    changed = Signal()
    message = Signal(str)  # a sentence for the status bar

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.settings = EditSettings(self)
        self.documents: list[PieceDocument] = []
        self._editors: dict[int, PieceEditor] = {}  # id(document) -> its editor
        self.ask_save = lambda document: SaveAnswer.DISCARD
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.setTabsClosable(True)
        self.tabs.setElideMode(Qt.TextElideMode.ElideNone)  # the • of "not exported" must show
        self.tabs.setUsesScrollButtons(True)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.tabs.currentChanged.connect(self._on_current)
        self.welcome = QLabel(WELCOME)
        self.welcome.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.welcome.setWordWrap(True)
        self._show_welcome(True)
        self.undo_stack.indexChanged.connect(self._on_undo_index)

    # --- reading ----------------------------------------------------------------------------------
    def editor(self, document: PieceDocument) -> PieceEditor:
        return self._editors[id(document)]

    def current(self) -> PieceDocument | None:
        index = self.tabs.currentIndex()
        return self.documents[index] if 0 <= index < len(self.documents) else None

    def current_editor(self) -> PieceEditor | None:
        document = self.current()
        return self.editor(document) if document is not None else None

    def modified(self) -> list[PieceDocument]:
        return [d for d in self.documents if d.modified]

    # --- opening and closing ------------------------------------------------------------------------
    def new_document(self, title: str, piece=None, **options) -> PieceDocument:
        """A piece not shown yet (see `open`); `piece` is a composer Piece or None."""
        document = PieceDocument(self.undo_stack, title, parent=self, **options)
        if piece is not None:
            document.model.set_piece(piece)
        document.modified_changed.connect(self._on_modified)
        document.title_changed.connect(self._on_modified)  # the tab shows the new name
        document.reveal_requested.connect(self._reveal)
        document.model.edited.connect(self.changed)  # a drag's merged steps move no index
        document.model.tracks_changed.connect(self.changed)  # mute and solo are autosaved too
        return document

    def open(self, documents: list[PieceDocument], text: str, *, already_shown=False) -> None:
        """Show `documents` as new tabs after the others, as one undo step named `text`
        (`already_shown`: their tabs were added earlier with add_documents, e.g. a generation
        that streamed into them)."""
        index = len(self.documents) - (len(documents) if already_shown else 0)
        self.undo_stack.push(DocumentsCommand(self, documents, index, text, done=already_shown))

    def add_documents(self, documents: list[PieceDocument], index: int | None = None) -> None:
        """Insert tabs for `documents` at `index` (the end when None) and show the first."""
        index = len(self.documents) if index is None else index
        self._show_welcome(False)
        self.tabs.blockSignals(True)
        for offset, document in enumerate(documents):
            if id(document) not in self._editors:
                editor = PieceEditor(document, self.settings)
                editor.view.view_changed.connect(self.changed)  # the zoom is autosaved too
                self._editors[id(document)] = editor
            self.documents.insert(index + offset, document)
            self.tabs.insertTab(index + offset, self.editor(document), self._tab_text(document))
        self.tabs.blockSignals(False)
        self.tabs.setCurrentIndex(index)
        self._on_current()  # also says that something changed (for the autosave)

    def remove_documents(self, documents: list[PieceDocument]) -> None:
        """Take the tabs of `documents` away (their editors are kept for an undo to bring back)."""
        self.tabs.blockSignals(True)
        for document in documents:
            if document in self.documents:
                self.tabs.removeTab(self.documents.index(document))
                self.documents.remove(document)
        self.tabs.blockSignals(False)
        self._show_welcome(not self.documents)
        self._on_current()

    def discard(self, documents: list[PieceDocument]) -> None:
        """Take the tabs of `documents` away for good: pieces no undo step holds (a generated
        variation that wrote no note), so their editors go too."""
        self.remove_documents(documents)
        for document in documents:
            self._editors.pop(id(document)).deleteLater()
            document.deleteLater()

    @Slot(int)
    def close_tab(self, index: int) -> bool:
        """Close tab `index` after asking about changes not exported; False when cancelled."""
        if not 0 <= index < len(self.documents):
            return False
        document = self.documents[index]
        if document.regeneration is not None:
            self.message.emit(document.regeneration.busy_sentence())
            return False
        if document.busy:
            self.message.emit(f"{document.title} is still being generated; stop it (Esc) first.")
            return False
        if document.modified and self.ask_save(document) == SaveAnswer.CANCEL:
            return False  # ask_save saves on SAVE, and answers CANCEL when that failed
        self.undo_stack.push(
            DocumentsCommand(self, [document], index, f"Close {document.title}", opening=False)
        )
        return True

    # --- tabs -------------------------------------------------------------------------------------
    def _show_welcome(self, show: bool) -> None:
        at = self.tabs.indexOf(self.welcome)
        if show and at < 0:
            at = self.tabs.addTab(self.welcome, "Welcome")
            # Nothing to close on the welcome page. (Toggling setTabsClosable instead left a
            # second, stale close button on the next first tab.)
            bar = self.tabs.tabBar()
            for side in (QTabBar.ButtonPosition.LeftSide, QTabBar.ButtonPosition.RightSide):
                if button := bar.tabButton(at, side):
                    bar.setTabButton(at, side, None)
                    button.deleteLater()
        elif not show and at >= 0:
            self.tabs.removeTab(at)

    def _tab_text(self, document: PieceDocument) -> str:
        return f"{document.title} •" if document.modified else document.title

    @Slot()
    def _on_modified(self, *_) -> None:
        document = self.sender()
        if document in self.documents:
            index = self.documents.index(document)
            self.tabs.setTabText(index, self._tab_text(document))
            saved = document.export_path
            self.tabs.setTabToolTip(
                index,
                "Changes not saved yet"
                if document.modified
                else (f"Saved as {saved}" if saved else "No changes"),
            )
            self.changed.emit()  # the session keeps the name

    @Slot(int)
    def _on_undo_index(self, _index: int) -> None:
        self.changed.emit()

    @Slot()
    def _reveal(self) -> None:
        document = self.sender()
        if document in self.documents:
            self.tabs.setCurrentIndex(self.documents.index(document))

    @Slot()
    def _on_current(self, *_) -> None:
        self.current_changed.emit()
        self.changed.emit()

    def numbered(self, stem: str, count: int) -> list[str]:
        """Titles for `count` pieces made together, numbered on from the open ones: "Variation
        3", "Variation 4" beside a "Variation 1" and "Variation 2" (one number each, no
        suffixes, so a generation's tabs read as one series)."""
        taken = {d.title for d in self.documents}
        first = 1
        while any(f"{stem} {first + i}" in taken for i in range(count)):
            first += 1
        return [f"{stem} {first + i}" for i in range(count)]

    def titled(self, stem: str) -> str:
        """`stem`, or `stem (2)`, `stem (3)`… so that no two open tabs share a title."""
        taken = {d.title for d in self.documents}
        if stem not in taken:
            return stem
        n = 2
        while f"{stem} ({n})" in taken:
            n += 1
        return f"{stem} ({n})"
