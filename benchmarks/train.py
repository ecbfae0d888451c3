"""Training speed: Composer's trainer against a bare loop of the same dimensions, in one run.

Baseline ("bare loop"): nn.Embedding + nn.LSTM + nn.Linear, AdamW, cross-entropy on random tokens
of shape (batch, window); nothing else. Composer's figure is the whole trainer on the Bach
chorales from ../shared/corpora: memory-mapped windows, augmentation, carried LSTM state, gradient
clipping, learning-rate schedule, metrics log, and a validation and checkpoint at the last step.

Two ratios are printed, each of the fastest of --rounds rounds (bare loop and trainer in turns
within a round: a shared 2-core machine's pace drifts by a fifth between one minute and the next):
- predicted tokens/s: the tokens the trainer learns from (the padding at the end of each piece,
  10-11% of the chorales' positions at a 128-token window, is counted as lost), against the
  bare loop's;
- processed tokens/s: every position the LSTM ran over, which isolates the trainer's own overhead.
The padding column is the share of positions that predict nothing (training/lanes.py says why
the next piece is not packed into them).

With --context, the trainer with context inputs (issue 26: meter and 2 bars of lookback,
`composer train --context`) against the trainer without them: measured in turns, without then
with, --rounds times, and the median of the rounds' ratios printed (a shared CPU's pace drifts
by more than the difference between one turn and the next).

Then, on the CPU, the same two alone and beside one busy process (a loop that keeps one core
busy, as a DAW or a browser does): the bare loop with all cores' threads and with one thread,
against the trainer, which chooses its thread count by measuring (training/threads.py).

    python benchmarks/train.py [--presets small medium] [--steps 100] [--device auto]
    python benchmarks/train.py --presets small --busy-steps 200   # also the busy-process table
    python benchmarks/train.py --presets small --context          # the cost of context inputs
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from composer.core.corpus import TokenCache, ingest
from composer.core.model import preset
from composer.core.tokens import TokenizerConfig, Vocabulary
from composer.core.training import Collection, TrainConfig, TrainEvent, new_run
from composer.core.training.distributed import select_device

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
WARMUP = 3


def bare_loop(config, batch: int, window: int, steps: int, device) -> float:
    """Tokens per second of the plainest training loop with the same shapes."""
    torch.manual_seed(0)
    embedding = nn.Embedding(config.vocab_size, config.embedding_size).to(device)
    lstm = nn.LSTM(
        config.embedding_size,
        config.hidden_size,
        config.layers,
        batch_first=True,
        dropout=config.dropout,
    ).to(device)
    head = nn.Linear(config.hidden_size, config.vocab_size).to(device)
    parameters = [*embedding.parameters(), *lstm.parameters(), *head.parameters()]
    optimizer = torch.optim.AdamW(parameters, lr=1e-3)
    tokens = torch.randint(3, config.vocab_size, (batch, window + 1), device=device)
    for step in range(WARMUP + steps):
        if step == WARMUP:
            _sync(device)
            started = time.perf_counter()
        out, _ = lstm(embedding(tokens[:, :-1]))
        loss = F.cross_entropy(head(out).flatten(0, 1), tokens[:, 1:].flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    loss.item()
    _sync(device)
    return steps * batch * window / (time.perf_counter() - started)


def trainer(collection, config, batch: int, window: int, steps: int, device) -> tuple[float, float]:
    """(predicted tokens/s, processed tokens/s) of the trainer over `steps` steps after warm-up."""
    settings = TrainConfig(
        steps=WARMUP + steps,
        batch_size=batch,
        window=window,
        eval_every=WARMUP + steps,
        device=device.type,
    )
    with tempfile.TemporaryDirectory() as run_dir:
        run = new_run(Path(run_dir) / "run", collection, config, settings)
        for progress in run.run():
            if progress.event == TrainEvent.STEP and progress.step == WARMUP:
                started, seen = time.perf_counter(), run.tokens_seen
        elapsed = time.perf_counter() - started
    return (run.tokens_seen - seen) / elapsed, steps * batch * window / elapsed


def beside_a_busy_process(collection, config, batch, window, steps, device) -> None:
    """The threads table: bare loop at each thread count and the trainer, alone and busy."""
    from composer.core.training.distributed import cpu_cores

    cores = cpu_cores()
    counts = sorted({cores, 1}, reverse=True)
    rows: dict[str, list[float]] = {}
    for busy in (False, True):
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
        try:
            time.sleep(0.5 if busy else 0)
            for n in counts:
                torch.set_num_threads(n)
                rate = bare_loop(config, batch, window, steps, device)
                rows.setdefault(f"bare loop, {n} thread{'s' if n > 1 else ''}", []).append(rate)
            torch.set_num_threads(cores)
            learnt, processed = trainer(collection, config, batch, window, steps, device)
            rows.setdefault("trainer (tuned)", []).append(processed)
        finally:
            if hog is not None:
                hog.kill()
                hog.wait()
    print(f"\nprocessed tokens/s over {steps} steps, alone and beside one busy process:")
    print(f"{'':22} {'alone':>10} {'busy':>10} {'busy/alone':>11}")
    for name, (alone, busy) in rows.items():
        print(f"{name:22} {alone:8,.0f}/s {busy:8,.0f}/s {busy / alone:11.2f}")
    default = rows[f"bare loop, {cores} thread{'s' if cores > 1 else ''}"]
    best_busy = max(r[1] for n, r in rows.items() if n.startswith("bare"))
    tuned = rows["trainer (tuned)"]
    print(
        f"trainer against the bare loop with all {cores} threads: alone {tuned[0] / default[0]:.2f}, "
        f"busy {tuned[1] / default[1]:.2f}; against the best bare loop when busy: "
        f"{tuned[1] / best_busy:.2f}"
    )


def context_rounds(collection, config, tokenizer, args, device) -> None:
    """The trainer without and with context inputs in turns; prints each turn and the median."""
    hearing = config.hearing_context(tokenizer.steps_per_beat)
    shape = (args.batch_size, args.window, args.steps, device)
    ratios = []
    for turn in range(args.rounds):
        without, _ = trainer(collection, config, *shape)
        with_context, _ = trainer(collection, hearing, *shape)
        ratios.append(with_context / without)
        print(
            f"  turn {turn + 1}: without context {without:8,.0f}/s, with {with_context:8,.0f}/s, "
            f"ratio {ratios[-1]:.2f}"
        )
    print(f"  with context / without, median of {args.rounds} turns: {np.median(ratios):.2f}")


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["small", "medium"])
    parser.add_argument("--steps", type=int, default=100, help="timed steps per measurement")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--window", type=int, default=128)
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--context", action="store_true", help="also the trainer with context inputs (issue 26)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of each measurement (the fastest is kept)"
    )
    parser.add_argument(
        "--busy-steps", type=int, default=0, help="steps for the busy-process table (0: skip)"
    )
    args = parser.parse_args()

    device = select_device(args.device)
    if device.type == "cpu":
        from composer.core.training.distributed import cpu_cores

        torch.set_num_threads(cpu_cores())
    tokenizer = TokenizerConfig()
    with tempfile.TemporaryDirectory() as cache:
        report = ingest(CORPORA / "bach_chorales", cache, tokenizer)
        collection = Collection.from_ingest(report, TokenCache(cache, tokenizer))
        print(
            f"{report.ok} chorales, {report.tokens:,} tokens; batch {args.batch_size} x window "
            f"{args.window}; {args.steps} timed steps after {WARMUP}; device {device}, "
            f"{torch.get_num_threads()} threads"
        )
        print(
            f"fastest of {args.rounds} rounds, the two in turns within a round\n"
            f"{'preset':8} {'bare loop':>12} {'trainer':>12} {'ratio':>6}   {'processed':>12} "
            f"{'ratio':>6}   {'padding':>7}"
        )
        for name in args.presets:
            config = preset(name, len(Vocabulary(tokenizer)))
            bare, learnt, processed = 0.0, 0.0, 0.0
            for _ in range(args.rounds):
                bare = max(
                    bare, bare_loop(config, args.batch_size, args.window, args.steps, device)
                )
                rates = trainer(
                    collection, config, args.batch_size, args.window, args.steps, device
                )
                learnt, processed = max((learnt, processed), rates)
            print(
                f"{name:8} {bare:10,.0f}/s {learnt:10,.0f}/s {learnt / bare:6.2f}   "
                f"{processed:10,.0f}/s {processed / bare:6.2f}   {1 - learnt / processed:7.1%}"
            )
            if args.context:
                context_rounds(collection, config, tokenizer, args, device)
        if args.busy_steps and device.type == "cpu":
            config = preset(args.presets[0], len(Vocabulary(tokenizer)))
            beside_a_busy_process(
                collection, config, args.batch_size, args.window, args.busy_steps, device
            )


if __name__ == "__main__":
    main()
