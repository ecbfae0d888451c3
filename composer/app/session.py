"""Autosaving the open pieces and restoring them on the next start, also after a crash.

The window's pieces are written through composer.core.session (one locked slot folder per
running app, files replaced atomically) about a second after the last change, and once more
when the window closes. A second Composer running at the same time gets a slot of its own, so
neither overwrites the other's pieces; the next start after a crash picks the crashed one's up,
and takes in what any other window left in its slot. Pieces that cannot be restored are set aside
in the slot (never deleted) and the status bar says where.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from composer.app import paths
from composer.app.piece.tracks import tracks_from_json, tracks_to_json

AUTOSAVE_DELAY_MS = 1000  # after the last change; a drag's many steps make one write


class SessionKeeper(QObject):
    """Connects a window's Documents to an autosave slot. `message(str)` reports problems."""

    message = Signal(str)

    def __init__(self, documents, parent: QObject | None = None):
        super().__init__(parent)
        self.documents = documents
        self.session = None
        self._failed = False  # say a failing autosave once, not every second
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(AUTOSAVE_DELAY_MS)
        self.timer.timeout.connect(self.save_now)

    def restore(self) -> None:
        """Open this app's slot and show the pieces it holds, as they were."""
        from composer.app.piece.notes import ROLL_DTYPE
        from composer.core.session import SessionError, SessionStore

        try:
            # Sessions saved before tracks have notes without one: by instrument then.
            folder = paths.data_dir() / "sessions"
            store = SessionStore(folder, notes_dtype=ROLL_DTYPE, notes_optional=("track",))
            self.session = store.open()
        except SessionError as exc:
            self.message.emit(f"{exc} Pieces will not be autosaved.")
            return
        documents = [self._document(piece) for piece in self.session.pieces]
        if documents:
            self.documents.add_documents(documents)
            for document, saved in zip(documents, self.session.pieces):
                self.documents.editor(document).view.framing.restore_view_state(saved.view)
            self.documents.tabs.setCurrentIndex(min(self.session.current, len(documents) - 1))
        sentences = list(self.session.warnings)
        if documents:
            count = len(documents)
            reopened = f"Reopened {count} piece{'s' if count > 1 else ''} from last time"
            if merged := self.session.merged:
                others = sum(n for _, n in merged)
                folders = ", ".join(str(folder) for folder, _ in merged)
                reopened += f", {others} of them left by another window in {folders}"
            sentences.insert(0, f"{reopened}.")
        if sentences:
            self.message.emit(" ".join(sentences))
        self.documents.changed.connect(self.schedule)

    def _document(self, saved):
        document = self.documents.new_document(
            saved.title,
            source=Path(saved.source) if saved.source else None,
            metadata=saved.metadata,
        )
        document.model.set_notes(
            saved.notes,
            saved.ticks_per_beat,
            tempos=saved.tempos,
            time_signatures=saved.time_signatures,
            tracks=tracks_from_json(saved.tracks),
        )
        document.export_path = Path(saved.export_path) if saved.export_path else None
        if saved.modified:
            document.mark_modified()
        return document

    def warnings(self) -> list[str]:
        """The sentences about what the restore set aside (empty without a session)."""
        return list(self.session.warnings) if self.session is not None else []

    def schedule(self) -> None:
        if self.session is not None:
            self.timer.start()

    def save_now(self, leave_out=()) -> None:
        """Write the open pieces (but those in `leave_out`) now."""
        from composer.core.session import SessionError

        if self.session is None or self.session.closed:
            return
        self.timer.stop()
        kept = [d for d in self.documents.documents if d not in leave_out]
        current = self.documents.current()
        index = kept.index(current) if current in kept else 0
        try:
            self.session.save([self._saved(d) for d in kept], index)
        except SessionError as exc:
            if not self._failed:
                self.message.emit(f"{exc}.")
            self._failed = True
            return
        self._failed = False

    def _saved(self, document):
        from composer.core.session import SavedPiece

        model = document.model
        view = self.documents.editor(document).view
        return SavedPiece(
            title=document.title,
            # While alternatives are auditioned: the notes as the musician had them.
            notes=(r.original_notes() if (r := document.regeneration) else model.notes.copy()),
            ticks_per_beat=model.ticks_per_beat,
            tempos=model.tempos,
            time_signatures=model.time_signatures,
            source=str(document.source) if document.source else None,
            export_path=str(document.export_path) if document.export_path else None,
            modified=document.modified,
            metadata=document.metadata,
            view={k: v for k, v in view.framing.view_state().items() if math.isfinite(v)},
            tracks=tracks_to_json(
                r.original_tracks() if (r := document.regeneration) else model.tracks
            ),
        )

    def finish(self, discarded=()) -> None:
        """The window closes: save what stays open (not the pieces the user discarded) and
        give the slot up; an empty session leaves no files behind."""
        if self.session is None or self.session.closed:
            return
        self.save_now(leave_out=discarded)
        remaining = [d for d in self.documents.documents if d not in discarded]
        self.session.close(keep=bool(remaining))
