"""RunInfo: run.json as a typed record, written and read back byte for byte, old runs included."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from composer.core.training import checkpoint as ckpt
from composer.core.training.run_info import RunInfo, StartedFrom, read_run_info
from tests.training_helpers import tiny_trained_run


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return tiny_trained_run(tmp_path_factory.mktemp("run"), files=4, steps=4)


def test_a_trained_run_json_round_trips_byte_for_byte(trained, tmp_path):
    run_dir, _ = trained
    written = (run_dir / "run.json").read_bytes()
    info = read_run_info(run_dir)
    assert info.latest and info.latest.startswith("checkpoints/step-") and info.step == 4
    assert info.id and info.train and info.started_from is None
    assert info.to_json() == json.loads(written)
    ckpt.write_run(tmp_path, info)
    assert (tmp_path / "run.json").read_bytes() == written
    assert RunInfo.from_json(info.to_json(), run_dir / "run.json") == info


def test_a_run_made_before_id_and_from_still_reads_and_stays_as_it_was(trained, tmp_path):
    run_dir, _ = trained
    old = json.loads((run_dir / "run.json").read_text())
    del old["id"], old["from"]
    (tmp_path / "run.json").write_text(json.dumps(old, indent=1))
    before = (tmp_path / "run.json").read_bytes()
    info = read_run_info(tmp_path)
    assert info.id is None and info.started_from is None and info.step == 4
    ckpt.write_run(tmp_path, replace(info, step=4))
    assert (tmp_path / "run.json").read_bytes() == before


def test_the_run_a_fine_tuning_started_from_is_typed():
    info = RunInfo("/m", {}, {}, [], {}, started_from=StartedFrom("/a/model.json", "Bach"))
    assert info.to_json()["from"] == {"model": "/a/model.json", "name": "Bach"}
    assert list(info.to_json())[:3] == ["format", "version", "id"]


@pytest.mark.parametrize(
    "key, value",
    [
        ("step", "4"),
        ("from", {"model": 3}),
        ("best_val_loss", "low"),
        ("folder", ["x"]),
        ("id", 7),
        ("data", {"train": [["a"]], "validation": []}),
    ],
)
def test_a_hostile_run_json_gives_one_sentence_naming_the_file(trained, tmp_path, key, value):
    run_dir, _ = trained
    run = json.loads((run_dir / "run.json").read_text())
    run[key] = value
    (tmp_path / "run.json").write_text(json.dumps(run))
    with pytest.raises(ckpt.CheckpointError) as caught:
        read_run_info(tmp_path)
    assert str(tmp_path / "run.json") in str(caught.value)
    assert "\n" not in str(caught.value)
    with pytest.raises(ckpt.CheckpointError, match="run.json"):
        RunInfo.from_json(run, tmp_path / "run.json")
