"""The musician's tempo comes back exactly (issue 25): a primer's bars keep their tempo map, time
signatures, resolution, tracks and notes in every generated, continued and filled file, and a
tempo asked for is written as asked, not as the nearest of the tokens' tempo bins (100 BPM was
written as 97.47). Through the command line and the app, with the bundled model."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from composer.cli import main
from composer.core.generation.settings import MAX_TEMPO_BPM, MIN_TEMPO_BPM
from composer.core.midi import read_midi, write_midi
from composer.core.midi.piece import TIME_SIGNATURE_DTYPE, Piece, Track, make_notes, make_tempos
from composer.core.midi.timeline import Timeline
from composer.core.tokens import TokenizerConfig, Vocabulary
from composer.core.tokens.codec import grid_notes, to_ticks

VOCAB = Vocabulary(TokenizerConfig())  # the bundled model's
SPB = VOCAB.config.steps_per_beat
BPMS = [100.0, 97.3, 133.33, 60.0, 172.5, 88.0]  # none of them a tempo bin
SIGNATURES = [(3, 4), (6, 8), (5, 4), (4, 4), (7, 8)]


def us(bpm: float) -> int:
    """A tempo as a MIDI file holds it: whole microseconds a beat."""
    return round(60e6 / bpm)


@st.composite
def primers(draw) -> Piece:
    """A musician's few bars: one or two named tracks of notes off the grid, tempo changes with
    fractional BPMs while they play, and changes of metre (some after the last note)."""
    tpb = draw(st.sampled_from([96, 220, 480, 960]))
    length = draw(st.integers(4, 10)) * tpb
    tracks = []
    programs = draw(st.lists(st.sampled_from([0, 40, 33]), min_size=1, max_size=2, unique=True))
    for number, program in enumerate(programs):
        pitches = draw(st.lists(st.integers(40, 90), min_size=3, max_size=8, unique=True))
        starts = [draw(st.integers(0, length)) for _ in pitches]
        ends = [s + draw(st.integers(1, 2 * tpb)) for s in starts]
        velocities = [draw(st.integers(1, 127)) for _ in pitches]
        notes = make_notes(starts, ends, pitches, velocities)
        tracks.append(Track(program, False, f"My part {number + 1}", notes))
    last_start = max(int(t.notes["start"].max()) for t in tracks)
    changes = draw(st.lists(st.integers(1, max(last_start - 1, 1)), max_size=3, unique=True))
    ticks = [0, *sorted(t for t in changes if t < last_start)]
    tempos = make_tempos((tick, us(draw(st.sampled_from(BPMS)))) for tick in ticks)
    beats = length // tpb
    new_metres = draw(st.lists(st.integers(1, 2 * beats), max_size=2, unique=True))
    metre = [0, *(beat * tpb for beat in sorted(new_metres))]  # a new metre starts on a beat
    signatures = [(tick, *draw(st.sampled_from(SIGNATURES))) for tick in metre]
    return Piece(tpb, tracks, tempos, np.array(signatures, dtype=TIME_SIGNATURE_DTYPE))


def continuation_start(given: Piece) -> int:
    """The tick the new music starts at: the primer's last note-off as the tokens hold it."""
    end_step = int(grid_notes(given, VOCAB)[0]["end"].max())
    return int(to_ticks(end_step, given.ticks_per_beat, SPB))


def note_rows(track: Track) -> Counter:
    return Counter(map(tuple, track.notes.tolist()))


def generate(*args: str) -> None:
    assert main(["generate", "--tokens", "24", "--force", *args]) == 0


