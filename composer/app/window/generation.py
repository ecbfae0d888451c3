"""The window's generation wiring: Generate writes new pieces into new tabs beside the open ones,
their notes streaming in as they are written; each finished piece keeps how it was made.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot


class Generating(QObject):
    """Given the window's `generation` panel, `documents` and `docks`, and its `regenerating`
    part (Esc stops a Regenerate selection first)."""

    def __init__(self, window, *, generation, documents, docks, regenerating) -> None:
        super().__init__(window)
        self.window = window
        self.generation, self.documents, self.docks = generation, documents, docks
        self.regenerating = regenerating  # Esc stops new bars before a new piece
        self._generating: list = []  # the documents being written
        self.generation.started.connect(self._on_started)
        self.generation.streamed.connect(self._on_streamed)
        self.generation.finished.connect(self._on_generated)
        self.generation.failed.connect(self._on_failed)

    def generate(self) -> None:
        self.docks["generation"].raise_()
        self.generation.generate()

    def stop_generating(self) -> None:
        if not self.regenerating.stop_regenerating():  # Esc stops new bars first
            self.generation.stop()

    @Slot(int, object)
    def _on_started(self, count: int, primer) -> None:
        """New tabs beside the open ones; the notes stream into them."""
        self._generating = [
            self.documents.new_document(title, modified=True)
            for title in self.documents.numbered("Variation", count)
        ]
        for document in self._generating:
            document.busy = True
            if primer is not None:
                document.model.set_piece(primer)
        self.documents.add_documents(self._generating)
        for document in self._generating:
            self.documents.editor(document).view.set_follow(True)

    @Slot(object)
    def _on_streamed(self, update) -> None:
        for document, notes in zip(self._generating, update.notes):
            if notes:
                document.model.append(notes)

    @Slot(object, str)
    def _on_generated(self, pieces, description: str) -> None:
        """Each piece into its tab; a variation that wrote no note (None) is not music, so its
        tab goes (the description names it)."""
        documents, self._generating = self._generating, []
        self.documents.discard([d for d, piece in zip(documents, pieces) if piece is None])
        kept = [(d, piece) for d, piece in zip(documents, pieces) if piece is not None]
        documents = [d for d, _ in kept]
        for document, piece in kept:
            document.model.set_piece(piece)  # the exact result: notes still sounding are closed
            document.metadata = self.metadata(description)
            document.busy = False
            view = self.documents.editor(document).view
            view.set_follow(False)
            # Streaming kept the first bars and pitches in view (a continuation: the primer's):
            # the finished piece opens as an opened file does.
            view.framing.show_opening()
        if documents:
            count = len(documents)
            text = f"Generate {count} variation{'s' if count > 1 else ''}"
            self.documents.open(documents, text, already_shown=True)

    def metadata(self, description: str) -> dict:
        """How the pieces just generated were made, kept with each (and in the session)."""
        panel = self.generation
        return {
            "made": description,
            "model": panel.model.currentText(),
            "style": panel.style.currentText() if panel.style.count() > 1 else None,
            "temperature": panel.temperature.value() / 100,
            "top_k": panel.top_k.value(),
            "top_p": panel.top_p.value(),
            "seconds": panel.seconds.value(),
            "seed": panel.seed.value(),
            "primer": panel.primer.currentText(),
            "steering": panel.steering.describe(),
        }

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        """Keep whatever streamed in before the failure, as pieces of their own."""
        documents, self._generating = self._generating, []
        for document in documents:
            document.busy = False
            self.documents.editor(document).view.set_follow(False)
        if documents:
            self.documents.open(documents, "Generate (stopped)", already_shown=True)
