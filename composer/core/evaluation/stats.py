"""Musical statistics of a piece, and how alike two sets of pieces are (Yang & Lerch, 2018).

Each statistic is computed per piece from its pitched notes (drums have no pitch class). Comparing
a generated set with a reference set follows Yang and Lerch's "On the evaluation of generative
models in music" (Neural Computing and Applications, 2018): for each feature, the distances between
pieces within the reference set and between the two sets are gathered, smoothed with a Gaussian
kernel density estimate, and the area where the two densities overlap is reported, from 0 (nothing
alike) to 1 (indistinguishable).
"""

from __future__ import annotations

import numpy as np

from composer.core.midi.piece import Piece

MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])
MINOR = np.array([0, 2, 3, 5, 7, 8, 10])  # natural minor
#: Inter-onset-interval bins, in beats: 1/12 (a triplet sixteenth) up to 4 and more.
IOI_EDGES = np.array([0, 1 / 12, 1 / 6, 1 / 4, 1 / 3, 1 / 2, 2 / 3, 1, 1.5, 2, 3, 4, np.inf]) + 1e-9
SCALAR_FEATURES = (
    "pitch_class_entropy",
    "pitch_range",
    "polyphony",
    "note_density",
    "scale_consistency",
    "empty_beat_rate",
)
HISTOGRAM_FEATURES = ("pitch_class_histogram", "ioi_histogram")


def pitched_notes(piece: Piece) -> np.ndarray | None:
    """The pitched notes (NOTE_DTYPE) of every track, by start time; None when there are none."""
    parts = [t.notes for t in piece.tracks if not t.is_drum and len(t.notes)]
    if not parts:
        return None
    notes = np.concatenate(parts)
    return notes[np.argsort(notes["start"], kind="stable")]


def piece_features(piece: Piece) -> dict[str, float | np.ndarray]:
    """Every statistic of one piece. Times are in beats."""
    notes = pitched_notes(piece)
    tpb = piece.ticks_per_beat
    if notes is None:
        return {
            "pitch_class_histogram": np.zeros(12), "pitch_class_entropy": 0.0, "pitch_range": 0.0,
            "polyphony": 0.0, "note_density": 0.0, "ioi_histogram": np.zeros(len(IOI_EDGES) - 1),
            "scale_consistency": 0.0, "empty_beat_rate": 1.0,
        }  # fmt: skip
    classes = np.bincount(notes["pitch"] % 12, minlength=12).astype(float)
    histogram = classes / classes.sum()
    nonzero = histogram[histogram > 0]
    starts, ends = notes["start"] / tpb, notes["end"] / tpb
    length = max(float(ends.max()), 1e-9)
    onsets = np.unique(notes["start"]) / tpb
    ioi = np.diff(onsets)
    ioi_hist = np.histogram(ioi, bins=IOI_EDGES)[0].astype(float)
    ioi_hist = ioi_hist / ioi_hist.sum() if ioi_hist.sum() else ioi_hist
    beats = int(np.ceil(length))
    busy = np.zeros(beats, bool)
    for s, e in zip(starts, ends):
        busy[int(s) : max(int(np.ceil(e)), int(s) + 1)] = True
    return {
        "pitch_class_histogram": histogram,
        "pitch_class_entropy": float(-(nonzero * np.log2(nonzero)).sum()),
        "pitch_range": float(notes["pitch"].max() - notes["pitch"].min()),
        "polyphony": mean_polyphony(notes, tpb),
        "note_density": len(notes) / length,
        "ioi_histogram": ioi_hist,
        "scale_consistency": scale_consistency(classes),
        "empty_beat_rate": float(1 - busy.mean()) if beats else 1.0,
    }


