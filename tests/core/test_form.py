"""The form figures (issue 26) on pieces whose answer is known, and on one real folk tune."""

from __future__ import annotations

import math

import numpy as np
import pytest

from composer.core.evaluation import form
from composer.core.evaluation.form import FormFigures
from composer.core.midi.piece import (
    TIME_SIGNATURE_DTYPE,
    Piece,
    Track,
    make_notes,
    make_tempos,
)
from composer.core.midi.reader import read_midi
from tests.conftest import corpus

TPB = 480  # ticks a beat; 120 BPM unless a test sets a tempo


def piece(notes, *, drums=(), tempos=None, signature=(4, 4)) -> Piece:
    """A one-track piece from (start beat, length in beats, pitch) rows; drums the same way."""

    def track(rows, is_drum):
        rows = list(rows)
        starts = [round(s * TPB) for s, _, _ in rows]
        return Track(
            0,
            is_drum,
            "",
            make_notes(
                starts, [a + round(n * TPB) for a, (_, n, _) in zip(starts, rows)],
                [p for _, _, p in rows], [80] * len(rows),
            ),
        )  # fmt: skip

    tracks = [track(notes, False)] + ([track(drums, True)] if drums else [])
    signatures = np.array([(0, *signature)], TIME_SIGNATURE_DTYPE)
    return Piece(TPB, tracks, make_tempos(tempos or [(0, 500_000)]), signatures)


def phrase(seed: int = 0, bars: int = 2) -> list[tuple[float, float, int]]:
    """A phrase of eighths and quarters over `bars` bars of 4/4, no two bars alike."""
    rng = np.random.default_rng(seed)
    rows, beat = [], 0.0
    while beat < 4 * bars:
        length = float(rng.choice([0.5, 1.0]))
        rows.append((beat, length, int(rng.integers(60, 80))))
        beat += length
    return rows


def repeated(rows, times: int, beats: float) -> list[tuple[float, float, int]]:
    return [(s + k * beats, n, p) for k in range(times) for s, n, p in rows]


def test_a_phrase_played_four_times_repeats_and_random_notes_do_not():
    tune = piece(repeated(phrase(), 4, 8))
    # Windows from beat 8 on (24 of 32) find their notes 8 beats back; the last (beat 31 and
    # the silence after it) matches nothing.
    assert form.repetition(tune) == pytest.approx(23 / 32)
    assert form.bar_repeats(tune) == pytest.approx(6 / 8)  # bars 3-8 repeat bars 1-2
    rng = np.random.default_rng(1)
    noise = piece([(s / 2, 0.5, int(rng.integers(40, 90))) for s in range(64)])
    assert form.repetition(noise) < 0.05
    assert form.bar_repeats(noise) == 0.0


def test_repetition_needs_no_time_signature_or_tempo_but_bars_do():
    rows = repeated(phrase(2), 4, 8)
    plain = form.repetition(piece(rows))
    assert form.repetition(piece(rows, signature=(3, 4), tempos=[(0, 800_000)])) == plain
    # After a beat of silence (a pickup's place) the same 23 windows repeat, of one more; in
    # 3/4 the 8-beat phrase starts at a different place in each bar, so its bars differ.
    assert plain == pytest.approx(23 / 32)
    assert form.repetition(piece([(s + 1, n, p) for s, n, p in rows])) == pytest.approx(23 / 33)
    assert form.bar_repeats(piece(rows, signature=(3, 4))) < form.bar_repeats(piece(rows))


def test_only_onsets_and_pitches_on_the_grid_count_and_drums_do_not():
    rows = phrase(3)
    again = [(s + 8, n / 2, p) for s, n, p in rows]  # the phrase staccato: still the phrase
    jitter = [(s + 16 + 1 / 96, n, p) for s, n, p in rows]  # 5 ticks late: the same grid step
    assert form.repetition(piece(rows + again + jitter)) == pytest.approx(
        form.repetition(piece(repeated(rows, 3, 8)))
    )
    kit = repeated([(0, 0.5, 36), (1, 0.5, 38), (2, 0.5, 36), (3, 0.5, 38)], 8, 4)
    melody = [(s / 2, 0.5, 60 + (s * 5) % 17) for s in range(64)]
    assert form.repetition(piece(melody, drums=kit)) == form.repetition(piece(melody))


def test_held_notes_opening_silence_polyphony_and_range():
    held = piece([(0, 24, 60), (1, 18, 64), (2, 1, 67)])  # 12 s, 9 s and 0.5 s at 120 BPM
    assert form.held_notes(held) == 1
    assert form.held_notes(held, seconds=5) == 2
    assert form.opening_silence(piece([(6, 1, 60)])) == pytest.approx(3.0)
    slow_start = piece([(3, 1, 60)], tempos=[(0, 1_000_000), (2 * TPB, 500_000)])
    assert form.opening_silence(slow_start) == pytest.approx(2.5)  # 2 beats at 60, 1 at 120
    assert form.opening_silence(piece([], drums=[(1, 1, 36)])) == pytest.approx(0.5)
    assert form.opening_silence(piece([])) == math.inf
    line = piece([(b, 1, 60 + b) for b in range(8)])
    assert form.polyphony(line) == pytest.approx(1.0)
    assert form.polyphony(piece([(0, 4, p) for p in (48, 64, 67, 72)])) == pytest.approx(4.0)
    assert form.pitch_range(line) == 7
    assert form.pitch_range(piece([])) == 0


def test_a_continuation_is_measured_from_where_it_starts():
    rows = phrase(4)
    once_more = piece(repeated(rows, 2, 8))
    since = 8 * TPB  # the primer is the first 8 beats
    assert form.repetition(once_more, since) == pytest.approx(7 / 8)  # all but the last window
    assert form.bar_repeats(once_more, since) == 1.0
    late = piece(rows + [(12, 1, 60)])  # a primer, then a continuation that waits 2 s
    figures = FormFigures.of([late], since=[since])
    assert figures.notes == 1 and figures.longest_opening == pytest.approx(2.0)
    assert figures.pitch_range == 0 and figures.polyphony == pytest.approx(1.0)


def test_figures_of_a_set_pool_windows_and_count_faults_per_note():
    tune = piece(repeated(phrase(5), 4, 8))
    noise = piece([(s / 2, 0.5, 40 + (s * 7) % 45) for s in range(64)])
    waits = piece([(8, 24, 60)])  # 4 s of silence, then one note of 12 s
    figures = FormFigures.of([tune, noise, waits, piece([])])
    counts = [form.repetition_counts(p) for p in (tune, noise, waits)]
    assert figures.windows == sum(w for _, w in counts)
    assert figures.repetition == pytest.approx(sum(r for r, _ in counts) / figures.windows)
    assert figures.pieces == 4 and figures.held_notes == 1
    assert figures.held_per_1000_notes == pytest.approx(1000 / figures.notes)
    assert figures.late_starts == 2 and figures.longest_opening == math.inf  # the empty one too


def test_a_real_folk_tune_repeats_itself():
    tune = read_midi(sorted(corpus("nottingham").rglob("*.mid"))[0])
    assert 0.2 < form.repetition(tune) < 0.95
    assert 0.1 < form.bar_repeats(tune) < 0.95
    assert 1.5 < form.polyphony(tune) < 6  # melody over chords
    assert 12 <= form.pitch_range(tune) <= 60
    assert form.held_notes(tune) == 0
    assert form.opening_silence(tune) < form.LATE_START_SECONDS
