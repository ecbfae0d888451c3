"""Soak: train and generate again and again for N minutes and report memory growth.

Each cycle trains a fresh small run for 20 steps on eight Bach chorales and generates four
20-second variations with it, in this one process, as a long app session would. The baseline is
the resident memory after the warm-up cycles; the figure is the growth from there to the end.

    python benchmarks/soak.py [--minutes 10] [--warmup 2]
Goal: <= 5% growth after warm-up. (Not part of the test run.)
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from composer.core.corpus import TokenCache, ingest
from composer.core.generation import Sampler, SamplingSettings, load_model
from composer.core.model import preset
from composer.core.tokens import TokenizerConfig, Vocabulary
from composer.core.training import Collection, TrainConfig, new_run

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cycle(root: Path, collection, index: int) -> None:
    run_dir = root / f"run-{index}"
    config = TrainConfig(steps=20, eval_every=10, device="cpu")
    for _ in new_run(
        run_dir, collection, preset("small", len(Vocabulary(collection.tokenizer))), config
    ).run():
        pass
    sampler = Sampler(load_model(run_dir), SamplingSettings(seconds=20, variations=4, seed=index))
    for _ in sampler.run():
        pass
    sampler.pieces()
    shutil.rmtree(run_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--warmup", type=int, default=2, help="cycles before the baseline")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = root / "chorales"
        folder.mkdir()
        for path in sorted((CORPORA / "bach_chorales").glob("*.mid"))[:8]:
            shutil.copy(path, folder / path.name)
        tokenizer = TokenizerConfig()
        report = ingest(folder, root / "cache", tokenizer, jobs=0)
        collection = Collection.from_ingest(report, TokenCache(root / "cache", tokenizer))
        started, index, readings = time.monotonic(), 0, []
        while time.monotonic() - started < args.minutes * 60 or index <= args.warmup:
            cycle(root, collection, index)
            readings.append(resident_mb())
            index += 1
        baseline = readings[args.warmup - 1]
        print(
            f"{index} cycles in {(time.monotonic() - started) / 60:.1f} min; resident memory after "
            f"warm-up {baseline:.0f} MB, at the end {readings[-1]:.0f} MB, peak {max(readings):.0f} MB"
        )
        print(
            f"growth after warm-up: {100 * (readings[-1] / baseline - 1):+.1f}% (ratio {readings[-1] / baseline:.3f}; goal <= 5%)"
        )
        print("per cycle (MB): " + " ".join(f"{r:.0f}" for r in readings))


if __name__ == "__main__":
    main()
