"""Composer: train an LSTM on your own MIDI collection and generate new music."""

__version__ = "0.1.0"
