"""How to sample (`SamplingSettings`) and the limits of one generation: the one home of the
sampling defaults. Torch-free, so that the command line and the app read the defaults without
loading torch or numpy."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass

from composer.core.errors import SettingsError

# The limits of one generation, here so that the CLI, the app and `composer evaluate` share them.
# They bound how long the sampler can run whatever it is asked: without them `--seconds 1e9`, or
# `--tokens 100000000 --variations 8`, ran for most of a day, and some temperatures forever.

#: An hour of music: longer than any piece, and where the app's Length control stops.
MAX_SECONDS = 3600.0
#: An hour of music at 140 tokens a second, nearly three times the densest collection measured
#: (pop909: 52 tokens/s; Bach chorales 41, Nottingham 33); about three minutes for one variation
#: with the small model on 2 CPU cores (2,700 tokens/s), about twice that for eight.
MAX_TOKENS = 500_000
#: Variations sampled together, as one batch (the app offers up to 16).
MAX_VARIATIONS = 64
#: Below this, sampling is greedy in effect (a gap of 0.1 between two logits becomes e^-10), so
#: greedy output is `top_k=1`; 1e-300 is 0 in float32 and made every draw NaN (an endless loop).
MIN_TEMPERATURE = 0.01
#: Above this, every allowed token is about equally likely (a trained model's logits span tens);
#: 1e308 is infinite in float32 and made every draw NaN (an endless loop).
MAX_TEMPERATURE = 100.0
#: Tokens per second of new music a model may write before it counts as stuck (sampling what
#: does not move time forward: tempo, instrument, velocity, zero-length notes). Six times the
#: densest collection measured (pop909, 52 tokens/s) and three times a virtuoso piano part (20
#: notes a second at 4-5 tokens each), so music never reaches it. It also bounds a run in
#: seconds: at most MAX_SECONDS x this + TOKENS_AT_ONE_MOMENT tokens.
MAX_TOKENS_PER_SECOND = 300
#: Tokens allowed on top of that at any moment, so that a dense chord at the very start (16
#: instruments x 16 notes with their velocities and instruments is about 800) is not stuck.
TOKENS_AT_ONE_MOMENT = 1000
#: The tempos a musician may ask for, in quarter notes per minute (BPM): from below any largo
#: (20, the slowest most DAWs accept) to beyond any presto. The file carries the tempo asked for
#: exactly; the model hears the nearest of its vocabulary's tempo bins (30-240 BPM for the
#: bundled model), so a tempo outside them is written as asked and heard as the edge bin.
MIN_TEMPO_BPM = 20.0
MAX_TEMPO_BPM = 300.0
#: The largest logit the sampler accepts (it checks every step). A trained model's logits are
#: tens; divided by MIN_TEMPERATURE this stays far inside float32 (3.4e38), where a larger one
#: could overflow to infinity, and NaN or infinite logits make every draw NaN.
MAX_LOGIT = 1e30
#: Every seed Composer takes (sampling, training, the validation split) is 0 to this: numpy's
#: classic seed range, so a seed means the same to every tool. torch accepts up to 2**64 - 1, and
#: the seeds derived from it (variation i draws from seed + i; training's dropout from seed x
#: 1,000,003 + rank) stay far inside that; 99999999999999999999 crashed torch with a traceback.
#: The app's spin boxes stop at 2**31 - 1, the most a QSpinBox holds.
MAX_SEED = 2**32 - 1


def random_seed() -> int:
    """A seed for a generation that names none (printed, so that it can be given again): below
    2**31, so that the app's seed box, a 32-bit integer, holds it too."""
    return secrets.randbelow(2**31)


def seed_problem(seed: int, name: str = "the seed") -> str | None:
    """What is wrong with a seed, as one sentence, or None."""
    if not 0 <= seed <= MAX_SEED:
        return f"{name} must be a whole number from 0 to {MAX_SEED:,}"
    return None


#: What `composer evaluate` and the app's Evaluate generate to compare with the files: how many
#: pieces, how long each, from which seed (here, torch-free, for the command line's help).
EVALUATION_SAMPLES = 8
EVALUATION_SECONDS = 30.0
EVALUATION_SEED = 0


@dataclass(frozen=True)
class SamplingSettings:
    """How to sample. Greedy decoding (always the likeliest token) is `top_k=1`."""

    temperature: float = 1.0  # MIN_TEMPERATURE to MAX_TEMPERATURE; below 1 plays safer
    top_k: int = 0  # keep only the k likeliest tokens (0: all)
    top_p: float = 0.95  # keep the likeliest tokens whose probabilities add up to p (1: all)
    max_tokens: int | None = None  # stop after this many new tokens (at most MAX_TOKENS)
    seconds: float | None = 30.0  # stop after this much new music, in seconds by its tempo tokens
    seed: int = 0  # variation i draws from its own generator seeded with seed + i
    variations: int = 1  # sampled together, as one batch
    # The style to play in, by name (ModelConfig.style_index: "any", or one the model learnt);
    # None: the model's own default (a fine-tuned run's collection, else any).
    style: str | None = None

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem:
            raise SettingsError(problem)

    def _problem(self) -> str | None:
        """What is wrong with these settings, as one sentence, or None."""
        for name, value in (("temperature", self.temperature), ("top-p", self.top_p)):
            if math.isnan(value):
                return f"{name} must be a number"
        t, tokens, seconds = self.temperature, self.max_tokens, self.seconds
        temperatures = f"Composer samples from {MIN_TEMPERATURE:g} to {MAX_TEMPERATURE:g}"
        if t <= 0:
            return "temperature must be above 0 (for greedy output use top-k 1)"
        if t < MIN_TEMPERATURE:
            return f"temperature {t:g} is too low: {temperatures} (for greedy output use top-k 1)"
        if t > MAX_TEMPERATURE:
            return f"temperature {t:g} is too high: {temperatures}"
        if self.top_k < 0:
            return "top-k must be 0 (off) or more"
        if not 0 < self.top_p <= 1:
            return "top-p must be above 0 and at most 1"
        if tokens is None and seconds is None:
            return "give a length in tokens or seconds"
        if tokens is not None and tokens < 1:
            return "the length in tokens must be at least 1"
        if tokens is not None and tokens > MAX_TOKENS:
            return (
                f"the length must be at most {MAX_TOKENS:,} tokens ({tokens:,} was asked); "
                "generate several shorter pieces instead"
            )
        if seconds is not None and not seconds > 0:  # NaN included
            return "the length in seconds must be above 0"
        if seconds is not None and seconds > MAX_SECONDS:
            return (
                f"the length must be at most {MAX_SECONDS:.0f} seconds of music, an hour "
                f"({seconds:g} was asked); generate several shorter pieces instead"
            )
        if not 1 <= self.variations <= MAX_VARIATIONS:
            return f"variations must be 1 to {MAX_VARIATIONS}"
        return seed_problem(self.seed)
