"""Hearing the piece: rendering and playing it (player.py, Playback) and the transport bar
(transport.py); the window's Player (window/playback.py) drives them."""
