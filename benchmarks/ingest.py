"""Ingest speed: Composer's ingest against miditok's MIDILike encoding of the same files.

Both run in one process on a cold cache, in the same run, on two sets:
- expressive piano: generated performances (thousands of notes off the grid, sustain-like overlaps,
  hundreds of tempo changes), plus pretty_midi's example.mid (420 tempo changes) when the shared
  corpora are present;
- folk tunes: ../shared/corpora/nottingham (small two-track files without tempo events).

Composer's figure covers the whole ingest (hash, parse, tokenise, write the cache); miditok's covers
parsing and tokenising only (it keeps tokens in memory), so the ratio is if anything conservative.

    python benchmarks/ingest.py [--piano-files 40] [--folk-files 1034]

Needs `pip install -e .[bench]` (miditok 3.x).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import mido
import numpy as np

from composer.core.corpus import ingest
from composer.core.tokens import TokenizerConfig

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


def write_expressive_piano(
    path: Path, seed: int, notes: int = 4000, tempo_changes: int = 400
) -> None:
    """A performance-like piano file: unquantised onsets, overlapping notes, rubato tempo map."""
    rng = np.random.default_rng(seed)
    tpq = 480
    onsets = np.cumsum(rng.gamma(2.0, 60.0, notes)).astype(int)
    lengths = rng.integers(30, 1400, notes)
    pitches = np.clip(np.round(rng.normal(62, 12, notes)), 21, 108).astype(int)
    velocities = np.clip(np.round(rng.normal(70, 18, notes)), 1, 127).astype(int)
    events = []
    for start, length, pitch, velocity in zip(onsets, lengths, pitches, velocities):
        events.append((int(start), 1, mido.Message("note_on", note=pitch, velocity=velocity)))
        events.append((int(start + length), 0, mido.Message("note_off", note=pitch, velocity=0)))
    tempo_ticks = np.sort(rng.integers(0, int(onsets[-1]), tempo_changes))
    for tick, bpm in zip(tempo_ticks, rng.uniform(50, 140, tempo_changes)):
        events.append((int(tick), 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))))
    events.sort(key=lambda e: (e[0], e[1]))
    track, now = mido.MidiTrack(), 0
    for tick, _, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    midi = mido.MidiFile(ticks_per_beat=tpq)
    midi.tracks.append(track)
    midi.save(path)


def time_composer(folder: Path) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        report = ingest(folder, cache, TokenizerConfig(), jobs=0)
        return time.perf_counter() - started, report.ok


def time_miditok(files: list[Path]) -> float:
    import miditok

    config = miditok.TokenizerConfig(use_programs=True, use_tempos=True, use_velocities=True)
    tokenizer = miditok.MIDILike(config)
    started = time.perf_counter()
    for path in files:
        tokenizer.encode(path)
    return time.perf_counter() - started


def compare(name: str, folder: Path) -> float:
    files = sorted(folder.glob("*.mid"))
    time_composer(folder)  # warm imports and the OS file cache for both contenders
    ours, ok = time_composer(folder)
    theirs = time_miditok(files)
    ratio = theirs / ours
    print(
        f"{name:<18} {len(files):>5} files | composer ingest {len(files) / ours:8.1f} files/s "
        f"({ok} usable) | miditok MIDILike {len(files) / theirs:8.1f} files/s | "
        f"ratio {ratio:5.1f}x"
    )
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--piano-files", type=int, default=40)
    parser.add_argument("--folk-files", type=int, default=1034)
    args = parser.parse_args()
    try:
        import miditok  # noqa: F401
    except ImportError:
        print("miditok is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory() as work:
        piano = Path(work) / "piano"
        piano.mkdir()
        for seed in range(args.piano_files):
            write_expressive_piano(piano / f"performance{seed:03}.mid", seed)
        example = CORPORA / "library_testdata" / "pretty_midi" / "example.mid"
        if example.exists():
            shutil.copy(example, piano / "pretty_midi_example.mid")
        compare("expressive piano", piano)

        nottingham = CORPORA / "nottingham"
        if nottingham.is_dir():
            folk = Path(work) / "folk"
            folk.mkdir()
            for path in sorted(nottingham.glob("*.mid"))[: args.folk_files]:
                shutil.copy(path, folk / path.name)
            compare("folk tunes", folk)
        else:
            print(f"folk tunes: skipped, {nottingham} is absent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
