"""`evaluate`: everything a musician needs to trust a model, as one JSON-ready dict.

For a run folder, the held-out files are the run's own validation split and the n-gram baseline and
copy detection use its training split; with a folder given, its files are evaluated instead (and, for
a run, the baseline and copy detection still use the run's training files).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from composer.core.evaluation.copying import TrainingNotes, longest_copy, note_sequence
from composer.core.evaluation.fill_in import fill_in_report
from composer.core.evaluation.likelihood import likelihood_report, nll_figures
from composer.core.evaluation.ngram import KneserNey
from composer.core.evaluation.stats import compare_sets, piece_features
from composer.core.generation.settings import (
    EVALUATION_SAMPLES,
    EVALUATION_SECONDS,
    EVALUATION_SEED,
)
from composer.core.tokens.fill_in import has_fill_in
from composer.core.tokens.meter import Placement

if TYPE_CHECKING:
    from composer.core.training.run_info import RunInfo

NGRAM_ORDER = 5
COPY_WARNING_NOTES = 16  # a run this long, note for note, is no longer a coincidence


class EvaluationError(Exception):
    """Evaluation cannot run; the message says why and what to do."""


def evaluate(
    model_source: str | Path,
    folder: str | Path | None,
    cache_root: str | Path,
    *,
    samples: int = EVALUATION_SAMPLES,
    seconds: float = EVALUATION_SECONDS,
    seed: int = EVALUATION_SEED,
    on_step: Callable[[str], None] | None = None,
) -> dict:
    from composer.core.corpus import TokenCache, ingest
    from composer.core.generation import Sampler, SamplingSettings, load_model
    from composer.core.tokens import decode

    step = on_step or (lambda text: None)
    # Checked first (seed, length, count), before minutes of reading and scoring.
    sampling = SamplingSettings(seconds=seconds, variations=samples, seed=seed)
    loaded = load_model(model_source)
    vocab, tokenizer = loaded.vocab, loaded.vocab.config
    run = _run_of(Path(model_source))

    def pieces_of(source_folder, shas=None):
        report = ingest(source_folder, cache_root, tokenizer, jobs=0 if shas is not None else None)
        # Opened after this folder's ingest: a cache read before it does not know its new packs.
        cache = TokenCache(cache_root, tokenizer)
        entries = {e.sha: e.path for e in report.entries}
        chosen = shas if shas is not None else list(entries)
        missing = [s for s in chosen if s not in entries]
        if missing:
            raise EvaluationError(
                f"{len(missing)} file(s) of the run are gone from {source_folder}; evaluate on a folder instead"
            )
        return [(entries[s], np.asarray(cache.tokens(s)), cache.meter(s)) for s in chosen]

    step("Reading the files…")
    training = pieces_of(run.folder, [s for s, _ in run.train]) if run else []
    if folder is not None:
        held_out, described = pieces_of(folder), str(folder)
    elif run:
        held_out, described = (
            pieces_of(run.folder, [s for s, _ in run.validation]),
            "the run's validation files",
        )
    else:
        raise EvaluationError(
            "a model file has no validation split of its own; give a folder of MIDI files to evaluate on"
        )
    if not held_out:
        raise EvaluationError("there are no usable MIDI files to evaluate on")
    held_tokens = [t for _, t, _ in held_out]
    meters = [m for _, _, m in held_out]

    step("Scoring the held-out files…")
    result: dict = {"model": loaded.name, "evaluated_on": described, "files": len(held_out)}
    result["lstm"] = likelihood_report(
        loaded.model, held_tokens, vocab=vocab, seed=seed, meters=meters
    )
    result["start_from"] = _start_from_report(
        run, held_tokens, result["lstm"]["nats"], step, meters
    )
    if has_fill_in(vocab):
        step("Scoring spans filled in…")
    result["fill_in"] = fill_in_report(loaded.model, vocab, held_tokens, seed=seed, meters=meters)
    if training:
        step("Training the n-gram baseline…")
        baseline = KneserNey(NGRAM_ORDER, len(vocab)).fit([t for _, t, _ in training])
        ngram = baseline.nll(held_tokens)
        result["ngram"] = {"order": NGRAM_ORDER, **nll_figures(ngram)}
        gain = ngram - result["lstm"]["nats"]
        result["lstm_vs_ngram"] = {
            "nats_better": round(gain, 4),
            "relative": round(gain / ngram, 4),
        }
    else:
        result["ngram"] = result["lstm_vs_ngram"] = None

    step(f"Generating {samples} pieces…")
    sampler = Sampler(loaded, sampling)
    for _ in sampler.run():
        pass
    generated = sampler.pieces()
    step("Comparing music…")
    reference = [decode(t, vocab) for t in held_tokens]
    result["samples"] = samples
    result["statistics"] = compare_sets(reference, generated)

    against = training or held_out
    sequences = TrainingNotes({path: note_sequence(decode(t, vocab)) for path, t, _ in against})
    copies = [longest_copy(g, sequences) for g in generated]
    worst = max(range(len(copies)), key=lambda i: copies[i].notes) if copies else 0
    result["copying"] = {
        "longest": copies[worst].notes if copies else 0,
        "of": copies[worst].of if copies else 0,
        "file": copies[worst].file if copies else "",
        "variation": worst + 1,
        "searched": "training files" if training else "the evaluated files",
        "per_variation": [c.notes for c in copies],
    }
    result["warnings"] = _warnings(result, generated)
    return result


def _start_from_report(run, held_tokens, nats: float, step, meters=None) -> dict | None:
    """For a fine-tuned run: the model it started from, scored on the same files (in their
    `meters`), so that the musician sees what the fine-tuning bought. None for a run trained
    from an empty model."""
    from composer.core.evaluation.likelihood import token_nll
    from composer.core.generation import ModelFileError, load_model

    start = run.started_from if run else None
    if start is None:
        return None
    step("Scoring the model it started from…")
    try:
        base = load_model(start.model)
    except ModelFileError as exc:
        return {"model": start.name, "missing": str(exc)}
    if base.vocab.to_json_dict() != _vocab_of(run):
        return {"model": base.name, "missing": f"{start.model} now reads another vocabulary"}
    places = [Placement(m) for m in meters] if meters else [None] * len(held_tokens)
    before = float(
        np.concatenate(
            [
                token_nll(base.model, t, base.vocab, placement=at)
                for t, at in zip(held_tokens, places)
            ]
        ).mean()
    )
    return {
        "model": base.name,
        **nll_figures(before),
        "nats_gained": round(before - nats, 4),
        "relative": round((before - nats) / before, 4) if before > 0 else 0.0,
    }


def _vocab_of(run: RunInfo) -> dict:
    from composer.core.tokens import TokenizerConfig, Vocabulary

    return Vocabulary(TokenizerConfig.from_json(run.tokenizer)).to_json_dict()


def _run_of(path: Path) -> RunInfo | None:
    from composer.core.training.checkpoint import CheckpointError
    from composer.core.training.run_info import read_run_info

    folder = (
        path if path.is_dir() else path.parent.parent if path.parent.name == "checkpoints" else None
    )
    if folder is None or not (folder / "run.json").exists():
        return None
    try:
        return read_run_info(folder)
    except CheckpointError:
        return None


def _warnings(result: dict, generated) -> list[str]:
    """Plain words for what a musician should know."""
    out = []
    copy = result["copying"]
    if copy["longest"] >= COPY_WARNING_NOTES:
        out.append(
            f"The model copies: variation {copy['variation']} has {copy['longest']} notes in a row "
            f"taken from {Path(copy['file']).name}. Train on more files, or stop training earlier."
        )
    for i, piece in enumerate(generated, 1):
        features = piece_features(piece)
        pitches = np.concatenate(
            [t.notes["pitch"] for t in piece.tracks if not t.is_drum] or [np.zeros(0)]
        )
        top = np.bincount(pitches.astype(int)).max() / len(pitches) if len(pitches) else 1.0
        if len(pitches) < 4 or top > 0.5 or features["pitch_class_entropy"] < 1.0:
            out.append(
                f"Variation {i} collapses onto one note or almost none; the model needs more "
                "training, or try a higher temperature."
            )
            break
    vs = result.get("lstm_vs_ngram")
    if vs is not None and vs["nats_better"] <= 0:
        out.append("The LSTM does no better than a 5-gram model; train it longer or on more music.")
    return out


#: The music statistics in a musician's words (stats.py's names are for code).
FEATURE_WORDS = {
    "pitch_class_histogram": "notes of the scale used",
    "pitch_class_entropy": "variety of notes",
    "pitch_range": "range (semitones)",
    "polyphony": "notes at once",
    "note_density": "notes per beat",
    "scale_consistency": "notes in one scale",
    "empty_beat_rate": "silent beats",
    "ioi_histogram": "time between onsets",
}


def format_report(result: dict) -> str:
    """The report as a readable table."""
    lstm, ngram = result["lstm"], result["ngram"]
    lines = [
        f"Model {result['model']}, evaluated on {result['evaluated_on']} ({result['files']} files, {lstm['tokens']:,} tokens)",
        "",
        "How surprised the model is by each next event of these files (lower is better; "
        "nats and bits are two units of it, perplexity the number of equally likely choices):",
        f"{'':28} {'nats/token':>10} {'bits/token':>10} {'perplexity':>10}",
        f"{'LSTM':28} {lstm['nats']:10.3f} {lstm['bits']:10.3f} {lstm['perplexity']:10.2f}",
    ]
    if ngram:
        lines.append(
            f"{str(ngram['order']) + '-gram (Kneser-Ney)':28} {ngram['nats']:10.3f} {ngram['bits']:10.3f} {ngram['perplexity']:10.2f}"
        )
        vs = result["lstm_vs_ngram"]
        better = "better" if vs["nats_better"] >= 0 else "worse"
        lines.append(
            f"The LSTM is {abs(vs['nats_better']):.3f} nats per token ({abs(vs['relative']):.0%}) {better} than the n-gram."
        )
    start = result.get("start_from")
    if start and "missing" in start:
        lines.append(
            f"It was fine-tuned from {start['model']}, which cannot be read now: {start['missing']}."
        )
    elif start:
        lines.append(
            f"Before fine-tuning, {start['model']} scored {start['nats']:.3f} nats per token on "
            f"these files: fine-tuning gained {start['nats_gained']:.3f} ({start['relative']:.0%})."
        )
    fill = result.get("fill_in")
    if fill:
        lines.append(
            f"Rewriting {fill['spans']} passages as Regenerate selection does: "
            f"{fill['both_sides_nats']:.3f} nats per token hearing the music on both sides, "
            f"{fill['left_side_nats']:.3f} hearing only the music before: the music after "
            f"helps by {fill['relative']:.0%}."
        )
    lines.append(
        f"Memory: at {lstm['positions']:,} positions, {lstm['full_context_at_positions']:.3f} nats with the whole "
        f"piece before, {lstm['short_context_at_positions']:.3f} with only the last {lstm['context']} tokens."
    )
    lines += [
        "",
        f"{result['samples']} generated pieces against the evaluated files (overlap: 1 = alike, 0 = unlike):",
    ]
    lines.append(f"{'':24} {'files':>10} {'generated':>10} {'overlap':>8}")
    for name, figures in result["statistics"].items():
        said = FEATURE_WORDS.get(name, name.replace("_", " "))
        if isinstance(figures["reference"], list):
            lines.append(f"{said:24} {'(chart above)':>10} {'':>10} {_overlap(figures):>8}")
        else:
            lines.append(
                f"{said:24} {figures['reference']:10.3f} {figures['generated']:10.3f} {_overlap(figures):>8}"
            )
    copy = result["copying"]
    lines += [
        "",
        f"Longest run copied from the {copy['searched']}: {copy['longest']} notes of {copy['of']}"
        + (
            f" (variation {copy['variation']}, from {Path(copy['file']).name})"
            if copy["longest"]
            else ""
        ),
    ]
    for warning in result["warnings"]:
        lines.append(f"Warning: {warning}")
    return "\n".join(lines)


def _overlap(figures: dict) -> str:
    return "n/a" if figures["overlap"] is None else f"{figures['overlap']:.2f}"
