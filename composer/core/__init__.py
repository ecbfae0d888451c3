"""The engine: MIDI, tokens, corpus, model, training, generation. Never imports Qt."""