def check_primer_kept(given: Piece, written: Piece, tempo: float | None) -> None:
    """The primer's bars come back exactly, and the new music goes on at the tempo in force."""
    cut = continuation_start(given)
    assert cut > max(int(t.notes["start"].max()) for t in given.tracks)  # after every primer note
    assert written.ticks_per_beat == given.ticks_per_beat
    assert written.time_signatures.tolist() == given.time_signatures.tolist()
    assert written.tempos[written.tempos["tick"] < cut].tolist() == given.tempos.tolist()
    going_on = us(tempo) if tempo is not None else int(given.tempos["us_per_beat"][-1])
    assert Timeline(written.ticks_per_beat, written.tempos, []).bpm(cut) == 60e6 / going_on
    for mine, back in zip(given.tracks, written.tracks):
        assert (back.name, back.program, back.is_drum) == (mine.name, mine.program, mine.is_drum)
        new = note_rows(back) - note_rows(mine)
        assert note_rows(back) - new == note_rows(mine)  # every note of mine, unchanged
        assert all(start >= cut for start, *_ in new)  # and the new ones after them


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: seconds an example
)
@given(
    primer=primers(),
    tempo=st.one_of(st.none(), st.sampled_from(BPMS)),
    seed=st.integers(0, 1000),
)
@pytest.mark.slow
def test_generated_continued_and_filled_files_keep_the_primers_tempo_and_metre(
    tmp_path_factory, primer, tempo, seed
):
    folder = tmp_path_factory.mktemp("exact")
    given_file = write_midi(primer, folder / "mine.mid")
    given = read_midi(given_file)
    steer = ["--tempo", f"{tempo:g}"] if tempo is not None else []
    common = ["--primer", str(given_file), "--seed", str(seed), *steer]

    generate(*common, "--out", str(folder / "whole.mid"))
    check_primer_kept(given, read_midi(folder / "whole.mid"), tempo)

    generate(*common, "--continuation-only", "--out", str(folder / "new.mid"))
    alone = read_midi(folder / "new.mid")
    cut = continuation_start(given)
    in_force = Timeline(given.ticks_per_beat, given.tempos, given.time_signatures)
    going_on = us(tempo) if tempo is not None else int(given.tempos["us_per_beat"][-1])
    assert alone.ticks_per_beat == given.ticks_per_beat
    assert alone.tempos[0].tolist() == (0, going_on)
    assert tuple(alone.time_signatures[0].tolist()) == (0, *in_force.signature(cut))

    filled = folder / "filled.mid"
    assert (
        main(["fill", str(given_file), "--bars", "1", "--seed", str(seed), "--out", str(filled)])
        == 0
    )
    back = read_midi(filled)
    assert back.ticks_per_beat == given.ticks_per_beat
    assert back.tempos.tolist() == given.tempos.tolist()
    assert back.time_signatures.tolist() == given.time_signatures.tolist()


@pytest.mark.parametrize("bpm", [MIN_TEMPO_BPM, 97.3, 100.0, MAX_TEMPO_BPM])
def test_a_tempo_asked_for_is_written_exactly(tmp_path, bpm):
    """Inside the tokens' bins (97.3, 100) and outside them (20 and 300: the bins span 30-240)."""
    out = tmp_path / "steered.mid"
    assert (
        main(
            ["generate", "--seconds", "3", "--seed", "2", "--tempo", f"{bpm:g}", "--out", str(out)]
        )
        == 0
    )
    assert read_midi(out).tempos.tolist() == [(0, us(bpm))]


