"""Starting a run from trained weights instead of an empty model: fine-tuning a model (a run, a
checkpoint or a model file) on another collection.

The run records where it started (`run.json`'s "from"); the Trainer loads those weights when it
builds a new run's model, and a resumed run continues from its own checkpoints. The model's
size, and the vocabulary it reads, come from the weights: a collection tokenised with another
vocabulary cannot be fine-tuned on, and says so in one sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from composer.core.model import ModelConfig
from composer.core.tokens.config import TokenizerConfig
from composer.core.tokens.vocab import Vocabulary
from composer.core.training.config import FINE_TUNING  # noqa: F401 (its old home)
from composer.core.training.progress import TrainingError

#: The largest weight (in absolute value) a run may start from. Trained weights stay small: the
#: bundled model's largest is 6.1, and weight decay and gradient clipping keep any run near that;
#: weights scaled far beyond it trained into losses of 1e30 nats (the summary overflowed), and
#: ones that large come from a damaged or hand-made file, not from training.
MAX_START_WEIGHT = 1e4


@dataclass(frozen=True)
class StartFrom:
    path: Path  # the checkpoint or model JSON the weights are read from
    name: str  # how to call it: run name and step, or the model's name
    model: ModelConfig
    tokenizer: TokenizerConfig
    vocab: Vocabulary
    # The weights as read: the run is built from these, not from the file again, which a run
    # still training may have pruned since (it keeps only its latest and best checkpoints).
    weights: dict[str, torch.Tensor] | None = field(default=None, compare=False, repr=False)

    def record(self) -> dict:
        """What run.json keeps of it."""
        return {"model": str(self.path), "name": self.name}


def read_start(source: str | Path) -> StartFrom:
    """The weights at `source` (a run folder, a checkpoint or model .json or .safetensors),
    checked as for generation. TrainingError with one sentence when they cannot be used."""
    from composer.core.generation.loading import ModelFileError, load_model

    try:
        try:
            loaded = load_model(source)
        except (ModelFileError, FileNotFoundError):
            if not Path(source).is_dir():
                raise
            # A run being trained may have pruned the checkpoint its run.json named a moment
            # before: run.json names the newer one now. A lasting problem says itself again.
            loaded = load_model(source)
    except ModelFileError as exc:
        raise TrainingError(str(exc)) from None  # it names the file and the fix
    except FileNotFoundError as exc:  # deleted between two looks at it
        raise TrainingError(
            f"{exc.filename} was deleted while it was read; check the path and try again"
        ) from None
    biggest = max(float(w.detach().abs().max()) for w in loaded.model.parameters())
    if biggest > MAX_START_WEIGHT:  # NaN and infinity are refused by load_model
        raise TrainingError(
            f"{loaded.source.resolve()} holds weights too large to train from (up to "
            f"{biggest:.3g}, where trained ones stay below {MAX_START_WEIGHT:g}); it is damaged "
            "or was not made by training: start from another model or an empty one"
        )
    return StartFrom(
        loaded.source.resolve(),
        loaded.name,
        loaded.config,
        loaded.vocab.config,
        loaded.vocab,
        weights=loaded.model.state_dict(),
    )


def reading(start: StartFrom, vocab: Vocabulary) -> StartFrom:
    """The start, reading the collection's vocabulary `vocab`: the same as its own, or its own
    with the fill-in marks added (a model made before them learns to fill in: its embedding and
    output gain rows for the marks, load_weights keeps every other row). TrainingError with one
    sentence when the collection's token ids mean something else than the weights' do."""
    if start.vocab.to_json_dict() == vocab.to_json_dict():
        return start
    if not start.tokenizer.infill and replace(start.tokenizer, infill=True) == vocab.config:
        model = replace(start.model, vocab_size=len(vocab))
        return replace(start, model=model, tokenizer=vocab.config, vocab=vocab)
    check_vocabulary(start, vocab)
    return start


def check_vocabulary(start: StartFrom, vocab: Vocabulary) -> None:
    """Refuse a collection whose token ids mean something else than the weights' do."""
    if start.vocab.to_json_dict() != vocab.to_json_dict():
        raise TrainingError(
            f"{start.path} reads a different vocabulary ({len(start.vocab)} tokens) from the one "
            f"this collection was read with ({len(vocab)} tokens); read the collection with that "
            "model's tokenizer, or train from an empty model"
        )


def hearing_context(start: StartFrom, steps_per_beat: int) -> StartFrom:
    """The start, its model with context inputs (`composer train --from M --context`): the
    tables are new and start at zero (MusicLSTM's own start), so the first step plays exactly
    as the weights did; load_weights leaves them out of what it loads."""
    return replace(start, model=start.model.hearing_context(steps_per_beat))


def load_weights(model, record: dict, weights: dict[str, torch.Tensor] | None = None) -> None:
    """Put the weights a run started from (`weights`, as read_start read them, or else read
    again from its run.json "from" `record`) into `model` (a MusicLSTM of the same config, or
    with more token ids: see `reading`, or with context inputs the weights lack: see
    `hearing_context`)."""
    from composer.core.generation.loading import ModelFileError, load_model

    if weights is None:
        try:
            weights = load_model(record["model"]).model.state_dict()
        except ModelFileError as exc:
            raise TrainingError(str(exc)) from None
    weights = dict(weights)
    for name, own in model.state_dict().items():  # rows for the ids the start did not have
        given = weights.get(name)
        grows = given is not None and given.ndim and given.shape[1:] == own.shape[1:]
        if not grows or given.shape[0] >= own.shape[0]:
            continue
        part = name.split(".")[0]
        if part in ("embedding", "head", "style"):  # style: a run's own collection
            weights[name] = torch.cat([given, own[given.shape[0] :]])
        elif part == "lookback":  # its last row is "nothing then": it stays last
            weights[name] = torch.cat([given[:-1], own[given.shape[0] - 1 : -1], given[-1:]])
        elif part == "copy":  # one row per lag: the phrase lags come after the lags it had
            weights[name] = torch.cat([given, own[given.shape[0] :]])
    wrong_size = TrainingError(
        f"{record['model']} is not the size of the model this run trains; start a new run from it"
    )
    try:
        # Context tables the weights lack stay as MusicLSTM made them: zero.
        missing, unexpected = model.load_state_dict(weights, strict=False)
    except RuntimeError:
        raise wrong_size from None
    if unexpected or not set(missing) <= set(model.config.context_shapes()):
        raise wrong_size
