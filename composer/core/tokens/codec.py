"""Encoding a Piece to token ids and decoding token ids back to a Piece.

A token sequence is `Bos, event..., Eos`. Each event is preceded by the tokens that change state:
TimeShift tokens (grid steps since the previous event, chained when longer than max_shift_steps),
a Program/Drums token when the instrument differs from the previous note event's, a Velocity token
when a note-on's loudness bin differs from the previous note-on's. At one grid step, note-offs come
before tempo changes, which come before note-ons; within a kind, by instrument, then pitch.

Encoding is vectorised (no Python loop per note): it is the ingest bottleneck once parsing is fast.
Decoding walks the tokens with a small state machine that repairs what a model may get wrong
(a note-off for a silent note is ignored, a note-on for a sounding note restarts it, notes still
sounding at the end are closed), so any id sequence decodes to valid music.

`decode(encode(piece)) == quantize(piece)`: quantize puts notes on the grid, gives zero-length
notes one step, bins velocities and tempos, and resolves same-pitch overlaps within an instrument
(two notes struck together: the longer is kept; a note still sounding when the same key is struck
again: it ends there), as a keyboard player would hear it.
"""

from __future__ import annotations

import numpy as np

from composer.core.midi.piece import Piece, Track, make_notes, make_tempos
from composer.core.tokens.stream import StreamDecoder
from composer.core.tokens.vocab import BOS, EOS, Vocabulary

_OFF, _TEMPO, _ON = 0, 1, 2  # event kinds, in their order within one grid step

#: The most tokens one piece may become (about 20 hours of dense piano): bounds the memory a
#: damaged or hostile file can make encoding allocate.
MAX_TOKENS = 20_000_000


class TooLongError(ValueError):
    """A piece that would encode to more than MAX_TOKENS tokens."""


#: A note on the grid: steps, pitch, velocity bin and instrument slot (index into config.programs,
#: or len(programs) for drums).
GRID_DTYPE = np.dtype(
    [("start", "<i8"), ("end", "<i8"), ("pitch", "<i8"), ("vbin", "<i8"), ("slot", "<i8")]
)


def to_steps(ticks, ticks_per_beat: int, steps_per_beat: int) -> np.ndarray:
    """Ticks to the nearest grid step (halves round up), exactly, in integer arithmetic."""
    ticks = np.asarray(ticks, dtype=np.int64)
    return (ticks * (2 * steps_per_beat) + ticks_per_beat) // (2 * ticks_per_beat)


def to_ticks(steps, ticks_per_beat: int, steps_per_beat: int) -> np.ndarray:
    """Grid steps to the nearest tick (halves round up), in integer arithmetic: exact whenever
    ticks_per_beat is a multiple of steps_per_beat (96, 480, 960 ticks at 12 or 24 steps)."""
    steps = np.asarray(steps, dtype=np.int64)
    return (steps * (2 * ticks_per_beat) + steps_per_beat) // (2 * steps_per_beat)


def grid_notes(piece: Piece, vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray]:
    """The canonical form the tokens describe (see module doc).

    Returns (notes, tempos): notes as GRID_DTYPE sorted by slot, pitch, start; tempos as an int64
    array of shape (T, 2) holding (step, tempo bin), first at step 0, each bin differing from the last.
    """
    notes, tempos, _ = grid_tracks(piece, vocab)
    return notes, tempos


