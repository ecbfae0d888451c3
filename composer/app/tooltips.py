"""What every control of the Train and Generate panels does, in a musician's words (tooltips)."""

from __future__ import annotations

LOSS = (
    "Nats per token: how surprised the model is by the next note event; lower is better. "
    "A uniform guess over the vocabulary of V tokens scores ln(V), about 6.2 for Composer's; "
    "around 1.5–2.5 is good for most collections."
)

TRAINING = {
    "context": "Let the model hear where the music is in the bar, what it played 1, 2, 4 and 8 "
    "bars before (a tune repeats its phrases), and, when it regenerates bars or adds a part, "
    "what the other parts and the bars around play (composer train --context). A model started "
    "from one without this learns it.",
    "preset": "How big a model to train: bigger ones learn more from large collections, but "
    "take longer and over-fit (copy) small ones. Hover over a size for more.",
    "start_from": "What the new model starts from. The base model already knows pop, folk, "
    "chorales, fiddle tunes, classical and madrigals, and learns your style in minutes "
    "(recommended for collections under a few hundred files); an empty model learns only from "
    "your files; another run continues a model you trained before on new music.",
    "length": "How long to train: a number of steps (each learns from one batch of passages) "
    "or minutes. When you resume a run this shows its own target; raise it to train further.",
    "device": "Where to train: Automatic picks an NVIDIA or Apple GPU when there is one, "
    "otherwise the processor (CPU).",
    "advanced": "Every setting of the model and of training, for those who want to change one.",
    "layers": "How many LSTM layers are stacked: more can learn longer-range structure; 2–3 is "
    "usually enough.",
    "hidden_size": "The model's memory per layer: more units remember more of the music so far, "
    "and cost more time (it grows with the square).",
    "embedding_size": "How many numbers describe each note event the model reads.",
    "dropout": "How much the model is made to forget at random while learning, so that it "
    "learns the style instead of copying pieces; raise it for small collections.",
    "batch_size": "How many pieces are read side by side in each step: more is smoother and "
    "faster on a GPU, and needs more memory.",
    "window": "How many note events the model learns from at once before it is corrected; "
    "its memory still carries on across windows within a piece.",
    "learning_rate": "How big a correction each step makes: too high and the loss jumps or "
    "becomes NaN, too low and learning is slow.",
    "validation_fraction": "The share of your files kept aside, never learnt from, to check "
    "how well the model does on music it has not seen.",
    "eval_every": "How often (in steps) to check the held-out files and save a checkpoint.",
    "transpose": "Play each piece in a random key up to this many semitones up or down while "
    "learning, so that the model hears more variety (drums are never transposed; 0: off).",
    "tempo_stretch": "Play each piece up to this much faster or slower while learning "
    "(0.05: ±5 %; 0: off).",
    "patience": "Stop by itself when this many checks of the held-out files in a row bring no "
    "improvement, keeping the best model so far (0: never stop early).",
    "seed": "The same seed with the same settings and files trains the same model again; "
    "change it for a different one.",
    "start_button": "Train a new model on the folder open in the Library.",
    "pause_button": "Pause training (the run stays in memory); press again to go on.",
    "stop_button": "Stop after the current step and save a checkpoint; you can resume it later.",
    "open_button": "Continue a run saved earlier, from its latest checkpoint, towards its own "
    "steps.",
}

READOUTS = {
    "Step": "Steps done, of the steps this run trains.",
    "Epoch": "How many times the model has gone through your training files.",
    "Loss": LOSS + " This is on the files it learns from.",
    "Validation": LOSS + " This is on the held-out files, with the best so far: "
    "validation rising while loss falls means over-fitting (the model is copying your pieces).",
    "Tokens/s": "How many note events the model learns from per second.",
    "ETA": "Time left until the last step (minutes:seconds), at the recent pace.",
    "Device": "Where the model trains.",
}

GENERATION = {
    "model": "Which model writes the music: the bundled one, one of your runs (with the "
    "checkpoint used: its best by validation, or its latest), or a model file.",
    "temperature": "How bold the choices are: low is safe and repetitive, high is adventurous "
    "and erratic; 1.00 plays the model as it learnt.",
    "top_k": "Choose only among the K most likely next events (off: all of them): lower is "
    "safer, higher is more varied.",
    "top_p": "Keeps only the most likely choices that together make up P of the probability: "
    "lower = safer, 1.00 = off.",
    "seconds": "How long each variation plays, in seconds.",
    "variations": "How many different pieces to write at once, each in its own tab.",
    "patience": "Stop by itself when this many checks of the held-out files in a row bring no "
    "improvement, keeping the best model so far (0: never stop early).",
    "seed": "The same seed with the same settings writes the same music again.",
    "random_seed": "Pick a new seed for every generation (it is shown, so you can keep one "
    "you like).",
    "primer": "Start from silence, or continue a MIDI file or the range selected on the piano "
    "roll in the model's style.",
    "style": "Which of the collections the model learnt from to play like. A model fine-tuned "
    "on your files plays like them unless you choose another.",
    "generate": "Write new music with these settings.",
    "stop": "Stop writing; what was written so far is kept.",
}


STEERING = {
    "steer": "Steer the music: keep it in a key, a range, a number of voices, chosen instruments, "
    "a tempo, a rhythm grid and a density. Works with every model; switched off, the model "
    "plays as it learnt to.",
    "tonic": "The key's home note.",
    "scale": "Only notes of this scale are played (drums are free); 'any key' turns it off.",
    "lowest": "The lowest note any instrument but the drums may play (C4 is middle C).",
    "highest": "The highest note any instrument but the drums may play (C4 is middle C).",
    "instrument_ranges": "Ranges for single instruments, by General MIDI number: "
    "40=G3-E7, 32=E1-G3 keeps the violin and the bass in their ranges; the others keep the range above.",
    "primer_density": "Play as busily as the file or selection being continued.",
    "polyphony": "At most this many notes sounding at once on each instrument ('any': no limit).",
    "programs": "Only these instruments, by General MIDI name or number (violin or 40, flute or "
    "73), or a whole family (piano, guitar, bass, strings, brass, reed...); empty: any; none: "
    "drums alone.",
    "drums": "Whether drums may play.",
    "tempo": "Play the new music at exactly this tempo ('the model's': a primer's tempo goes "
    "on, else the model chooses).",
    "meter": "The time signature of music started from silence (a waltz in 3/4, a jig in 6/8); "
    "continuing a piece keeps its own. Models trained with 'Hear the bar' count its bars.",
    "grid": "Start every note on this grid, as on a DAW's snap: straight eighths or "
    "sixteenths, or triplets.",
    "density": "How busy: about this many notes per beat, all instruments together "
    "('the model's': as it learnt).",
}
