"""Styles (issue 26): which collection a piece comes from, as one more input the model reads, so
that generation may ask for pop or a chorale, and a fine-tuned run plays in its own by default."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from composer.cli import main
from composer.core.errors import SettingsError
from composer.core.generation import Sampler, SamplingSettings
from composer.core.generation.loading import load_model
from composer.core.generation.stepper import LSTMStepper
from composer.core.model import ModelConfig, MusicLSTM
from composer.core.tokens import TokenizerConfig, Vocabulary
from composer.core.training import TrainConfig, new_run
from composer.core.training.start_from import read_start
from composer.core.training.styles import (
    STYLE_DROPOUT,
    StyleDropout,
    file_styles,
    first_folder,
    parse_styles,
    styled_model,
)
from tests.conftest import corpus
from tests.training_helpers import collection_of, copy_chorales, tiny_model, tiny_training

VOCAB = Vocabulary(TokenizerConfig())
TINY = ["--hidden-size", "32", "--embedding-size", "16", "--window", "64", "--device", "cpu"]


def two_styles(tmp_path):
    """A collection of two folders: 5 chorales and 5 folk tunes."""
    folder = tmp_path / "music"
    copy_chorales(corpus("bach_chorales"), folder / "bach", 5)
    (folder / "tunes").mkdir()
    for path in sorted(corpus("nottingham").rglob("*.mid"))[:5]:
        shutil.copy(path, folder / "tunes" / path.name)
    return folder


def test_a_styles_setting_is_folders_or_pairs_and_says_what_is_wrong():
    assert parse_styles("") is None
    assert parse_styles("folders") == "folders"
    assert parse_styles("pop909=pop, nottingham = folk") == {"pop909": "pop", "nottingham": "folk"}
    for bad in ("pop", "a=", "=b", "a=any"):
        with pytest.raises(SettingsError, match="folder=style|'any'"):
            parse_styles(bad)
    with pytest.raises(SettingsError):
        TrainConfig(styles="nonsense")


def test_the_first_folder_is_found_as_ingest_gave_the_paths(tmp_path, monkeypatch):
    base = "/data/corpus/base"
    assert first_folder("/data/corpus/base/pop909/a/b.mid", base) == "pop909"
    assert first_folder("/data/corpus/base/top.mid", base) is None
    assert first_folder("/elsewhere/pop909/b.mid", base) is None
    assert first_folder("corpus/base/pop909/b.mid", "corpus/base") == "pop909"
    # A folder given as ../corpus: its first-level folders, not "..".
    (tmp_path / "corpus" / "jazz").mkdir(parents=True)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    assert first_folder("../corpus/jazz/a.mid", "../corpus") == "jazz"
    assert first_folder(str(tmp_path / "corpus" / "jazz" / "a.mid"), "../corpus") == "jazz"


def test_a_model_config_keeps_its_style_names_and_older_configs_their_layout():
    plain = tiny_model()
    assert "styles" not in plain.to_dict() and ModelConfig.from_dict(plain.to_dict()) == plain
    styled = ModelConfig(VOCAB.__len__(), styles=("pop", "Folk"), default_style=2)
    data = json.loads(json.dumps(styled.to_dict()))
    assert data["styles"] == ["pop", "Folk"] and ModelConfig.from_dict(data) == styled
    assert styled.context_shapes()["style.weight"] == (3, styled.embedding_size)
    assert styled.style_index(None) == 2 and styled.style_index("FOLK") == 2
    assert styled.style_index("any") == 0 and styled.style_name(1) == "pop"
    with pytest.raises(SettingsError, match="did you mean 'pop'.*it knows pop, Folk and any"):
        styled.style_index("pops")
    with pytest.raises(SettingsError, match="knows no styles"):
        plain.style_index("pop")
    for bad in (
        {"styles": ("pop", "POP")},
        {"styles": ("any",)},
        {"styles": ("x" * 61,)},
        {"styles": ("pop",), "default_style": 2},
    ):
        with pytest.raises(SettingsError):
            ModelConfig(len(VOCAB), **bad)
    with pytest.raises(SettingsError, match="list of names"):
        ModelConfig.from_dict({**plain.to_dict(), "styles": [1, 2]})


def test_styles_come_from_folders_and_a_fine_tuned_run_adds_its_own():
    folder = "/m/music"
    files = {"a": "/m/music/bach/a.mid", "b": "/m/music/tunes/b.mid", "c": "/m/music/c.mid"}
    pairs = list(files.items())
    model, names = styled_model(tiny_model(), "folders", folder, files)
    assert model.styles == ("bach", "tunes") and model.default_style == 0
    assert names == {"a": "bach", "b": "tunes"}
    assert file_styles(model, names, pairs).tolist() == [1, 2, 0]
    mapped, names = styled_model(tiny_model(), "bach=chorale,tunes=folk", folder, files)
    assert mapped.styles == ("chorale", "folk") and names == {"a": "chorale", "b": "folk"}
    # Fine-tuning a styled model on "my jigs": one more style, its own, played by default.
    mine = {"x": "/home/me/my jigs/x.mid"}
    tuned, names = styled_model(mapped, "", "/home/me/my jigs", mine)
    assert tuned.styles == ("chorale", "folk", "my jigs") and tuned.default_style == 3
    assert file_styles(tuned, names, list(mine.items())).tolist() == [3]
    assert file_styles(tuned, None, list(mine.items())).tolist() == [3]  # none kept: default
    # A collection named like a style the model has trains that style's row.
    folk, _ = styled_model(mapped, "", "/home/me/Folk", {})
    assert folk.styles == mapped.styles and folk.default_style == 2
    # A model without styles gains none unless asked.
    assert styled_model(tiny_model(), "", folder, files) == (tiny_model(), None)


def test_style_dropout_reads_a_share_as_any_style_and_is_the_same_when_resumed():
    styles = np.arange(1, 2001) % 3 + 1
    pieces, epochs = np.arange(2000), np.zeros(2000, np.int64)
    first = StyleDropout(styles, seed=5).lanes(pieces, epochs)
    assert abs((first == 0).mean() - STYLE_DROPOUT) < 0.03
    assert np.array_equal(first[first > 0], styles[first > 0])
    assert np.array_equal(first, StyleDropout(styles, seed=5).lanes(pieces, epochs))
    other_epoch = StyleDropout(styles, seed=5).lanes(pieces, epochs + 1)
    assert not np.array_equal(first, other_epoch)
    assert StyleDropout(styles, 5).lanes(np.array([-1]), np.array([0])).tolist() == [0]


def test_stepping_with_a_style_equals_one_forward_pass():
    config = ModelConfig(len(VOCAB), hidden_size=32, embedding_size=16, styles=("a", "b"))
    torch.manual_seed(0)
    model = MusicLSTM(config).eval()
    with torch.no_grad():
        model.style.weight[1:].normal_()
    tokens = torch.randint(0, len(VOCAB), (2, 12))
    with torch.no_grad():
        whole, _ = model(tokens, style=torch.tensor([2, 2]))
        plain, _ = model(tokens)
    stepper = LSTMStepper(model, style=2)
    logits, state = stepper.prime(tokens[:, :1])
    steps = [logits]
    for t in range(1, 12):
        logits, state = stepper.step(tokens[:, t], state)
        steps.append(logits)
    assert torch.allclose(torch.stack(steps, 1), whole, atol=1e-5)
    assert not torch.allclose(whole, plain)
    assert not model.style.weight[0].any()  # any style: no vector


@pytest.mark.slow
def test_a_run_learns_its_folders_styles_and_generates_in_each(tmp_path, capsys):
    folder = two_styles(tmp_path)
    run = tmp_path / "run"
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert main(["train", str(folder), "--out", str(run), "--styles", "folders", "--steps", "12",
                 "--eval-every", "6", "--learning-rate", "1e-2", *TINY, *cache]) == 0  # fmt: skip
    info = json.loads((run / "run.json").read_text())
    assert info["model"]["styles"] == ["bach", "tunes"] and info["training"]["styles"] == "folders"
    assert sorted(set(info["styles"].values())) == ["bach", "tunes"] and len(info["styles"]) == 10
    loaded = load_model(run)
    table = loaded.model.style.weight
    assert not table[0].any() and table[1].abs().sum() > 0 and table[2].abs().sum() > 0
    # The same seed in two styles writes two pieces; "any" a third.
    tokens = {}
    for style in ("bach", "tunes", "any"):
        settings = SamplingSettings(max_tokens=60, seconds=None, seed=3, style=style)
        sampler = Sampler(loaded, settings)
        list(sampler.run())
        tokens[style] = sampler.tokens(0).tolist()
    assert tokens["bach"] != tokens["tunes"] != tokens["any"]
    out = tmp_path / "tune.mid"
    capsys.readouterr()
    assert main(["generate", str(run), "--out", str(out), "--style", "Tunes", "--seconds", "4",
                 "--seed", "1"]) == 0  # fmt: skip
    assert "style tunes; seed 1" in capsys.readouterr().out and out.is_file()
    assert main(["generate", str(run), "--out", str(tmp_path / "x.mid"), "--style", "bahc"]) == 2
    err = capsys.readouterr().err
    assert "no style 'bahc' (did you mean 'bach'?)" in err and "Traceback" not in err


def test_a_fine_tuned_run_adds_its_collection_at_zero_and_plays_as_its_start_did(tmp_path):
    folder = two_styles(tmp_path)
    base = tmp_path / "base"
    trainer = new_run(base, collection_of(folder, tmp_path / "cache"), tiny_model(),
                      tiny_training(steps=4, styles="folders"))  # fmt: skip
    for _ in trainer.run():
        pass
    mine = copy_chorales(corpus("bach_chorales"), tmp_path / "my chorales", 4)
    start = read_start(base)
    grown = new_run(tmp_path / "grown", collection_of(mine, tmp_path / "cache"), start.model,
                    tiny_training(steps=1), start_from=start)  # fmt: skip
    assert grown.model_config.styles == ("bach", "tunes", "my chorales")
    assert grown.model_config.default_style == 3
    own = grown.model.eval()
    assert torch.equal(own.style.weight[:3], start.weights["style.weight"])
    assert not own.style.weight[3].any()
    tokens = torch.randint(0, len(VOCAB), (1, 40))
    with torch.no_grad():  # its own style starts as "any" of the start: it plays as before
        before, _ = load_model(base).model(tokens, style=torch.tensor([0]))
        after, _ = own(tokens, style=torch.tensor([3]))
    assert torch.equal(before, after)
    grown.close()
    # On the command line, and generation then plays in the run's own style by default.
    out = tmp_path / "tuned"
    assert main(["train", str(mine), "--out", str(out), "--from", str(base), "--steps", "2",
                 "--device", "cpu", "--cache-dir", str(tmp_path / "cache")]) == 0  # fmt: skip
    model = json.loads((out / "run.json").read_text())["model"]
    assert model["styles"] == ["bach", "tunes", "my chorales"] and model["default_style"] == 3
    sampler = Sampler(load_model(out), SamplingSettings(max_tokens=8, seconds=None))
    assert sampler.style == 3


def test_a_resumed_run_with_styles_reaches_the_same_weights(tmp_path):
    from composer.core.training import TrainControl, resume_run
    from tests.core.test_training import events, latest_weights

    collection = collection_of(two_styles(tmp_path), tmp_path / "cache")
    config = tiny_training(steps=16, eval_every=5, batch_size=4, styles="tunes=folk,bach=chorale")
    straight = tmp_path / "straight"
    events(new_run(straight, collection, tiny_model(), config))
    interrupted = tmp_path / "interrupted"
    control = TrainControl()
    events(new_run(interrupted, collection, tiny_model(), config, control=control), control,
           stop_at=7)  # fmt: skip
    events(resume_run(interrupted, collection))
    a, b = latest_weights(straight), latest_weights(interrupted)
    assert "model.style.weight" in a and a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