def grid_tracks(piece: Piece, vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """grid_notes's (notes, tempos), and for each note the index in piece.tracks of the track
    it came from (int64, shape (N,)): the parts a musician sees, which the tokens do not tell
    apart when they play one instrument (POP909's melody and piano, a chorale's four voices)."""
    config = vocab.config
    drum_slot = len(config.programs)
    parts = [
        (index, t.notes, drum_slot if t.is_drum else int(vocab.program_slot[t.program]))
        for index, t in enumerate(piece.tracks)
        if len(t.notes) and (config.drums or not t.is_drum)
    ]
    notes = np.empty(sum(len(n) for _, n, _ in parts), dtype=GRID_DTYPE)
    tracks = np.zeros(len(notes), np.int64)
    if parts:
        joined = np.concatenate([n for _, n, _ in parts])
        steps = (piece.ticks_per_beat, config.steps_per_beat)
        counts = [len(n) for _, n, _ in parts]
        notes["start"] = to_steps(joined["start"], *steps)
        notes["end"] = np.maximum(to_steps(joined["end"], *steps), notes["start"] + 1)
        notes["pitch"] = joined["pitch"]
        notes["vbin"] = vocab.velocity_bin(joined["velocity"])
        notes["slot"] = np.repeat([slot for _, _, slot in parts], counts)
        notes, kept = _resolve_same_pitch(notes)
        tracks = np.repeat([index for index, _, _ in parts], counts)[kept]

    tempos = _grid_tempos(piece, vocab, last_step=int(notes["end"].max()) if len(notes) else 0)
    return notes, tempos, tracks


def note_on_order(notes: np.ndarray) -> np.ndarray:
    """The order in which encode_grid writes the NoteOn tokens of grid notes (by start, slot,
    pitch: unique after _resolve_same_pitch): an index array into `notes`."""
    return np.lexsort((notes["pitch"], notes["slot"], notes["start"]))


def _resolve_same_pitch(notes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Within one instrument and pitch: keep the longest of notes that start together, and end a
    note where the next one of the same pitch starts. Returns (notes, the index in the input of
    each note kept)."""
    kept = np.lexsort((-notes["end"], notes["start"], notes["pitch"], notes["slot"]))
    notes = notes[kept]
    same_key = (notes["slot"][1:] == notes["slot"][:-1]) & (
        notes["pitch"][1:] == notes["pitch"][:-1]
    )
    duplicate = same_key & (notes["start"][1:] == notes["start"][:-1])
    first = np.concatenate([[True], ~duplicate])
    notes, kept = notes[first], kept[first]
    same_key = (notes["slot"][1:] == notes["slot"][:-1]) & (
        notes["pitch"][1:] == notes["pitch"][:-1]
    )
    cut = np.minimum(notes["end"][:-1], notes["start"][1:])
    notes["end"][:-1] = np.where(same_key, cut, notes["end"][:-1])
    return notes, kept


def _grid_tempos(piece: Piece, vocab: Vocabulary, last_step: int) -> np.ndarray:
    config = vocab.config
    steps = to_steps(piece.tempos["tick"], piece.ticks_per_beat, config.steps_per_beat)
    bins = vocab.tempo_bin(60e6 / piece.tempos["us_per_beat"])
    keep = np.append(steps[1:] != steps[:-1], True)  # several changes in one step: the last wins
    steps, bins = steps[keep], bins[keep]
    keep = (steps <= last_step) | (steps == 0)  # changes after the music ends say nothing
    steps, bins = steps[keep], bins[keep]
    keep = np.concatenate([[True], bins[1:] != bins[:-1]])
    return np.stack([steps[keep], bins[keep]], axis=1)


def encode(piece: Piece, vocab: Vocabulary) -> np.ndarray:
    """Token ids of a piece, shape (L,), dtype uint16, starting with Bos and ending with Eos."""
    notes, tempos = grid_notes(piece, vocab)
    return encode_grid(notes, tempos, vocab)


def encode_grid(notes: np.ndarray, tempos: np.ndarray, vocab: Vocabulary) -> np.ndarray:
    """Token ids of canonical grid notes and tempos (as returned by grid_notes)."""
    n, t = len(notes), len(tempos)
    # One row per event: off events, tempo events, on events; then sorted into playing order.
    time = np.concatenate([notes["end"], tempos[:, 0], notes["start"]])
    kind = np.concatenate([np.full(n, _OFF), np.full(t, _TEMPO), np.full(n, _ON)])
    slot = np.concatenate([notes["slot"], np.full(t, -1), notes["slot"]])
    pitch = np.concatenate([notes["pitch"], np.zeros(t, np.int64), notes["pitch"]])
    vbin = np.concatenate([notes["vbin"], np.zeros(t, np.int64), notes["vbin"]])
    order = np.lexsort((pitch, slot, kind, time))
    time, kind, slot, pitch, vbin = time[order], kind[order], slot[order], pitch[order], vbin[order]
    tempo_bin = np.zeros(len(order), np.int64)
    tempo_bin[kind == _TEMPO] = tempos[:, 1]  # tempo rows keep their (already sorted) order

    r = vocab.ranges
    main = np.where(
        kind == _ON, r["NoteOn"][0] + pitch, np.where(kind == _OFF, r["NoteOff"][0] + pitch, 0)
    )
    main = np.where(kind == _TEMPO, r["Tempo"][0] + tempo_bin, main)

    # Instrument changes: compared with the previous *note* event (tempo events do not count).
    need_program = np.zeros(len(order), bool)
    note_rows = np.flatnonzero(kind != _TEMPO)
    note_slots = slot[note_rows]
    need_program[note_rows] = np.concatenate([[True], note_slots[1:] != note_slots[:-1]])
    drum_slot = len(vocab.config.programs)
    program_token = np.where(slot == drum_slot, r["Drums"][0], r["Program"][0] + slot)

    # Loudness changes: compared with the previous note-on.
    need_velocity = np.zeros(len(order), bool)
    on_rows = np.flatnonzero(kind == _ON)
    on_bins = vbin[on_rows]
    need_velocity[on_rows] = np.concatenate([[True], on_bins[1:] != on_bins[:-1]])

    max_shift = vocab.config.max_shift_steps
    delta = np.diff(time, prepend=0)
    n_shifts = (delta + max_shift - 1) // max_shift
    counts = n_shifts + need_program + need_velocity + 1
    total = int(counts.sum()) + 2
    if total > MAX_TOKENS:  # e.g. a damaged file whose one note sits a billion ticks away
        raise TooLongError(
            f"would be {total:,} tokens, more than the {MAX_TOKENS:,} Composer reads from one file"
        )
    first = 1 + np.cumsum(counts) - counts  # position of each event's first token (after Bos)

    out = np.empty(total, dtype=np.uint16)
    out[0], out[-1] = BOS, EOS
    # Shifts: all max_shift long except the last of each chain, which carries the remainder.
    event = np.repeat(np.arange(len(order)), n_shifts)
    within = np.arange(len(event)) - np.repeat(np.cumsum(n_shifts) - n_shifts, n_shifts)
    is_last = within == n_shifts[event] - 1
    length = np.where(is_last, delta[event] - (n_shifts[event] - 1) * max_shift, max_shift)
    out[first[event] + within] = r["TimeShift"][0] + length - 1
    after_shifts = first + n_shifts
    out[after_shifts[need_program]] = program_token[need_program]
    out[(after_shifts + need_program)[need_velocity]] = r["Velocity"][0] + vbin[need_velocity]
    out[first + counts - 1] = main
    return out


def decode(tokens, vocab: Vocabulary) -> Piece:
    """A Piece from token ids (any sequence of valid ids; see module doc for the repairs made).

    Decoding stops at the first Eos. Times come out in ticks at a resolution that is a multiple of
    steps_per_beat (at least 480 per beat, as DAWs like).
    """
    decoder = StreamDecoder(vocab)
    decoder.feed_many(tokens)
    return decoder_piece(decoder)


def decoder_piece(decoder: StreamDecoder) -> Piece:
    """The piece a StreamDecoder has read so far, sounding notes ending now."""
    notes = np.array(decoder.notes(), dtype=np.int64).reshape(-1, 5)
    grid = np.empty(len(notes), dtype=GRID_DTYPE)
    for i, name in enumerate(GRID_DTYPE.names):
        grid[name] = notes[:, i]
    return piece_from_grid(grid, decoder.tempo_rows(), decoder.vocab)


def decoded_ticks_per_beat(steps_per_beat: int) -> int:
    """The resolution decoded pieces are written at: a whole number of ticks a step, at least
    480 ticks a beat (ceil)."""
    return steps_per_beat * -(-480 // steps_per_beat)


def quantize(piece: Piece, vocab: Vocabulary) -> Piece:
    """The piece as its tokens describe it: what decode(encode(piece)) returns."""
    return piece_from_grid(*grid_notes(piece, vocab), vocab)


def piece_from_grid(notes: np.ndarray, tempos: np.ndarray, vocab: Vocabulary) -> Piece:
    """Build a Piece (one track per instrument slot, in slot order) from grid notes and tempos."""
    config = vocab.config
    ticks_per_step = decoded_ticks_per_beat(config.steps_per_beat) // config.steps_per_beat
    tracks = []
    for slot in np.unique(notes["slot"]).tolist():
        mine = notes[notes["slot"] == slot]
        is_drum = slot == len(config.programs)
        program = 0 if is_drum else config.programs[slot]
        track_notes = make_notes(
            mine["start"] * ticks_per_step,
            mine["end"] * ticks_per_step,
            mine["pitch"],
            vocab.velocity_values[mine["vbin"]],
        )
        track = Track(program, is_drum, "", track_notes)
        track.name = track.label
        tracks.append(track)
    tempo_map = make_tempos(
        (int(step) * ticks_per_step, round(60e6 / vocab.tempo_values[b])) for step, b in tempos
    )
    return Piece(config.steps_per_beat * ticks_per_step, tracks, tempo_map)
