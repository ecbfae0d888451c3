"""Saving pieces as MIDI files (Save, Save As, Save all: the file keeps how the piece was made,
and the tab takes its name), exporting them as MIDI and WAV, and saving the ones with changes
before they close (Save / Discard / Cancel; several at once when quitting).

Save As starts in the folder pieces were last saved in, never in the folder the library reads:
a piece saved there would join the music the model learns from.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QFileDialog

from composer.app import settings
from composer.app.document import SaveAnswer
from composer.app.regeneration import RegenerationState
from composer.app.workers import UserError, Worker


class Exporting(QObject):
    """Given the window's `documents`, `tabs`, `threads`, its `pieces` part (the piece shown),
    `playback` (the soundfont of WAV export) and `library` (never saved into); asks through `window.choose_save`, `window.ask`
    and `window.tell`, which tests replace."""

    def __init__(self, window, *, documents, tabs, threads, pieces, playback, library) -> None:
        super().__init__(window)
        self.window = window
        self.documents, self.tabs, self.threads = documents, tabs, threads
        self.pieces, self.playback, self.library = pieces, playback, library

    def ask_save(self, document) -> str:
        """Save, discard or keep `document`, whose changes were not saved: SAVE (after saving
        it), DISCARD, or CANCEL (also when saving did not happen)."""
        answer = self.window.choose_save(document.title)
        if answer == SaveAnswer.SAVE:
            return SaveAnswer.SAVE if self.save_document(document) else SaveAnswer.CANCEL
        return answer

    def ask_save_many(self, documents) -> tuple[str, list]:
        """One question for several pieces with changes (quitting): (SAVE, []) after saving
        them all, (DISCARD, documents), or (CANCEL, []) (also when one was not saved)."""
        answer = self.window.choose_save_all([d.title for d in documents])
        if answer == SaveAnswer.SAVE:
            saved = all(self.save_document(d) for d in documents)  # stops at the first refusal
            return (SaveAnswer.SAVE, []) if saved else (SaveAnswer.CANCEL, [])
        return (answer, list(documents) if answer == SaveAnswer.DISCARD else [])

    # --- Save, Save As, Save all ----------------------------------------------------------------
    def save(self) -> None:
        if document := self._current_document():
            self.save_document(document)

    def save_as(self) -> None:
        if document := self._current_document():
            self.save_document(document, choose=True)

    def save_all(self) -> None:
        """Save every piece with changes (asking where for those never saved)."""
        documents = self.documents.modified()
        if not documents:
            self.window.show_status("Every piece is saved.")
            return
        saved = 0
        for document in documents:
            if not self.save_document(document):
                break
            saved += 1
        self.window.show_status(f"Saved {saved} of {len(documents)} pieces with changes.")

    def _current_document(self):
        document = self.documents.current()
        if document is None or not len(document.model):
            self.window.tell("There is nothing to save yet; generate or open some music first.")
            return None
        return document

    def save_document(self, document, *, choose: bool = False) -> bool:
        """Save `document` as a MIDI file that keeps how it was made: where it was saved before,
        else (or with `choose`) where the musician chooses. The tab takes the file's name and
        the piece counts as saved. False when that did not happen."""
        index = self.documents.documents.index(document)
        path = None if choose else document.export_path
        if path is None:
            self.tabs.setCurrentIndex(index)
            path = self.ask_save_path("Save as", ".mid", "MIDI files (*.mid)")
            if path is None:
                return False
        written = self.write_piece(index, path, overwrite=True)
        if written is None:
            return False
        self._saved_as(document, written)
        self.window.show_status(f"Saved {written}")
        return True

    def ask_save_path(self, title: str, suffix: str, file_filter: str) -> Path | None:
        """A file to save the piece shown in (the dialog asks before replacing one), or None
        after saying why when there is nothing to save. The dialog starts in the folder last
        saved in, named after the tab."""
        found = self.pieces.current()
        if found is None or len(found[0]) == 0:
            self.window.tell("There is nothing to export yet; generate or open some music first.")
            return None
        document = self.documents.current()
        start = str(self.save_folder() / _file_name(document.title, suffix))
        path, _ = QFileDialog.getSaveFileName(self.window, title, start, file_filter)
        return Path(path) if path else None

    def save_folder(self) -> Path:
        """Where Save As starts: the folder last saved or exported in, else Music or the home
        folder; never inside the folder the library reads (what the model learns from)."""
        library = getattr(self.library, "folder", None)
        for candidate in (settings.read(settings.EXPORT_FOLDER), Path.home() / "Music"):
            if not candidate or not Path(candidate).is_dir():
                continue
            folder = Path(candidate).resolve()
            if library and folder.is_relative_to(Path(library).resolve()):
                continue
            return folder
        return Path.home()

    # --- MIDI -----------------------------------------------------------------------------------
    def export_variation(self, index: int, path: Path, *, overwrite: bool = False) -> Path | None:
        """Write piece `index` to `path` as MIDI; it then counts as saved there, and its tab
        takes the file's name, as after Save as (None after saying why it could not be
        written)."""
        written = self.write_piece(index, path, overwrite=overwrite)
        if written is not None:
            self._saved_as(self.documents.documents[index], written)
            self.window.show_status(f"Exported {written}")
        return written

    def _saved_as(self, document, written: Path) -> None:
        """`document` is now the file `written`: clean, and named after it."""
        document.mark_saved(written)
        if document.title != written.name:
            document.set_title(self.documents.titled(written.name))

    def write_piece(self, index: int, path: Path, *, overwrite: bool = False) -> Path | None:
        """Write piece `index` to `path` as MIDI, or say why not and return None."""
        from composer.core.errors import SettingsError
        from composer.core.midi import write_midi

        document = self.documents.documents[index]
        if (
            document.regeneration is not None
            and document.regeneration.state == RegenerationState.CHOOSING
        ):
            self.window.tell(document.regeneration.busy_sentence())
            return None
        try:
            written = write_midi(
                document.model.to_piece(), path, overwrite=overwrite, metadata=document.metadata
            )
        except FileExistsError as exc:
            self.window.tell(str(exc))
        except SettingsError as exc:  # a piece MIDI cannot hold
            self.window.tell(f"{exc}.")
        except OSError as exc:
            self.window.tell(
                f"Could not write {path} ({exc.strerror or exc}); choose another folder."
            )
        else:
            settings.write(settings.EXPORT_FOLDER, str(written.parent.resolve()))
            return written
        return None

    def export_current(self) -> None:
        if path := self.ask_save_path("Export MIDI", ".mid", "MIDI files (*.mid)"):
            self.export_variation(self.tabs.currentIndex(), path, overwrite=True)

    def export_all(self) -> None:
        if not any(len(model) for model, _ in self.pieces.variations):
            self.window.tell("There is nothing to export yet; generate some music first.")
            return
        folder = QFileDialog.getExistingDirectory(
            self.window, "Export all pieces into", str(self.save_folder())
        )
        if folder:
            self.export_all_to(Path(folder))

    def export_all_to(self, folder: Path) -> list[Path]:
        """Every piece into `folder`, each named after its tab ("Variation 2" ->
        variation-2.mid); the status bar says how many."""
        names = [_file_name(d.title) for d in self.documents.documents]
        targets = [folder / name for name in names]
        existing = [t for t in targets if t.exists()]
        if existing and not self.window.ask(
            f"{len(existing)} of these files already exist in {folder}, such as {existing[0].name}. Replace them?"
        ):
            return []
        written = [
            p for i, t in enumerate(targets) if (p := self.export_variation(i, t, overwrite=True))
        ]
        self.window.show_status(f"Exported {len(written)} of {len(targets)} pieces into {folder}.")
        return written

    # --- WAV ------------------------------------------------------------------------------------
    def export_wav(self) -> None:
        if path := self.ask_save_path("Export WAV", ".wav", "WAV audio (*.wav)"):
            self.export_wav_to(self.tabs.currentIndex(), path, overwrite=True)

    def export_wav_to(self, index: int, path: Path, *, overwrite: bool = False) -> Worker:
        """Render variation `index` as it is heard (muted tracks left out, soloed ones alone)
        and write it to `path` in the background."""
        piece = self.pieces.variations[index][0].to_piece(audible_only=True)
        soundfont = self.playback.soundfont
        worker = Worker(lambda w: _write_wav(w, piece, soundfont, path, overwrite))
        worker.succeeded.connect(self.window.show_status)
        worker.failed.connect(self._on_export_failed)
        self.window.show_status(f"Rendering {path.name}…")
        return self.threads.start(worker)

    @Slot(str, bool)
    def _on_export_failed(self, message: str, unexpected: bool) -> None:
        self.window.tell(message)


def _write_wav(worker, piece, soundfont, path: Path, overwrite: bool) -> str:
    from composer.core.audio import AudioError, render, write_wav

    if path.exists() and not overwrite:
        raise UserError(f"{path} already exists; choose another name")
    try:
        audio = render(piece, soundfont, should_stop=lambda: worker.stop_requested)
        write_wav(audio.samples, audio.sample_rate, path, overwrite=overwrite)
    except (AudioError, OSError) as exc:
        raise UserError(f"Could not write {path}: {exc}") from None
    return f"Exported {path} ({audio.seconds:.1f} s)" + (f"; {audio.note}" if audio.note else "")


def _file_name(title: str, suffix: str = ".mid") -> str:
    """A tab's title as a file's name: "Variation 2" -> "variation-2.mid", "tune.mid" stays
    (or "tune.wav" with that suffix); characters a file name cannot hold become "-"."""
    stem = Path(title).stem if title.lower().endswith((".mid", ".midi")) else title
    stem = "".join(c if c.isalnum() or c in "-_ ()." else "-" for c in stem).strip(" .")
    return f"{stem.replace(' ', '-').lower() or 'piece'}{suffix}"
