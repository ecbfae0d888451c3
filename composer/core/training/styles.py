"""Styles: which collection a piece comes from, as one more input (issue 26).

A model with styles adds one learnt vector to every token's, the style's row of a table that starts
at zero (MusicLSTM.style): row 0, *any style*, stays zero. Training tells the model each training
piece's style, except for STYLE_DROPOUT of the pieces in each epoch, which it reads as any style,
so that generation may ask for a style or let the model choose.

Where a file's style comes from is `TrainConfig.styles` (`composer train --styles`):
- "folders": each first-level folder of the collection is a style of its own name;
- "folder=style,...": the named first-level folders' styles (several folders may share one: the
  base corpus's two fiddle collections);
- "" (the default): no styles, except for a run started from a model that has them: its own
  collection is then one more style, named after the collection's folder, and the style its
  music plays in when none is asked (ModelConfig.default_style), so a fine-tuned run plays in its
  own collection's style.
A file in no named folder reads as any style (row 0). Each file's style is worked out once, when
the run starts, and kept in run.json ("styles": content hash -> name), so that a resumed run reads
the same wherever it is resumed from. Starting from a model with styles keeps its
rows and names; new names add rows at zero (start_from.load_weights).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path, PurePath

import numpy as np

from composer.core.errors import SettingsError
from composer.core.model.config import ANY_STYLE, MAX_STYLE_NAME, ModelConfig

#: The share of training pieces read as any style in each epoch (drawn per epoch from the seed),
#: so that the model also plays when asked for no style.
STYLE_DROPOUT = 0.2
#: `--styles` that makes each first-level folder a style.
FOLDERS = "folders"


def parse_styles(text: str) -> dict[str, str] | str | None:
    """The meaning of a `--styles` value: None (no styles), FOLDERS, or {folder: style name}.
    SettingsError with one sentence for a value that is none of them."""
    text = text.strip()
    if not text:
        return None
    if text == FOLDERS:
        return FOLDERS
    mapping: dict[str, str] = {}
    for item in text.split(","):
        folder, equals, style = (part.strip() for part in item.partition("="))
        if not equals or not folder or not style:
            raise SettingsError(
                f"styles are {FOLDERS!r} or folder=style pairs separated by commas "
                f"(pop909=pop,nottingham=folk), not {item.strip()!r}"
            )
        if len(style) > MAX_STYLE_NAME or style.casefold() == ANY_STYLE:
            raise SettingsError(
                f"the style name {style!r} must be 1 to {MAX_STYLE_NAME} characters and not "
                f"{ANY_STYLE!r}"
            )
        mapping[folder] = style
    return mapping


def first_folder(path: str, folder: str) -> str | None:
    """The first-level folder of the collection `folder` that holds `path` (both as the
    collection's ingest gave them: the path is the folder joined with the file's place in it);
    None for a file directly in it."""
    try:
        parts = PurePath(path).relative_to(folder).parts
    except ValueError:  # not written below it: compare where both lead
        try:
            parts = Path(path).resolve().relative_to(Path(folder).resolve()).parts
        except (ValueError, OSError):
            return None
    return parts[0] if len(parts) > 1 else None


def own_style_name(folder: str) -> str:
    """The style name of a fine-tuned run's own collection: its folder's name."""
    name = Path(folder).resolve().name.strip() or "my collection"
    if name.casefold() == ANY_STYLE:
        name = f"{name} (collection)"
    return name[:MAX_STYLE_NAME]


def styled_model(
    model: ModelConfig, spec: str, folder: str, files: dict[str, str]
) -> tuple[ModelConfig, dict[str, str] | None]:
    """The model a new run trains and the style of each of its files (content hash -> style
    name; run.json keeps it, so that a resumed run reads the same), given its styles `spec`
    (TrainConfig.styles), its collection `folder` and `files` (hash -> path), both as ingest
    gave them. The model gains the style names the files bring that it lacks (after those it
    has, which keep their rows), and, started from a model with styles with none named, its
    collection's own as the default. (model, None) for a run without styles."""
    wanted = parse_styles(spec)
    if wanted is None:
        if not model.styles:
            return model, None
        own = own_style_name(folder)
        names = _with_names(model.styles, [own])
        index = [n.casefold() for n in names].index(own.casefold()) + 1
        return replace(model, styles=names, default_style=index), {s: own for s in files}
    found = {sha: _style_of(path, folder, wanted) for sha, path in files.items()}
    named = {sha: name for sha, name in found.items() if name}
    model = replace(model, styles=_with_names(model.styles, sorted(set(named.values()))))
    return model, named


def file_styles(model: ModelConfig, names: dict[str, str] | None, files) -> np.ndarray:
    """The style row of each file (int64, one per file) for a run training `model` (with its
    styles chosen by styled_model), from the style names run.json keeps per content hash
    (`names`); files: (hash, path) pairs as run.json keeps them. A file without a name reads as
    the model's default style; zeros for a model without styles."""
    if not model.styles:
        return np.zeros(len(files), np.int64)
    rows = {name.casefold(): i + 1 for i, name in enumerate(model.styles)}
    names = names or {}
    return np.array(
        [rows.get(names[sha].casefold(), 0) if sha in names else model.default_style
         for sha, _ in files],
        np.int64,
    )  # fmt: skip


def _style_of(path: str, folder: str, wanted: dict[str, str] | str) -> str | None:
    first = first_folder(path, folder)
    if first is None:
        return None
    return first[:MAX_STYLE_NAME] if wanted == FOLDERS else wanted.get(first)


def _with_names(names: tuple[str, ...], more: list[str]) -> tuple[str, ...]:
    """`names` and then those of `more` not among them (case-insensitive)."""
    known = {n.casefold() for n in names}
    added = []
    for name in more:
        if name.casefold() not in known:
            known.add(name.casefold())
            added.append(name)
    return names + tuple(added)


class StyleDropout:
    """Which pieces read as any style in each epoch: STYLE_DROPOUT of them, drawn from the seed
    and the epoch (resumable), remembered while lanes still read that epoch."""

    def __init__(self, styles: np.ndarray, seed: int):
        self.styles, self.seed = styles, seed
        self._drawn: dict[int, np.ndarray] = {}

    def lanes(self, pieces: np.ndarray, epochs: np.ndarray) -> np.ndarray:
        """The style row each lane reads (lanes,) int64: its piece's, or 0 (idle, dropped)."""
        out = np.zeros(len(pieces), np.int64)
        for epoch in np.unique(epochs).tolist():
            if epoch not in self._drawn:
                rng = np.random.default_rng([self.seed, epoch, 4])
                self._drawn[epoch] = rng.random(len(self.styles)) >= STYLE_DROPOUT
        for old in [e for e in self._drawn if e < epochs.min()]:
            del self._drawn[old]
        for lane, (piece, epoch) in enumerate(zip(pieces.tolist(), epochs.tolist())):
            if piece >= 0 and self._drawn[epoch][piece]:
                out[lane] = self.styles[piece]
        return out
