"""A piece as the app holds it: its notes (notes.py, NoteModel) and its tracks (tracks.py). The
document (document.py), the editing commands and the piano roll all read it; it reads none of
them (an import-linter contract keeps it so)."""
