"""A run's manifest (its run.json) as a typed, frozen record.

`RunInfo.from_json` checks what it is given as `checkpoint.read_run` does (CheckpointError with one
sentence naming the file) and `to_json` gives back exactly the run.json layout: a file read and
written again is the same, byte for byte, for runs made before "id" and "from" were recorded too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from composer.core.training import checkpoint as ckpt

#: The keys of run.json in the order Composer writes them.
_KEYS = (
    "format",
    "version",
    "id",
    "created",
    "composer",
    "folder",
    "latest",
    "best",
    "best_val_loss",
    "step",
    "from",
    "model",
    "tokenizer",
    "vocabulary",
    "training",
    "data",
    "styles",
)

Files = tuple[tuple[str, str], ...]  # (key in the collection, path) per MIDI file


@dataclass(frozen=True)
class StartedFrom:
    """The weights a fine-tuning run started from (run.json "from")."""

    model: str  # the checkpoint or model JSON they were read from
    name: str

    def to_json(self) -> dict:
        return {"model": self.model, "name": self.name}


@dataclass(frozen=True)
class RunInfo:
    folder: str  # the MIDI folder trained on (absolute)
    model: dict  # ModelConfig.to_dict()
    tokenizer: dict  # TokenizerConfig as JSON
    vocabulary: list  # the vocabulary's tokens
    training: dict  # TrainConfig.to_dict()
    train: Files = ()
    validation: Files = ()
    id: str | None = None  # None in runs made before it was recorded
    created: str | None = None
    composer: str | None = None  # the Composer version that made the run
    latest: str | None = None  # "checkpoints/step-NNNNNNNN.json", relative to the run folder
    best: str | None = None
    best_val_loss: float | None = None
    step: int = 0
    started_from: StartedFrom | None = None
    version: int = ckpt.FORMAT_VERSION
    # The style of each file by content hash (training/styles.py), for a model with styles
    styles: dict[str, str] | None = None
    extra: dict = field(default_factory=dict)  # keys this Composer does not know, kept as they are
    #: The keys of the file it was read from, in their order (None: Composer's own layout).
    layout: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_json(cls, run: Any, path: Path | str) -> RunInfo:
        """The run in `run` (the object in run.json at `path`), checked; CheckpointError naming
        the file when something a run needs is missing or of the wrong type."""
        if not isinstance(run, dict) or run.get("format") != ckpt.RUN_FORMAT:
            raise ckpt.CheckpointError(f"{path} is not a Composer training run")
        ckpt.check_run(run, Path(path))
        started = run.get("from")
        data = run["data"]
        styles = run.get("styles")
        if styles is not None and not (
            isinstance(styles, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in styles.items())
        ):
            raise ckpt.CheckpointError(
                f"{path} holds styles that are not file -> style names; the run is damaged: "
                "start a new one"
            )
        return cls(
            folder=run["folder"],
            model=run["model"],
            tokenizer=run["tokenizer"],
            vocabulary=run["vocabulary"],
            training=run["training"],
            train=tuple((s, p) for s, p in data["train"]),
            validation=tuple((s, p) for s, p in data["validation"]),
            id=run.get("id"),
            created=run.get("created"),
            composer=run.get("composer"),
            latest=run.get("latest"),
            best=run.get("best"),
            best_val_loss=run.get("best_val_loss"),
            step=run.get("step", 0),
            started_from=StartedFrom(started["model"], started["name"]) if started else None,
            version=run.get("version", ckpt.FORMAT_VERSION),
            styles=styles,
            extra={k: v for k, v in run.items() if k not in _KEYS},
            layout=tuple(run),
        )

    def to_json(self) -> dict:
        """The run.json object: Composer's layout, or the one it was read from."""
        values = {
            "format": ckpt.RUN_FORMAT,
            "version": self.version,
            "id": self.id,
            "created": self.created,
            "composer": self.composer,
            "folder": self.folder,
            "latest": self.latest,
            "best": self.best,
            "best_val_loss": self.best_val_loss,
            "step": self.step,
            "from": self.started_from.to_json() if self.started_from else None,
            "model": self.model,
            "tokenizer": self.tokenizer,
            "vocabulary": self.vocabulary,
            "training": self.training,
            "data": {
                "train": [list(f) for f in self.train],
                "validation": [list(f) for f in self.validation],
            },
            **({"styles": self.styles} if self.styles is not None else {}),
            **self.extra,
        }
        if self.layout is None:
            return values
        kept = {k: values[k] for k in self.layout if k in values}
        # a key the file lacked is written only once it holds something
        return kept | {k: v for k, v in values.items() if k not in kept and v is not None}

    @property
    def data_files(self) -> Files:
        """Every file of the run: the training files, then the validation files."""
        return self.train + self.validation


def read_run_info(run_dir: Path | str) -> RunInfo:
    """The run.json in `run_dir`, checked (see checkpoint.read_run)."""
    path = Path(run_dir) / "run.json"
    return RunInfo.from_json(ckpt.read_run(run_dir), path)
