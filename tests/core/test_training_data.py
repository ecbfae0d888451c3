"""The split by file, the epoch plan, truncated BPTT and augmentation, on real chorales."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from composer.core.midi.piece import Piece, Track, make_notes
from composer.core.model import ModelConfig, MusicLSTM
from composer.core.tokens import TokenizerConfig, Vocabulary, decode, encode
from composer.core.training.data import (
    Augmentation,
    Batcher,
    PieceSet,
    split_by_file,
)
from composer.core.training.lanes import WindowStream, plan_epoch
from tests.conftest import corpus

VOCAB = Vocabulary(TokenizerConfig())


def test_split_is_by_file_reproducible_and_stable_when_files_are_added():
    shas = [f"{i:064x}" for i in range(200)]
    train, validation = split_by_file(shas, 0.1, seed=7)
    assert set(train).isdisjoint(validation) and set(train) | set(validation) == set(shas)
    assert 8 <= len(validation) <= 35
    assert split_by_file(list(reversed(shas)), 0.1, seed=7) == (train, validation)
    more_train, more_validation = split_by_file(
        shas + [f"{i:064x}" for i in range(200, 300)], 0.1, 7
    )
    assert set(validation) <= set(more_validation) and set(train) <= set(more_train)
    assert split_by_file(shas, 0.1, seed=8)[1] != validation


def test_split_of_tiny_collections():
    assert split_by_file(["a"], 0.1, 0) == (["a"], [])  # one file: nothing to hold out
    train, validation = split_by_file(["a", "b"], 0.01, 0)
    assert len(train) == 1 and len(validation) == 1  # two files: one validates


def test_plan_reads_every_window_once_in_order_per_lane():
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 700, size=57)
    order = rng.permutation(57)
    window, lanes = 64, 8
    plan = plan_epoch(lengths, order, lanes, window)
    assert plan.targets.sum() == (lengths - 1).sum()
    seen = {}
    for lane in range(lanes):
        previous = None
        for step in range(plan.steps):
            p, o = int(plan.piece[step, lane]), int(plan.offset[step, lane])
            if p < 0:
                continue
            seen.setdefault(p, []).append(o)
            if o > 0:  # a piece's windows follow each other in one lane, step after step
                assert previous == (p, o - window)
            previous = (p, o)
    assert sorted(seen) == list(range(57))
    for p, offsets in seen.items():
        assert offsets == list(range(0, int(lengths[p]) - 1, window))
    # Greedy dealing keeps lanes busy: idle lane-steps are less than one long piece per lane.
    assert (plan.piece < 0).sum() <= lanes * int(np.ceil((lengths.max() - 1) / window))


def test_stream_deals_every_piece_once_per_epoch_and_never_idles():
    rng = np.random.default_rng(1)
    lengths = rng.integers(2, 900, size=23)
    window, lanes = 64, 6
    stream = WindowStream(lengths, lanes, window, seed=3, chunk=16)
    rows = [stream.row(step) for step in range(300)]
    pieces = np.array([r[0] for r in rows])
    offsets = np.array([r[1] for r in rows])
    epochs = np.array([r[3] for r in rows])
    assert (pieces >= 0).all()  # no lane waits for another at an epoch's end
    windows = -(-(lengths - 1) // window)
    starts = offsets == 0
    for epoch in range(2):  # epochs 0 and 1 are complete within 300 steps
        started = pieces[starts & (epochs == epoch)]
        assert sorted(started.tolist()) == list(range(23))
    for lane in range(lanes):  # within a lane, a piece's windows follow one another
        for step in range(1, 300):
            if offsets[step, lane]:
                assert pieces[step, lane] == pieces[step - 1, lane]
                assert offsets[step, lane] == offsets[step - 1, lane] + window
            else:
                assert (
                    step == 1
                    or offsets[step - 1, lane] // window + 1 == windows[pieces[step - 1, lane]]
                )
    assert stream.steps_per_epoch == pytest.approx(windows.sum() / lanes)
    fresh = WindowStream(lengths, lanes, window, seed=3, chunk=16)  # as a resumed run builds it
    for step in (299, 150, 151):
        assert all(np.array_equal(a, b) for a, b in zip(fresh.row(step), rows[step]))
    other = WindowStream(lengths, lanes, window, seed=4, chunk=16)
    assert not np.array_equal(other.row(100)[0], rows[100][0])


def test_validation_reads_a_bounded_share_of_the_training_between_two():
    """Issue 29: a validation reads at most 5% x 3 of the tokens trained between two (reading
    costs a third of training), and never more than max_validation_tokens."""
    from composer.core.training.config import TrainConfig
    from composer.core.training.distributed import Ranks
    from composer.core.training.validation import Validation

    assert TrainConfig().validation_tokens() == 61_440  # 100 steps x 32 x 128 x 0.15
    assert TrainConfig().validation_tokens(world_size=8) == 200_000  # the cap
    assert TrainConfig(max_validation_tokens=1_000).validation_tokens() == 1_000
    # A run made before keeps its validation, so that its losses compare across a resume.
    before = {k: v for k, v in TrainConfig().to_dict().items() if k != "validation_share"}
    assert TrainConfig.from_dict(before).validation_tokens() == 200_000
    config = TrainConfig(eval_every=10, batch_size=4, window=32)
    assert config.validation_tokens() == 192
    rng = np.random.default_rng(0)
    pieces = PieceSet([rng.integers(3, 100, 500) for _ in range(40)], VOCAB)
    validation = Validation(pieces, 32, 4, config.validation_tokens(), Ranks())
    read = int(validation.plan.targets.sum())
    assert 0 < read <= 192 + 4 * 32  # whole steps: the last may pass the bound by one
    everything = Validation(pieces, 32, 4, 10**9, Ranks())
    assert int(everything.plan.targets.sum()) == sum(len(t) - 1 for t in pieces.tokens)


def test_carrying_state_across_windows_equals_reading_the_whole_piece(tmp_path):
    folder = corpus("bach_chorales")
    from tests.training_helpers import collection_of

    collection = collection_of(folder, tmp_path / "cache")
    sha = next(iter(collection.files))
    pieces = PieceSet([collection.tokens(sha)], VOCAB)
    window = 50
    plan = plan_epoch(pieces.lengths, np.array([0]), lanes=1, window=window)
    torch.manual_seed(0)
    model = MusicLSTM(ModelConfig(len(VOCAB), hidden_size=24, layers=2, embedding_size=8)).eval()
    batcher = Batcher(pieces, window)
    state, pieces_logits = model.initial_state(1), []
    with torch.no_grad():
        for step in range(plan.steps):
            batch = batcher.batch(plan.piece[step], plan.offset[step])
            keep = torch.tensor(~batch.fresh, dtype=torch.float32)[None, :, None]
            logits, state = model(
                torch.from_numpy(batch.inputs), (state[0] * keep, state[1] * keep)
            )
            pieces_logits.append(logits[0, : int(plan.targets[step, 0])])
        tokens = torch.from_numpy(np.asarray(pieces.tokens[0], dtype=np.int64))[None, :-1]
        whole, _ = model(tokens)
    assert plan.steps > 3
    torch.testing.assert_close(torch.cat(pieces_logits), whole[0], rtol=1e-4, atol=1e-5)


def _band_with_drums(low: int = 40, high: int = 90) -> Piece:
    beat = 480
    piano = make_notes(
        [0, beat, 2 * beat], [beat, 2 * beat, 4 * beat], [low, 64, high], [80, 80, 80]
    )
    bass = make_notes([0, 2 * beat], [2 * beat, 4 * beat], [low, low + 7], [90, 90])
    drums = make_notes(
        [0, beat, 2 * beat, 3 * beat],
        [60, beat + 60, 2 * beat + 60, 3 * beat + 60],
        [36, 38, 36, 38],
        [100, 100, 100, 100],
    )
    tracks = [Track(0, False, "", piano), Track(33, False, "", bass), Track(0, True, "", drums)]
    return Piece(beat, tracks)


def _augmented(tokens, shift: int, stretch: float = 1.0) -> np.ndarray:
    pieces = PieceSet([tokens], VOCAB)
    plan = plan_epoch(pieces.lengths, np.array([0]), lanes=1, window=len(tokens))
    batch = Batcher(pieces, len(tokens)).batch(
        plan.piece[0], plan.offset[0], np.array([shift]), np.array([stretch])
    )
    return np.concatenate([batch.inputs[0, :1], batch.targets[0, : len(tokens) - 1]])


def test_transposition_moves_pitched_notes_and_leaves_drums_alone():
    tokens = encode(_band_with_drums(), VOCAB)
    moved = decode(_augmented(tokens, 3), VOCAB)
    original = decode(tokens, VOCAB)
    for before, after in zip(original.tracks, moved.tracks):
        assert before.is_drum == after.is_drum and before.program == after.program
        expected = before.notes["pitch"] + (0 if before.is_drum else 3)
        assert np.array_equal(after.notes["pitch"], expected)
        assert np.array_equal(after.notes["start"], before.notes["start"])


def test_transposition_never_leaves_the_midi_range():
    pieces = PieceSet([encode(_band_with_drums(low=2, high=125), VOCAB)], VOCAB)
    assert (pieces.pitch_low[0], pieces.pitch_high[0]) == (2, 125)
    shifts = [Augmentation(transpose=6).draw(pieces, seed, 0)[0][0] for seed in range(200)]
    assert min(shifts) == -2 and max(shifts) == 2


def test_tempo_stretch_moves_only_tempo_tokens_by_at_most_one_bin():
    piece = _band_with_drums()
    piece.tempos = piece.tempos.copy()
    tokens = encode(piece, VOCAB)
    stretched = _augmented(tokens, 0, 1.05)
    changed = np.flatnonzero(stretched != tokens)
    first, size = VOCAB.ranges["Tempo"]
    assert len(changed) >= 1
    assert all(first <= tokens[i] < first + size for i in changed)
    assert np.abs(stretched[changed].astype(int) - tokens[changed].astype(int)).max() == 1


@pytest.mark.parametrize("transpose", [0, 3])
def test_augmentation_is_a_function_of_seed_and_epoch(transpose):
    pieces = PieceSet([encode(_band_with_drums(), VOCAB)] * 5, VOCAB)
    a = Augmentation(transpose=transpose)
    assert all(np.array_equal(x, y) for x, y in zip(a.draw(pieces, 1, 2), a.draw(pieces, 1, 2)))
    assert not np.array_equal(a.draw(pieces, 1, 2)[1], a.draw(pieces, 1, 3)[1])