def mean_polyphony(notes: np.ndarray, ticks_per_beat: int) -> float:
    """Notes sounding, averaged over the time when any sounds (on a 1/12-beat grid): 1.0 for a
    single line, 4.0 for four voices that always move together; 0.0 without notes.
    `notes` is a NOTE_DTYPE array, times in ticks."""
    if len(notes) == 0:
        return 0.0
    starts = np.round(notes["start"] / ticks_per_beat * 12).astype(np.int64)
    ends = np.round(notes["end"] / ticks_per_beat * 12).astype(np.int64)
    grid = np.zeros(int(ends.max()) + 2)
    np.add.at(grid, starts, 1)
    np.add.at(grid, ends, -1)
    sounding = np.cumsum(grid)[:-1]
    return float(sounding[sounding > 0].mean()) if (sounding > 0).any() else 0.0


def scale_consistency(pitch_class_counts: np.ndarray) -> float:
    """The largest fraction of notes that fit one major or natural-minor scale (any key)."""
    total = pitch_class_counts.sum()
    if total == 0:
        return 0.0
    best = max(
        pitch_class_counts[(scale + key) % 12].sum()
        for key in range(12)
        for scale in (MAJOR, MINOR)
    )
    return float(best / total)


def _distances(a: list, b: list | None) -> np.ndarray:
    """Pairwise distances within `a` (b None) or between `a` and `b`; Euclidean for histograms."""
    x = np.array([np.atleast_1d(v) for v in a], float)
    y = x if b is None else np.array([np.atleast_1d(v) for v in b], float)
    d = np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1))
    return d[np.triu_indices(len(x), k=1)] if b is None else d.ravel()


def _bandwidth(samples: np.ndarray) -> float:
    """Scott's rule; a small width around the value when all samples are equal."""
    spread = samples.std()
    base = spread if spread > 0 else max(abs(samples.mean()), 1.0) * 0.1
    return 1.06 * base * len(samples) ** -0.2


def _kde(samples: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian kernel density of `samples`, evaluated on `grid`."""
    width = _bandwidth(samples)
    z = (grid[:, None] - samples[None, :]) / width
    return np.exp(-0.5 * z * z).sum(1) / (len(samples) * width * np.sqrt(2 * np.pi))


def overlap_area(reference: list, generated: list, *, same_pieces: bool = False) -> float:
    """Yang & Lerch's overlapping area between the intra-set distances of `reference` and the
    inter-set distances reference<->generated: 1 when the sets are indistinguishable.
    same_pieces: the two lists hold the same pieces, so a piece's distance to itself (0) is not
    an inter-set distance."""
    intra = _distances(reference, None)
    inter = intra if same_pieces else _distances(reference, generated)
    if len(intra) == 0 or len(inter) == 0:
        return float("nan")
    reach = 4 * max(_bandwidth(intra), _bandwidth(inter))
    grid = np.linspace(
        min(intra.min(), inter.min()) - reach, max(intra.max(), inter.max()) + reach, 2000
    )
    integrate = getattr(np, "trapezoid", None) or np.trapz  # trapz before NumPy 2
    return float(np.clip(integrate(np.minimum(_kde(intra, grid), _kde(inter, grid)), grid), 0, 1))


def compare_sets(reference: list[Piece], generated: list[Piece]) -> dict[str, dict]:
    """Per feature: the mean over each set and the overlapping area (histograms: mean histogram)."""
    ref = [piece_features(p) for p in reference]
    gen = [piece_features(p) for p in generated]
    same = len(reference) == len(generated) and all(r is g for r, g in zip(reference, generated))
    out = {}
    for name in SCALAR_FEATURES + HISTOGRAM_FEATURES:
        a, b = [f[name] for f in ref], [f[name] for f in gen]
        mean = (
            (lambda v: np.mean(v, axis=0).round(4).tolist())
            if name in HISTOGRAM_FEATURES
            else (lambda v: round(float(np.mean(v)), 4))
        )
        out[name] = {
            "reference": mean(a),
            "generated": mean(b),
            "overlap": _rounded(overlap_area(a, b, same_pieces=same)),
        }
    return out


def _rounded(value: float) -> float | None:
    """3 decimals, or None (JSON null) when there were too few pieces to measure distances."""
    return None if np.isnan(value) else round(value, 3)
