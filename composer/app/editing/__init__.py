"""Editing pieces: undoable commands on a document's notes, the operations the piano roll and the
Edit menu offer, and the arithmetic behind them (pure NumPy, tested without Qt)."""
