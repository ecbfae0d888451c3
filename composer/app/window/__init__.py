"""The main window (main_window.py, MainWindow) and the parts it composes, each holding the
collaborators it needs: the docks, the pieces shown, learning, generating, regenerating, playing
and exporting."""

from composer.app.window.main_window import MainWindow

__all__ = ["MainWindow"]
