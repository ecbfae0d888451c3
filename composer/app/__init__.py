"""The desktop app (PySide6). Imports Qt; the core never does."""
