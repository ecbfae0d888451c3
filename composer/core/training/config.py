"""Training settings: one dataclass, saved with every checkpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from composer.core.errors import SettingsError
from composer.core.generation.settings import seed_problem  # torch-free: the seed limit

# The limits of one run, beside the settings they bound, so that the CLI, the app's Train panel
# and the readers of run.json and checkpoints share them. They keep every figure a run derives
# (seconds, steps, tokens, ETAs) an ordinary number: `--minutes inf` or `1e308` used to train
# and then crash every resume of the folder, and `--batch-size 100000` died allocating.

#: Ten million steps: at 0.05 s a step (a small model on a GPU) about six days, five times the
#: longest run measured (the base model's 18,000 steps at batch 32 is 0.2% of it).
#: Where training and generation may run, in words for the app: "auto" picks cuda, then mps,
#: then cpu (distributed.select_device). The one list the command line, the app and the core use.
DEVICES = {
    "auto": "Automatic",
    "cpu": "CPU",
    "cuda": "NVIDIA GPU (CUDA)",
    "mps": "Apple GPU (MPS)",
}
#: Training's number formats: auto (bf16/fp16 autocast on CUDA, fp32 elsewhere) or one of them.
PRECISIONS = ("auto", "fp32", "bf16", "fp16")

MAX_STEPS = 10_000_000
#: Passes over the files; a run of more is capped at MAX_STEPS steps anyway.
MAX_EPOCHS = 100_000
#: About 69 days of training: longer than any run Composer's models need, short enough that the
#: budget in seconds and the steps it allows stay ordinary numbers.
MAX_MINUTES = 100_000.0
#: Lanes per process: 4096 is 32 times the batch the base model was trained with on a GPU (256).
MAX_BATCH_SIZE = 4096
#: Tokens one step reads per process (batch size x window): the logits alone take this x the
#: vocabulary (503) x 4 bytes, three times over with their softmax and gradient, so 2**20 tokens
#: need about 6 GB before the LSTM's own activations: the most one GPU or a large desktop can
#: hold. Beyond what a machine holds, training stops with the out-of-memory sentence.
MAX_BATCH_TOKENS = 2**20
#: Tokens a window holds, the truncated back-propagation's length (the app offers up to 4096).
MAX_WINDOW = 65_536
#: AdamW's peak learning rate: 500 times the default (2e-3), which every larger rate only
#: diverges from; the limit is there to refuse infinity and slips of the keyboard.
MAX_LEARNING_RATE = 1.0
#: AdamW's decoupled decay shrinks every weight by learning rate x this a step: at 1 an unused
#: weight halves in about 350 steps at the default rate (the default decay is 0.01); AdamW
#: itself refuses a negative one with a traceback.
MAX_WEIGHT_DECAY = 1.0

#: At most this share of a run's time goes to validation (TrainConfig.validation_share): one
#: reads at most the share x READ_COST_RATIO x the tokens trained between two validations.
#: Reading a token without learning from it costs about a third of training on it (the
#: chorales, small model, 2 CPU cores: 52k tokens/s read, 17k trained), so a default run (100
#: steps of 32 x 128 between two validations) reads at most 61k tokens; max_validation_tokens
#: alone (200k) would have taken about a sixth of the run on POP909 (issue 29).
VALIDATION_SHARE = 0.05
READ_COST_RATIO = 3.0

#: Settings suited to fine-tuning that a run started from weights gets unless they are given:
#: a lower peak learning rate (the weights are already good; 2e-3 from scratch would shake them),
#: a short warm-up, and early stopping: a small collection is learnt by heart within minutes, so
#: validate often and stop when 8 validations in a row bring no new best (the best is kept).
#: Here, beside TrainConfig, so that the CLI's help reads it without importing torch.
FINE_TUNING = {"learning_rate": 5e-4, "warmup_steps": 20, "eval_every": 50, "patience": 8}


@dataclass(frozen=True)
class TrainConfig:
    """How to train. Steps are optimizer steps; one step reads `batch_size` windows per process."""

    steps: int | None = None  # total steps; None: `epochs` passes over the training files
    epochs: int = 10  # used when steps and minutes are None
    minutes: float | None = None  # a time budget instead of epochs (steps, when given, also cap)
    patience: int | None = None  # stop after this many validations without a new best (None: never)
    batch_size: int = 32  # lanes per process: pieces read side by side
    window: int = 128  # tokens per truncated-BPTT window; the state carries across windows
    learning_rate: float = 2e-3  # AdamW peak; LSTMs tolerate more than transformers
    min_learning_rate: float = 1e-4  # the cosine decay ends here
    warmup_steps: int = 100  # linear warm-up from 0 (shortened to a tenth of a short run)
    weight_decay: float = 0.01
    grad_clip: float = 1.0  # global gradient norm; LSTMs explode without it
    validation_fraction: float = 0.1  # of the files, chosen by content hash and split_seed
    max_validation_tokens: int = 200_000  # cap so that validation stays quick on big collections
    # At most this share of the run's time goes to validation (validation_tokens); None: the cap
    # above alone, as runs made before had it, so that their losses stay comparable on resume.
    validation_share: float | None = VALIDATION_SHARE
    eval_every: int = 100  # steps between validations; each also writes a checkpoint
    log_every: int = 10  # steps between train-loss lines in metrics.jsonl
    seed: int = 0  # weights, data order, augmentation and dropout
    split_seed: int = 0  # which files validate; kept apart so a new seed keeps the same split
    # Semitones of random transposition (0: off; drums are never transposed). ±6 reaches every
    # key; measured by benchmarks/transpose.py: 4-5% lower validation NLL than ±3 on a tiny
    # collection (from empty and fine-tuned), no worse on a larger one.
    transpose: int = 6
    tempo_stretch: float = 0.05  # random tempo factor 1 +- this (0: off)
    # The share of the tokens read that are fill-in-the-middle examples (fill_in_data.py), which
    # teach the model to regenerate a span with the music on both sides (0: off).
    fill_in: float = 0.5
    # Whether a fill-in example that gives some voices and asks for the others splits a span by
    # its tracks where the file has several (given_data.py); runs made before kept no tracks.
    voices_by_track: bool = True
    # Where each file's style comes from (training/styles.py): "" none (a run started from a
    # model with styles: its collection's own), "folders", or "folder=style,..." pairs.
    styles: str = ""
    device: str = "auto"  # auto (cuda, mps, cpu), cpu, cuda or mps
    precision: str = "auto"  # auto (bf16/fp16 autocast on CUDA, fp32 elsewhere), fp32, bf16, fp16

    def validation_tokens(self, world_size: int = 1) -> int:
        """The most tokens one validation reads: max_validation_tokens, or fewer where that
        would take more than validation_share of the time between two validations."""
        if self.validation_share is None:
            return self.max_validation_tokens
        between = self.eval_every * self.batch_size * self.window * world_size
        share = int(self.validation_share * READ_COST_RATIO * between)
        return max(1, min(self.max_validation_tokens, share))

    def __post_init__(self) -> None:
        checks = [
            (
                self.steps is None or 1 <= self.steps <= MAX_STEPS,
                f"steps must be 1 to {MAX_STEPS:,}",
            ),
            (1 <= self.epochs <= MAX_EPOCHS, f"epochs must be 1 to {MAX_EPOCHS:,}"),
            (
                self.minutes is None or 0 < self.minutes <= MAX_MINUTES,  # NaN and inf too
                f"minutes must be more than 0 and at most {MAX_MINUTES:,.0f} (about 69 days)",
            ),
            (self.patience is None or self.patience >= 1, "patience must be at least 1"),
            (
                1 <= self.batch_size <= MAX_BATCH_SIZE,
                f"batch size must be 1 to {MAX_BATCH_SIZE:,}",
            ),
            (2 <= self.window <= MAX_WINDOW, f"window must be 2 to {MAX_WINDOW:,} tokens"),
            (
                self.batch_size * self.window <= MAX_BATCH_TOKENS,
                f"batch size x window must be at most {MAX_BATCH_TOKENS:,} tokens a step "
                f"({self.batch_size:,} x {self.window:,} is {self.batch_size * self.window:,}); "
                "lower one of them",
            ),
            (
                0 < self.learning_rate <= MAX_LEARNING_RATE,  # NaN and inf too
                f"learning rate must be above 0 and at most {MAX_LEARNING_RATE:g}",
            ),
            (
                0 <= self.weight_decay <= MAX_WEIGHT_DECAY,  # AdamW refuses a negative one
                f"weight decay must be 0 to {MAX_WEIGHT_DECAY:g}",
            ),
            (
                0 <= self.min_learning_rate <= self.learning_rate,
                "min learning rate must be 0 to lr",
            ),
            (self.warmup_steps >= 0, "warm-up steps must be 0 or more"),
            (self.grad_clip > 0, "gradient clip must be positive"),
            (0 <= self.validation_fraction < 1, "validation fraction must be 0 or more, below 1"),
            (
                self.validation_share is None or 0 < self.validation_share <= 1,
                "the validation's share of a run must be above 0, at most 1",
            ),
            (self.eval_every >= 1 and self.log_every >= 1, "eval/log intervals must be at least 1"),
            (0 <= self.transpose <= 24, "transpose must be 0 to 24 semitones"),
            (0 <= self.tempo_stretch < 0.5, "tempo stretch must be 0 to 0.5"),
            (0 <= self.fill_in <= 0.9, "the fill-in share must be 0 to 0.9"),
            (self.precision in PRECISIONS, f"precision: {'/'.join(PRECISIONS)}"),
            (len(self.styles) <= 10_000, "the styles setting is too long"),
            (seed_problem(self.seed) is None, seed_problem(self.seed)),
            (
                seed_problem(self.split_seed) is None,
                seed_problem(self.split_seed, "the split seed"),
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise SettingsError(message)
        if self.styles:
            from composer.core.training.styles import parse_styles

            parse_styles(self.styles)  # SettingsError with one sentence

    @classmethod
    def fine_tuning(cls, **chosen) -> TrainConfig:
        """The settings of a run started from a model's weights: FINE_TUNING (a lower learning
        rate, a short warm-up, early stopping), under whatever was chosen. The one home of that
        policy, for the command line's --from and the app's Start from."""
        return cls(**{**FINE_TUNING, **chosen})

    def to_dict(self) -> dict:
        data = asdict(self)
        if not self.styles:  # runs without styles keep the layout written before them
            del data["styles"]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        # Runs made before fill-in training had none, before the tracks no voices by track, and
        # before issue 29 validation read max_validation_tokens whatever it cost.
        data = {"fill_in": 0.0, "voices_by_track": False, "validation_share": None, **data}
        kinds = {f.name: str(f.type) for f in fields(cls)}
        unknown = set(data) - set(kinds)
        if unknown:
            raise SettingsError(f"unknown training settings: {', '.join(sorted(unknown))}")
        for name, value in data.items():  # JSON from disk may hold anything
            if not _fits(value, kinds[name]):
                raise SettingsError(
                    f"the training setting {name} is {value!r}, not a {kinds[name]}"
                )
        return cls(**data)


def _fits(value, kind: str) -> bool:
    """Whether a JSON value fits a field annotated `kind` ("int | None", "float", "str")."""
    if value is None:
        return "None" in kind
    if isinstance(value, bool):
        return "bool" in kind
    if isinstance(value, int):
        return "int" in kind or "float" in kind
    if isinstance(value, float):
        return "float" in kind
    return isinstance(value, str) and "str" in kind