@pytest.mark.parametrize("bpm", ["1", "19.9", "300.5", "1000", "nan"])
def test_a_tempo_outside_the_limits_is_refused_in_one_sentence(tmp_path, capsys, bpm):
    out = tmp_path / "never.mid"
    assert main(["generate", "--tokens", "8", "--tempo", bpm, "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert f"the tempo must be {MIN_TEMPO_BPM:g} to {MAX_TEMPO_BPM:g} BPM" in error
    assert error.count("\n") == 1 and not out.exists()


def test_the_length_in_seconds_is_counted_at_the_tempo_written():
    """--seconds 4 --tempo 100 is 4 s of the file, not 4 s at the 97.47 BPM of the token."""
    from composer.core.generation import Sampler, SamplingSettings, load_model
    from composer.core.generation.constraints import Constraints
    from composer.resources import default_model

    sampler = Sampler(
        load_model(default_model()),
        SamplingSettings(seconds=4.0, seed=5, variations=4),
        constraints=Constraints(tempo_bpm=100.0),
    )
    list(sampler.run())
    pieces = sampler.pieces()
    reached = []
    for variation, piece in zip(sampler.variations, pieces):
        assert piece.tempos.tolist() == [(0, us(100.0))]
        end = variation.decoder.time * piece.ticks_per_beat // SPB  # where its music ends
        reached.append(float(piece.seconds(end)))
    assert max(reached) == pytest.approx(4.0, abs=1e-9)  # the length asked for, to the step
    assert all(seconds <= 4.0 + 1e-9 for seconds in reached)


def all_notes(piece: Piece) -> Counter:
    return sum((note_rows(t) for t in piece.tracks), Counter())


def generate_in_app(window, qtbot) -> list:
    """Press Generate for one short variation; the notes streamed while it was written."""
    streamed: list = []
    window.generation.streamed.connect(lambda update: streamed.extend(update.notes[0]))
    window.generation.seconds.setValue(2)
    window.generation.variations.setValue(1)
    window.generating.generate()
    qtbot.waitUntil(lambda: not window.generation.is_running, timeout=60_000)
    assert "Generated 1 variation" in window.generation.message.text()
    return streamed


def test_the_steer_box_holds_the_tempo_limits(window):
    steer = window.generation.steering
    steer.setChecked(True)
    for asked, kept in ((1000, MAX_TEMPO_BPM), (5, None), (MIN_TEMPO_BPM, MIN_TEMPO_BPM)):
        steer.tempo.setValue(asked)  # above the fastest: the fastest; below the slowest: off
        assert steer.constraints().tempo_bpm == kept
    steer.tempo.setValue(0)
    assert steer.tempo.text() == "the model's"


def test_the_apps_steer_box_tempo_is_written_exactly(window, qtbot, tmp_path):
    steer = window.generation.steering
    steer.setChecked(True)
    steer.tempo.setValue(100)
    generate_in_app(window, qtbot)
    [document] = window.documents.documents
    assert document.model.to_piece().tempos.tolist() == [(0, us(100.0))]
    exported = window.exporting.export_variation(0, tmp_path / "steered.mid")
    assert read_midi(exported).tempos.tolist() == [(0, us(100.0))]


def test_the_app_continues_a_file_at_its_own_tempo_map_metre_and_resolution(
    window, qtbot, tmp_path
):
    tpb = 96
    melody = make_notes([0, 100, 190, 290, 384, 500], [90, 180, 290, 380, 480, 610],
                        [60, 62, 64, 65, 67, 69], [70, 80, 90, 100, 90, 80])  # fmt: skip
    tempos = make_tempos([(0, us(100.0)), (3 * tpb, us(97.3)), (5 * tpb, us(133.33))])
    metre = np.array([(0, 3, 4), (3 * tpb, 6, 8), (6 * tpb, 5, 4)], TIME_SIGNATURE_DTYPE)
    primer = Piece(tpb, [Track(0, False, "Mine", melody)], tempos, metre)
    given_file = write_midi(primer, tmp_path / "mine.mid")
    given = read_midi(given_file)
    panel = window.generation
    panel.primer_file = given_file  # what "Continue a MIDI file…" sets from its dialog
    panel.primer.setCurrentIndex(panel.primer.findData("file"))
    streamed = generate_in_app(window, qtbot)

    [document] = window.documents.documents
    for written in (
        document.model.to_piece(),
        read_midi(window.exporting.export_variation(0, tmp_path / "out.mid")),
    ):
        cut = continuation_start(given)
        assert written.ticks_per_beat == tpb
        assert written.time_signatures.tolist() == given.time_signatures.tolist()
        assert written.tempos[written.tempos["tick"] < cut].tolist() == given.tempos.tolist()
        assert Timeline(tpb, written.tempos, []).bpm(cut) == 60e6 / us(133.33)
        new = all_notes(written) - all_notes(given)
        assert all_notes(written) - new == all_notes(given)  # the file's notes, tick for tick
        # What streamed in while it was written is what was written, in the file's ticks.
        assert Counter(note[:4] for note in streamed) == new and new
