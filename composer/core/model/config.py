"""The model's shape: one dataclass, saved with every checkpoint, validated before anything is built.

A model file may come from the internet, so its config is checked against hard limits before a
single tensor is allocated: a JSON file asking for a 10^9-unit layer is refused, not obeyed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from composer.core.errors import SettingsError

#: The bar the context inputs count, in quarter notes: 4/4 until time signatures travel with the
#: cached tokens (tokens/lookback.py); lookback lags are whole bars of it.
BEATS_PER_BAR = 4
#: The lookback lags `composer train --context` gives a model: what it played 1 and 2 bars before,
#: as Magenta's Lookback RNN heard (issue 26); the phrase lags (4 and 8 bars) come beside them.
LOOKBACK_BARS = 2
#: How far ahead `composer train --context` lets a model hear the given music (tokens/given.py):
#: the notes kept parts and a fill's suffix strike within this many beats of the current time.
GIVEN_AHEAD_BEATS = 1

# Hard limits, far above any preset, so that a hostile or damaged file cannot ask for terabytes.
MAX_VOCAB_SIZE = 65_536  # token ids are stored as uint16
MAX_WIDTH = 8192  # embedding and hidden units
MAX_LAYERS = 16
MAX_PARAMETERS = 400_000_000  # 1.6 GB in float32: far above "large" (24 M), far below harm
MAX_STYLES = 64  # styles a model tells apart (the bundled one: 6)
MAX_STYLE_NAME = 60  # characters
#: What a musician asks for to let the model choose (style row 0, which stays zero).
ANY_STYLE = "any"


@dataclass(frozen=True)
class ModelConfig:
    """Embedding -> multi-layer LSTM -> linear projection to next-token logits."""

    vocab_size: int  # token ids the model reads and predicts; fixed by the tokenizer config
    hidden_size: int = 256  # LSTM units per layer: its memory; cost grows with its square
    layers: int = 2  # stacked LSTM layers; 2-3 is where LSTM language models stop improving
    embedding_size: int = 256  # width of each token's learnt vector, fed to the first layer
    dropout: float = 0.1  # between layers and before the projection; more for small collections
    # Context inputs (tokens/lookback.py), added to each token's vector: where the music is in
    # the beat (this many grid steps a beat, the tokenizer's; 0: none, as every model before
    # them) and in a 4-beat bar, and the token that came next at the same moment 1 to
    # `lookback_bars` bars before (0: none).
    context_steps: int = 0
    lookback_bars: int = 0
    # The given music (tokens/given.py): what kept parts and a fill's suffix play now and within
    # this many grid steps ahead, and the beats left to a span's end (0: not heard), read beside
    # each token and added to the next-token logits as well.
    given_ahead_steps: int = 0
    # 1: the next-token logits of the tokens that came next 1 to `lookback_bars` bars before get
    # a bias the model computes from its state (Lookback RNN's "repeat the bar" made direct, so
    # that repeating costs no more than knowing what to repeat); 0: none.
    lookback_copy: int = 0
    # 1: the bar the context inputs count is the piece's own (its time signatures, in the cache
    # with its tokens: tokens/meter.py), its beats counted in quarter notes from the bar line in a
    # table of METER_BEATS rows; 0: 4-beat bars from each part's start (context models before it).
    meter: int = 0
    # 1: per lookback lag, how many tokens in a row have been the token that came next a bar
    # before (Lookback RNN's repeat flags: tokens/lookback.py), a learnt vector per count; 0: none.
    lookback_repeats: int = 0
    # 1: two more lookback lags, 4 and 8 bars (a phrase and a period: where the collections
    # repeat themselves most, measured in benchmarks/lookback.py); 0: 1 to lookback_bars only.
    lookback_phrases: int = 0
    # 1: moments placed in the piece, so that a fill's middle hears the bars before it and what
    # the music after it plays 1, 2 and 4 bars later (tokens/lookback.py); needs meter. 0: each
    # part of a fill-in layout looks back within itself.
    lookback_ahead: int = 0
    # Styles (training/styles.py): the names of the collections the model learnt to tell apart,
    # each a learnt vector added to every token's (row 0, any style, stays zero); () none.
    styles: tuple[str, ...] = ()
    # The style it plays in when none is asked: 0 any, i styles[i - 1] (a fine-tuned run's own
    # collection).
    default_style: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.styles, tuple):
            object.__setattr__(self, "styles", tuple(self.styles))
        checks = [
            (2 <= self.vocab_size <= MAX_VOCAB_SIZE, f"vocab_size must be 2 to {MAX_VOCAB_SIZE}"),
            (0 <= self.context_steps <= 480, "context_steps must be 0 to 480"),
            (0 <= self.lookback_bars <= 8, "lookback_bars must be 0 to 8"),
            (
                self.lookback_bars == 0 or self.context_steps > 0,
                "lookback needs context_steps (the grid it counts bars in)",
            ),
            (0 <= self.given_ahead_steps <= 8 * 480, "given_ahead_steps must be 0 to 3840"),
            (self.lookback_copy in (0, 1), "lookback_copy must be 0 or 1"),
            (self.meter in (0, 1), "meter must be 0 or 1"),
            (self.meter == 0 or self.context_steps > 0, "meter needs context_steps"),
            (self.lookback_repeats in (0, 1), "lookback_repeats must be 0 or 1"),
            (self.lookback_phrases in (0, 1), "lookback_phrases must be 0 or 1"),
            (self.lookback_ahead in (0, 1), "lookback_ahead must be 0 or 1"),
            (
                self.lookback_ahead == 0 or (self.meter and self.lookback_bars),
                "lookback_ahead needs meter and lookback_bars",
            ),
            (
                self.lookback_phrases == 0 or self.lookback_bars > 0,
                "lookback_phrases needs lookback_bars",
            ),
            (
                self.lookback_repeats == 0 or self.lookback_bars > 0,
                "lookback_repeats needs lookback_bars (the tokens it compares with)",
            ),
            (
                self.lookback_copy == 0 or self.lookback_bars > 0,
                "lookback_copy needs lookback_bars (the tokens it may repeat)",
            ),
            (
                self.given_ahead_steps == 0 or self.context_steps > 0,
                "hearing given music needs context_steps (the grid it counts time in)",
            ),
            (1 <= self.hidden_size <= MAX_WIDTH, f"hidden_size must be 1 to {MAX_WIDTH}"),
            (1 <= self.embedding_size <= MAX_WIDTH, f"embedding_size must be 1 to {MAX_WIDTH}"),
            (1 <= self.layers <= MAX_LAYERS, f"layers must be 1 to {MAX_LAYERS}"),
            (0.0 <= self.dropout < 1.0, "dropout must be at least 0 and below 1"),
            (len(self.styles) <= MAX_STYLES, f"a model tells at most {MAX_STYLES} styles apart"),
            (
                all(isinstance(n, str) and 0 < len(n) <= MAX_STYLE_NAME for n in self.styles),
                f"style names must be text of 1 to {MAX_STYLE_NAME} characters",
            ),
            (
                len({str(n).casefold() for n in self.styles} | {ANY_STYLE}) == len(self.styles) + 1,
                f"style names must differ from each other and from {ANY_STYLE!r}",
            ),
            (0 <= self.default_style <= len(self.styles), "default_style must name a style"),
        ]
        for ok, message in checks:
            if not ok:
                raise SettingsError(message)
        if self.parameter_count > MAX_PARAMETERS:
            raise SettingsError(
                f"the model would have {self.parameter_count:,} weights; Composer loads at most "
                f"{MAX_PARAMETERS:,}"
            )

    def tensor_shapes(self) -> dict[str, tuple[int, ...]]:
        """Name -> shape of every weight of MusicLSTM (state_dict names), from the config alone,
        so that a weights file can be checked before anything is allocated."""
        v, e, h = self.vocab_size, self.embedding_size, self.hidden_size
        shapes: dict[str, tuple[int, ...]] = {"embedding.weight": (v, e)}
        for layer in range(self.layers):
            width = e if layer == 0 else h
            shapes[f"lstm.weight_ih_l{layer}"] = (4 * h, width)
            shapes[f"lstm.weight_hh_l{layer}"] = (4 * h, h)
            shapes[f"lstm.bias_ih_l{layer}"] = (4 * h,)
            shapes[f"lstm.bias_hh_l{layer}"] = (4 * h,)
        shapes["head.weight"] = (v, h)
        shapes["head.bias"] = (v,)
        return shapes | self.context_shapes()

    def context_spec(self):
        """The ContextSpec (tokens/lookback.py) of this model's context inputs, or None."""
        if not self.context_steps:
            return None
        from composer.core.tokens.lookback import ContextSpec  # numpy: not for --help

        return ContextSpec(
            self.lookback_bars,
            BEATS_PER_BAR,
            meter=bool(self.meter),
            repeats=bool(self.lookback_repeats),
            phrases=bool(self.lookback_phrases),
            ahead=bool(self.lookback_ahead),
        )

    @property
    def lookback_lags(self) -> int:
        """How many lookback lags the model reads (ContextSpec.bars)."""
        from composer.core.tokens.lookback import AHEAD_BARS, PHRASE_BARS  # numpy: not for --help

        phrases = len(PHRASE_BARS) * self.lookback_phrases
        return self.lookback_bars + phrases + len(AHEAD_BARS) * self.lookback_ahead

    def hearing_context(self, steps_per_beat: int) -> ModelConfig:
        """This model with context inputs (`composer train --context`): the tokenizer's grid
        `steps_per_beat`, bars of the music's own meter, lookback LOOKBACK_BARS bars and a
        phrase and a period back with the repeat flags, a fill's middle hearing the bars around
        it, and the given music GIVEN_AHEAD_BEATS ahead. What a model has already it keeps and
        gains what it lacks (a model with context inputs made before the phrases gains them;
        one that counts 4/4 bars keeps counting them, as it learnt, and cannot look ahead)."""
        if not self.context_steps:
            self = replace(self, context_steps=steps_per_beat, lookback_bars=LOOKBACK_BARS, meter=1)
        if not self.given_ahead_steps:
            self = replace(self, given_ahead_steps=GIVEN_AHEAD_BEATS * self.context_steps)
        lags = int(self.lookback_bars > 0)  # a hand-made config may have context but no lookback
        return replace(
            self,
            lookback_repeats=lags,
            lookback_phrases=lags,
            lookback_ahead=lags * self.meter,
        )

    @property
    def hears_given(self) -> bool:
        """Whether the model reads the given music (tokens/given.py)."""
        return self.given_ahead_steps > 0

    def context_shapes(self) -> dict[str, tuple[int, ...]]:
        """Name -> shape of the context inputs' tables (none for a model without them): one row
        per step of the beat, per beat of the bar, per lookback lag one per token id plus one for
        "no moment then" (the last row) and with the repeat flags one per run length; the given
        music's two projections; the copy bias's; one per style plus any style (row 0)."""
        e = self.embedding_size
        styles = {"style.weight": (len(self.styles) + 1, e)} if self.styles else {}
        if not self.context_steps:
            return styles
        shapes = styles | {
            "context_step.weight": (self.context_steps, e),
            "context_beat.weight": (self.context_spec().beat_rows, e),
        }
        for lag in range(self.lookback_lags):
            shapes[f"lookback.{lag}.weight"] = (self.vocab_size + 1, e)
        if self.lookback_repeats:
            from composer.core.tokens.lookback import REPEAT_ROWS  # numpy: not for --help

            for lag in range(self.lookback_lags):
                shapes[f"repeat.{lag}.weight"] = (REPEAT_ROWS, e)
        if self.given_ahead_steps:
            from composer.core.tokens.given import GIVEN_WIDTH  # numpy: not for --help

            shapes["given.weight"] = (e, GIVEN_WIDTH)
            shapes["given_out.weight"] = (self.vocab_size, GIVEN_WIDTH)
        if self.lookback_copy:
            shapes["copy.weight"] = (self.lookback_lags, self.hidden_size)
            shapes["copy.bias"] = (self.lookback_lags,)
        return shapes

    @property
    def parameter_count(self) -> int:
        """Number of weights, computed from the shape alone (nothing is allocated)."""
        v, e, h, n = self.vocab_size, self.embedding_size, self.hidden_size, self.layers
        lstm = 4 * h * (e + h + 2) + (n - 1) * 4 * h * (h + h + 2)
        context = sum(math.prod(shape) for shape in self.context_shapes().values())
        return v * e + lstm + h * v + v + context

    def style_index(self, name: str | None) -> int:
        """The style row for `name` (case-insensitive; "any": 0; None: the default style).
        SettingsError with one sentence listing the styles for a name the model does not know."""
        if name is None:
            return self.default_style
        wanted = name.strip().casefold()
        if wanted == ANY_STYLE:
            return 0
        folded = [s.casefold() for s in self.styles]
        if wanted in folded:
            return folded.index(wanted) + 1
        if not self.styles:
            raise SettingsError(
                f"this model knows no styles, so it cannot play {name!r}; leave the style out"
            )
        import difflib

        close = difflib.get_close_matches(wanted, folded, n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(repr(self.styles[folded.index(c)]) for c in close)}?)"
        raise SettingsError(
            f"this model knows no style {name!r}{hint if close else ''}; it knows "
            f"{', '.join(self.styles)} and {ANY_STYLE}"
        )

    def style_name(self, index: int) -> str:
        """The name of style row `index` (0: "any")."""
        return self.styles[index - 1] if index else ANY_STYLE

    def to_dict(self) -> dict:
        data = asdict(self)
        # Settings at their default are left out, so that a model without them is written as
        # before they existed, and a Composer from before reads it.
        for name in ("meter", "lookback_repeats", "lookback_phrases", "lookback_ahead"):
            if not data[name]:
                del data[name]
        if not self.styles:
            del data["styles"], data["default_style"]
        else:
            data["styles"] = list(self.styles)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        """Build from JSON data, refusing unknown keys and values of the wrong type."""
        if not isinstance(data, dict):
            raise SettingsError("the model config must be a JSON object")
        known = {f.name: f.type for f in fields(cls)}
        unknown = set(data) - set(known)
        if unknown:
            raise SettingsError(f"unknown model settings: {', '.join(sorted(unknown))}")
        for name, value in data.items():
            if name == "styles":
                if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
                    raise SettingsError("model setting styles must be a list of names")
                continue
            number_types = (int, float) if name == "dropout" else (int,)
            if isinstance(value, bool) or not isinstance(value, number_types):
                raise SettingsError(f"model setting {name} must be a number, not {value!r}")
        return cls(**data)  # __post_init__ makes styles a tuple


#: Sizes a musician can pick without knowing the maths. Parameters at the default vocabulary:
#: small about 1.3 M, medium about 6.5 M, large about 24 M.
PRESETS: dict[str, dict] = {
    "small": {"layers": 2, "hidden_size": 256, "embedding_size": 256, "dropout": 0.1},
    "medium": {"layers": 3, "hidden_size": 512, "embedding_size": 384, "dropout": 0.2},
    "large": {"layers": 3, "hidden_size": 1024, "embedding_size": 512, "dropout": 0.3},
}
PRESET_HELP = {
    "small": "2 x 256, trains on a laptop CPU in minutes, for a few hundred files",
    "medium": "3 x 512, for a GPU or a patient CPU and thousands of files",
    "large": "3 x 1024, for a GPU and a large collection (it over-fits small ones)",
}


def preset(name: str, vocab_size: int, **overrides) -> ModelConfig:
    """The named preset for a vocabulary, with any field overridden (None values are ignored)."""
    if name not in PRESETS:
        raise SettingsError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    config = ModelConfig(vocab_size=vocab_size, **PRESETS[name])
    return replace(config, **{k: v for k, v in overrides.items() if v is not None})
