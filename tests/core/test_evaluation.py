"""Evaluation statistics on hand-built pieces with known answers, the n-gram baseline, copy
detection, and `composer evaluate` on a small trained run."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from composer.cli import main
from composer.core.evaluation.copying import longest_copy, note_sequence
from composer.core.evaluation.ngram import KneserNey
from composer.core.evaluation.stats import (
    compare_sets,
    overlap_area,
    piece_features,
    scale_consistency,
)
from composer.core.midi.piece import Piece, Track, make_notes
from tests.conftest import corpus

BEAT = 480


def melody(pitches, beats_each: float = 1.0, start_beat: float = 0, drums=None) -> Piece:
    step = int(BEAT * beats_each)
    starts = [int(start_beat * BEAT) + i * step for i in range(len(pitches))]
    tracks = [
        Track(
            0,
            False,
            "",
            make_notes(starts, [s + step for s in starts], pitches, [80] * len(pitches)),
        )
    ]
    if drums:
        tracks.append(Track(0, True, "", make_notes([0], [60], [drums], [100])))
    return Piece(BEAT, tracks)


C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72]


def test_statistics_of_a_c_major_scale():
    f = piece_features(melody(C_MAJOR, drums=37))  # a drum note (C#) must not count as pitch
    assert f["scale_consistency"] == 1.0
    assert f["pitch_range"] == 12 and f["polyphony"] == 1.0
    assert f["note_density"] == pytest.approx(1.0)  # one note a beat
    assert f["empty_beat_rate"] == 0.0
    assert f["pitch_class_histogram"][0] == pytest.approx(2 / 8)  # C twice
    assert f["pitch_class_entropy"] == pytest.approx(
        -(2 / 8 * np.log2(2 / 8) + 6 * (1 / 8) * np.log2(1 / 8))
    )
    assert (
        f["ioi_histogram"][
            np.searchsorted(np.array([0, 1 / 12, 1 / 6, 1 / 4, 1 / 3, 1 / 2, 2 / 3, 1]) + 1e-9, 1.0)
            - 1
        ]
        == 1.0
    )


def test_chromatic_music_is_less_scale_consistent_and_rests_are_empty_beats():
    assert scale_consistency(np.ones(12)) == pytest.approx(7 / 12)
    chord = Piece(
        BEAT,
        [
            Track(
                0,
                False,
                "",
                make_notes(
                    [0, 0, 0, 4 * BEAT], [BEAT] * 3 + [5 * BEAT], [60, 64, 67, 60], [80] * 4
                ),
            )
        ],
    )
    f = piece_features(chord)
    assert f["polyphony"] == pytest.approx(2.0)  # three notes for a beat, then one: time-weighted
    assert f["empty_beat_rate"] == pytest.approx(3 / 5)  # beats 2-4 are silent


@pytest.mark.slow
def test_identical_sets_overlap_almost_fully_and_different_ones_barely():
    rng = np.random.default_rng(0)
    a = list(rng.normal(0, 1, 60))
    assert overlap_area(a, a) > 0.9
    assert overlap_area(a, list(rng.normal(8, 1, 60))) < 0.1
    pieces = [
        melody(list(rng.integers(55, 80, 16)), beats_each=float(rng.choice([0.5, 1])))
        for _ in range(12)
    ]
    same = compare_sets(pieces, pieces)
    assert all(v["overlap"] > 0.85 for v in same.values())
    dense = [melody([60] * 64, beats_each=1 / 12) for _ in range(6)]
    assert compare_sets(pieces, dense)["note_density"]["overlap"] < 0.1


def test_a_piece_copied_from_training_is_flagged_in_full_wherever_it_sits():
    tune = list(np.random.default_rng(1).integers(50, 80, 40))
    training = {
        "other.mid": note_sequence(melody(list(range(50, 90)))),
        "source.mid": note_sequence(melody([48] * 10 + tune, start_beat=0)),
    }
    copied = longest_copy(melody(tune, start_beat=7), training)  # moved in time: still a copy
    assert (copied.notes, copied.of, copied.file) == (40, 40, "source.mid")
    partly = longest_copy(melody(tune[:12] + [90, 91] + tune[20:26]), training)
    assert (partly.notes, partly.file, partly.at_note) == (12, "source.mid", 0)
    assert longest_copy(melody([100, 101, 102]), training).notes == 0


def test_kneser_ney_is_a_distribution_and_learns():
    rng = np.random.default_rng(0)
    pieces = [
        np.array([1] + list(rng.choice([10, 11, 12], size=50, p=[0.8, 0.1, 0.1])) + [2])
        for _ in range(30)
    ]
    model = KneserNey(order=3, vocab_size=20).fit(pieces)
    for history in [(1,), (10, 11), (12, 12), (19, 18)]:
        assert sum(model.probability(history, w) for w in range(20)) == pytest.approx(1.0)
    assert model.nll(pieces[:5]) < np.log(20) - 1  # far better than a uniform guess


@pytest.mark.slow
def test_composer_evaluate_reports_every_figure(tmp_path, capsys):
    from composer.core.training import new_run
    from tests.training_helpers import collection_of, copy_chorales, tiny_model, tiny_training

    folder = copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 10)
    cache = tmp_path / "user-cache"
    trainer = new_run(
        tmp_path / "run",
        collection_of(folder, cache),
        tiny_model(),
        tiny_training(steps=20, eval_every=10, validation_fraction=0.3),
    )
    for _ in trainer.run():
        pass
    assert (
        main(["evaluate", str(tmp_path / "run"), "--samples", "3", "--seconds", "8", "--json"]) == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["evaluated_on"] == "the run's validation files" and result["files"] >= 2
    assert {
        "nats",
        "bits",
        "perplexity",
        "short_context_at_positions",
        "full_context_at_positions",
    } <= set(result["lstm"])
    assert result["ngram"]["order"] == 5 and "nats_better" in result["lstm_vs_ngram"]
    assert set(result["statistics"]) == {
        "pitch_class_entropy", "pitch_range", "polyphony", "note_density", "scale_consistency",
        "empty_beat_rate", "pitch_class_histogram", "ioi_histogram",
    }  # fmt: skip
    assert all(
        v["overlap"] is None or 0 <= v["overlap"] <= 1 for v in result["statistics"].values()
    )
    assert (
        result["copying"]["searched"] == "training files"
        and len(result["copying"]["per_variation"]) == 3
    )
    assert main(["evaluate", str(tmp_path / "run"), "--samples", "2", "--seconds", "4"]) == 0
    table = capsys.readouterr().out
    assert "5-gram (Kneser-Ney)" in table and "Longest run copied" in table
    assert main(["evaluate", str(tmp_path / "nothing")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow
def test_evaluating_on_a_folder_never_read_before_works_the_first_time(tmp_path, capsys):
    """The run's files and DIR both new to the cache (COMPOSER_CACHE_DIR is fresh per test):
    the cache read for the run's files must still find DIR's files, ingested after it."""
    from tests.training_helpers import tiny_trained_run

    run_dir, _ = tiny_trained_run(tmp_path, files=6, steps=4)
    chorales = sorted(corpus("bach_chorales").glob("*.mid"))[20:24]
    folder = tmp_path / "new"
    folder.mkdir()
    for path in chorales:
        shutil.copy(path, folder / path.name)
    args = ["evaluate", str(run_dir), str(folder), "--samples", "2", "--seconds", "2", "--json"]
    assert main(args) == 0, capsys.readouterr().err
    result = json.loads(capsys.readouterr().out)
    assert result["evaluated_on"] == str(folder) and result["files"] == len(chorales)
