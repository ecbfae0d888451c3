"""The same seed and settings write the same MIDI bytes, before and after any speed work (issue
29): the bundled model through the command line, plain sampling, top-k, every steering
constraint at once, a continuation, a filled span and an accompaniment, compared with the files
today's code wrote (their SHA-256 in tests/cli/same_output.json).

When a change is meant to change the music (a new bundled model, a new sampling rule), record
again and say why in the commit:

    .venv/bin/python -m tests.cli.test_same_output --record
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from composer.cli import main

# Beside this file: tests/data holds only what scripts/make_test_data.py writes.
DATA = Path(__file__).resolve().parent / "same_output.json"
CHORALE = "riem001_bwv269.mid"  # of ../shared/corpora/bach_chorales
#: name -> the command's arguments ({piece}: a chorale; --out is added)
CASES = {
    "plain": ["generate", "--seconds", "8", "--variations", "2", "--seed", "11"],
    "top-k": ["generate", "--seconds", "8", "--seed", "12", "--top-k", "8", "--temperature", "0.8"],
    "steered": [
        "generate", "--seconds", "8", "--seed", "13", "--key", "D minor", "--range", "C3-C6",
        "--polyphony", "3", "--programs", "piano, violin", "--no-drums", "--tempo", "96",
        "--meter", "3/4", "--grid", "1/8", "--density", "2",
    ],
    "continued": ["generate", "--seconds", "6", "--seed", "14", "--primer", "{piece}"],
    "filled": ["fill", "{piece}", "--bars", "2-3", "--seed", "15", "--variations", "2"],
    "accompanied": ["accompany", "{piece}", "--program", "33", "--bars", "1-2", "--seed", "16"],
}  # fmt: skip


def written(name: str, folder: Path, chorales: Path) -> dict[str, str]:
    """SHA-256 of each file case `name` writes into `folder`."""
    out = folder / name / "out.mid"
    out.parent.mkdir(parents=True)
    args = [a.format(piece=chorales / CHORALE) for a in CASES[name]]
    assert main([*args, "--out", str(out)]) == 0, name
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(out.parent.glob("*.mid"))
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_the_same_seed_and_settings_write_the_same_bytes(name, tmp_path, capsys):
    from tests.conftest import corpus

    recorded = json.loads(DATA.read_text())
    chorales = corpus("bach_chorales", stand_in=False)  # the real file the hashes were made with
    assert written(name, tmp_path, chorales) == recorded[name], (
        f"{name}: the music changed; if that is meant, record again (see the module doc)"
    )


def record() -> None:
    import tempfile

    from tests.conftest import corpus

    with tempfile.TemporaryDirectory() as folder:
        chorales = corpus("bach_chorales", stand_in=False)
        hashes = {name: written(name, Path(folder), chorales) for name in sorted(CASES)}
    DATA.write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n")
    print(f"recorded {sum(len(h) for h in hashes.values())} files in {DATA}")


if __name__ == "__main__" and "--record" in sys.argv:
    record()
