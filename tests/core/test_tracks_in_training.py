"""Tracks in training (issue 26, the given music): the cache keeps which track each note came
from, so that the accompaniment examples give and ask for tracks (POP909's MELODY and PIANO are
one instrument, which the tokens alone do not tell apart); hostile or outdated entries fall back
to the old split, and runs made before keep drawing the examples they drew."""

from __future__ import annotations

import json
import shutil

import numpy as np

from composer.core.corpus import TokenCache, ingest
from composer.core.corpus.cache import PACK_KEY
from composer.core.midi import read_midi, write_midi
from composer.core.tokens import TokenizerConfig, Vocabulary, encode
from composer.core.tokens.codec import grid_notes, grid_tracks, note_on_order
from composer.core.tokens.fill_in import grid_and_parts
from composer.core.training import TrainConfig
from composer.core.training.given_data import heard_examples, split_voices
from tests.conftest import corpus

CONFIG = TokenizerConfig()
VOCAB = Vocabulary(CONFIG)
SPB = CONFIG.steps_per_beat


def pop_song(index: int = 0):
    return read_midi(sorted(corpus("pop909").glob("*.mid"))[index])


def test_each_grid_note_knows_its_track_and_the_tokens_give_it_back():
    song = pop_song()
    notes, tempos, tracks = grid_tracks(song, VOCAB)
    plain, plain_tempos = grid_notes(song, VOCAB)
    assert np.array_equal(notes, plain) and np.array_equal(tempos, plain_tempos)
    names = [t.name for t in song.tracks]
    assert {"MELODY", "PIANO"} <= {names[i] for i in np.unique(tracks)}
    for index in np.unique(tracks).tolist():  # each note is one its track plays
        track = song.tracks[index]
        ticks = song.ticks_per_beat
        own = {
            (int(p), int((s * 2 * SPB + ticks) // (2 * ticks)))
            for p, s in zip(track.notes["pitch"], track.notes["start"])
        }
        mine = notes[tracks == index]
        assert {(int(n["pitch"]), int(n["start"])) for n in mine} <= own
    tokens = encode(song, VOCAB)
    decoded, _, parts = grid_and_parts(tokens, VOCAB, tracks[note_on_order(notes)])
    assert np.array_equal(decoded, notes) and np.array_equal(parts, tracks)
    # Parts that do not fit the tokens are not guessed at.
    assert grid_and_parts(tokens, VOCAB, tracks[:-1])[2] is None
    assert grid_and_parts(tokens, VOCAB, None)[2] is None


def test_the_cache_keeps_the_tracks_and_refuses_parts_that_do_not_fit(tmp_path):
    folder = tmp_path / "songs"
    folder.mkdir()
    shutil.copy(sorted(corpus("pop909").glob("*.mid"))[0], folder / "song.mid")
    shutil.copy(sorted(corpus("nottingham").rglob("*.mid"))[0], folder / "tune.mid")
    report = ingest(folder, tmp_path / "cache", CONFIG, jobs=0)
    cache = TokenCache(tmp_path / "cache", CONFIG)
    by_name = {e.path.rsplit("/", 1)[-1]: e.sha for e in report.entries}
    song = pop_song()
    notes, _, tracks = grid_tracks(song, VOCAB)
    assert np.array_equal(cache.parts(by_name["song.mid"]), tracks[note_on_order(notes)])
    tune = read_midi(folder / "tune.mid")
    notes, _, tracks = grid_tracks(tune, VOCAB)
    assert np.array_equal(cache.parts(by_name["tune.mid"]), tracks[note_on_order(notes)])
    tune.tracks = tune.tracks[:1]
    (tmp_path / "alone").mkdir()
    write_midi(tune, tmp_path / "alone" / "tune.mid")
    report = ingest(tmp_path / "alone", tmp_path / "cache", CONFIG, jobs=0)
    (alone,) = [e.sha for e in report.entries]
    assert TokenCache(tmp_path / "cache", CONFIG).parts(alone) is None  # one track: one part

    packs = (tmp_path / "cache" / CONFIG.fingerprint / "packs").glob("*.json")
    index = next(p for p in packs if by_name["song.mid"] in json.loads(p.read_text()))
    entries = json.loads(index.read_text())
    for text in ("not base64!", "AAAA"):  # hostile, or of the wrong length
        entries[by_name["song.mid"]]["parts"] = text
        index.write_text(json.dumps(entries))
        assert TokenCache(tmp_path / "cache", CONFIG).parts(by_name["song.mid"]) is None
    assert PACK_KEY in entries


def test_accompaniment_examples_give_and_ask_for_whole_tracks():
    song = pop_song()
    notes, tempos, tracks = grid_tracks(song, VOCAB)
    rng = np.random.default_rng(0)
    start, end = 16 * SPB, 48 * SPB
    inside = (notes["start"] >= start) & (notes["start"] < end)
    given_sets, whole = set(), 0
    for _ in range(40):
        given = split_voices(notes, start, end, rng, len(CONFIG.programs), tracks)
        assert not given[~inside].any() and 0 < given[inside].sum() < inside.sum()
        chosen = set(np.unique(tracks[given]).tolist())
        if given[inside].sum() == np.isin(tracks[inside], list(chosen)).sum():  # whole tracks
            whole += 1
            given_sets.add(frozenset(chosen))
    assert 10 <= whole <= 30  # about TRACKS_SHARE of the draws; the others by lines
    assert len(given_sets) > 1
    melody = [t.name for t in song.tracks].index("MELODY")
    assert frozenset({melody}) in given_sets  # the melody given, the accompaniment asked for


def test_training_draws_by_track_where_known_and_runs_made_before_draw_as_they_did():
    pieces = [encode(pop_song(i), VOCAB) for i in range(3)]
    parts = []
    for i in range(3):
        notes, _, tracks = grid_tracks(pop_song(i), VOCAB)
        parts.append(tracks[note_on_order(notes)])
    old = heard_examples(pieces, VOCAB, 0.5, seed=1, ahead_steps=SPB)
    unknown = heard_examples(pieces, VOCAB, 0.5, seed=1, ahead_steps=SPB, parts=[None] * 3)
    new = heard_examples(pieces, VOCAB, 0.5, seed=1, ahead_steps=SPB, parts=parts)
    assert all(np.array_equal(a, b) for a, b in zip(old[0], unknown[0]))
    assert any(not np.array_equal(a, b) for a, b in zip(old[0], new[0]))
    assert TrainConfig().voices_by_track
    assert not TrainConfig.from_dict({}).voices_by_track  # a run.json from before the tracks
    assert TrainConfig.from_dict(TrainConfig().to_dict()).voices_by_track
