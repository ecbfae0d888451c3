"""Generation speed: Composer's sampler against the naive loop, in one run, with the same weights.

Baseline ("naive loop"): call the model (nn.Embedding + nn.LSTM + nn.Linear) once per token with
its (h, c) state, softmax, torch.multinomial: what most LSTM tutorials do. Composer: the Sampler,
whole (grammar mask, top-p, seeded draws, decoding as it goes), and its LSTMStepper alone (with a
softmax and torch.multinomial: the least any sampler does). A second Sampler row has every
constraint of `benchmarks/steering.py`'s "all at once" row switched on (key, range, grid,
instrument, no drums, density). Issue 29 asks the whole Sampler for 0.85x the stepper alone at
the small size and 3.3x the naive loop at medium.

Each is timed in --rounds rounds, one after the other within a round, and its fastest round is
kept: on a shared 2-core machine one round of the same loop varied by a quarter.
Also the time per step of 8 variations sampled as one batch against 1. With --context, the same
model with the context inputs `--context` gives (tokens/lookback.py: 12-step beat, lookback of 1,
2, 4 and 8 bars and ahead, repeat flags) against it
without, the stepper alone and the whole Sampler (issue 26 asks for ms/token within 15%).

    python benchmarks/generate.py [--preset medium] [--tokens 600] [--rounds 5] [--context]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from composer.core.generation import Sampler, SamplingSettings
from composer.core.generation.constraints import Constraints
from composer.core.generation.loading import LoadedModel
from composer.core.generation.stepper import LSTMStepper
from composer.core.model import MusicLSTM, preset
from composer.core.model.lstm import context_tensor
from composer.core.tokens import BOS, TokenizerConfig, Vocabulary
from composer.core.tokens.lookback import ContextReader
from composer.core.training.distributed import cpu_cores

sys.path.insert(0, str(Path(__file__).resolve().parent))
from steering import SETTINGS  # noqa: E402


@torch.inference_mode()
def naive(model: MusicLSTM, tokens: int) -> float:
    """Seconds per token of the per-token nn.LSTM loop at batch 1."""
    generator = torch.Generator().manual_seed(0)
    token, state = torch.tensor([[BOS]]), None
    started = time.perf_counter()
    for _ in range(tokens):
        logits, state = model(token, state)
        token = torch.multinomial(torch.softmax(logits[:, -1], -1), 1, generator=generator)
    return (time.perf_counter() - started) / tokens


@torch.inference_mode()
def stepper_alone(model: MusicLSTM, tokens: int, vocab: Vocabulary | None = None) -> float:
    """Seconds per token of the LSTMStepper at batch 1; with a vocab, a context model reading
    the rows of a ContextReader (their cost included)."""
    generator = torch.Generator().manual_seed(0)
    stepper = LSTMStepper(model)
    spec = model.config.context_spec()
    reader = ContextReader(vocab, spec, model.config.vocab_size) if spec else None
    context = context_tensor(model.config, vocab, [BOS]) if spec else None
    if reader:
        reader.feed(BOS)
    logits, state = stepper.prime(torch.tensor([[BOS]]), context)
    started = time.perf_counter()
    for _ in range(tokens):
        token = torch.multinomial(torch.softmax(logits, -1), 1, generator=generator)[:, 0]
        row = torch.from_numpy(reader.feed(int(token))[None]) if reader else None
        logits, state = stepper.step(token, state, row)
    return (time.perf_counter() - started) / tokens


ALL_AT_ONCE = SETTINGS["all at once"]  # benchmarks/steering.py's row


def sampler(
    loaded: LoadedModel, tokens: int, variations: int, constraints: Constraints | None = None
) -> float:
    """Seconds per step of the whole Sampler."""
    run = Sampler(
        loaded,
        SamplingSettings(seconds=None, max_tokens=tokens, top_p=0.95, variations=variations),
        constraints=constraints,
    )
    started = time.perf_counter()
    updates = list(run.run())
    return (time.perf_counter() - started) / max(updates[-1].step, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--tokens", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=5, help="the fastest round of each is kept")
    parser.add_argument("--context", action="store_true", help="also a model with context inputs")
    args = parser.parse_args()
    torch.set_num_threads(cpu_cores())
    vocab = Vocabulary(TokenizerConfig())
    config = preset(args.preset, len(vocab))
    torch.manual_seed(0)
    model = MusicLSTM(config).eval()
    loaded = LoadedModel(model, config, vocab, None, {})
    loops = {
        "naive": lambda: naive(model, args.tokens),
        "alone": lambda: stepper_alone(model, args.tokens),
        "one": lambda: sampler(loaded, args.tokens, 1),
        "steered": lambda: sampler(loaded, args.tokens, 1, ALL_AT_ONCE),
        "eight": lambda: sampler(loaded, args.tokens, 8),
    }
    for loop in (naive, stepper_alone):  # warm up
        loop(model, 20)
    sampler(loaded, 20, 1, ALL_AT_ONCE)
    best = {name: float("inf") for name in loops}
    for _ in range(args.rounds):
        for name, loop in loops.items():
            best[name] = min(best[name], loop())
    base, alone, one, steered, eight = best.values()
    print(
        f"{args.preset} ({config.layers} x {config.hidden_size}), CPU, {torch.get_num_threads()} threads, "
        f"{args.tokens} tokens, fastest of {args.rounds} rounds"
    )
    print(f"naive nn.LSTM loop, batch 1: {1 / base:8,.0f} tokens/s ({base * 1e3:.2f} ms/token)")
    print(f"LSTMStepper alone,  batch 1: {1 / alone:8,.0f} tokens/s  ratio {base / alone:.2f}")
    print(
        f"Sampler (whole),    batch 1: {1 / one:8,.0f} tokens/s  ratio {base / one:.2f}, "
        f"{alone / one:.2f}x the stepper alone"
    )
    print(
        f"  all constraints,  batch 1: {1 / steered:8,.0f} tokens/s  ratio {base / steered:.2f}, "
        f"{alone / steered:.2f}x the stepper alone"
    )
    print(
        f"Sampler, 8 variations:       {8 / eight:8,.0f} tokens/s  time per step vs 1: "
        f"{eight / one:.2f}x"
    )
    if args.context:
        with_context(config, model, vocab, args.tokens, alone, one)


def with_context(config, model: MusicLSTM, vocab: Vocabulary, tokens: int, alone, one) -> None:
    """The same weights with the context tables `--context` gives (random: zeros would cost the
    same) added: meter, lookback of 1, 2, 4 and 8 bars (and ahead), repeat flags."""
    config = config.hearing_context(vocab.config.steps_per_beat)
    grown = MusicLSTM(config).eval()
    grown.load_state_dict(model.state_dict(), strict=False)
    with torch.no_grad():
        for table in (grown.context_step, grown.context_beat, *grown.lookback, *grown.repeat):
            table.weight.normal_(0, 0.1)
    loaded = LoadedModel(grown, config, vocab, None, {})
    stepper_alone(grown, 20, vocab)
    context_alone = stepper_alone(grown, tokens, vocab)
    context_one = sampler(loaded, tokens, 1)
    print(
        f"with context, LSTMStepper: {context_alone * 1e3:.2f} ms/token, "
        f"{context_alone / alone:.2f}x without"
    )
    print(
        f"with context, Sampler:     {context_one * 1e3:.2f} ms/token, "
        f"{context_one / one:.2f}x without"
    )


if __name__ == "__main__":
    main()
