"""Steering: does each constraint hold, and what does it cost the model?

For each model (the bundled one, and a run folder when given) and each setting, 16 pieces of
30 seconds are generated (seeds 0-15, 4 variations at a time) and checked: notes outside the
locked scale, outside the range, onsets off a straight grid, instruments outside the chosen set
(all must be 0), the density against its target (median and worst relative error), and the
model's own NLL of the tokens it generated (nats per token, under the unconstrained model)
against the same without steering (baseline "free"): the difference is what the constraint
costs, so a musician can see when it fights the model.

    python benchmarks/steering.py [--run RUN] [--pieces 16] [--seconds 30] [--only NAMES]
"""

from __future__ import annotations

import argparse

import numpy as np

from composer.core.evaluation.likelihood import token_nll
from composer.core.generation import Sampler, SamplingSettings, load_model
from composer.core.generation.constraints import Constraints
from composer.core.generation.steering_text import parse_key
from composer.core.tokens.vocab import BOS

SETTINGS = {
    "free": Constraints(),
    "D minor": Constraints(key=parse_key("D minor")),
    "C3-C5": Constraints(lowest=48, highest=72),
    "grid 1/8": Constraints(grid_steps=6),
    "piano only": Constraints(programs=frozenset({0}), drums=False),
    # Instruments without piano (drums allowed, as --programs leaves them): every stream starts
    # as piano, so the model must be made to choose (issue 25: these wrote no notes at all).
    "violin only": Constraints(programs=frozenset({40})),
    "bass only": Constraints(programs=frozenset({33})),
    "drums only": Constraints(programs=frozenset()),
    "polyphony 2": Constraints(polyphony=2),
    "density 1": Constraints(density=1.0),
    "density 4": Constraints(density=4.0),
    "all at once": Constraints(
        key=parse_key("D minor"),
        lowest=48,
        highest=84,
        grid_steps=3,
        programs=frozenset({0}),
        drums=False,
        density=2.0,
    ),  # fmt: skip
}


def measure(model, constraints: Constraints, pieces: int, seconds: float) -> dict:
    vocab = model.vocab
    spb = vocab.config.steps_per_beat
    drum_slot = len(vocab.config.programs)
    allowed_slots = (
        None
        if constraints.programs is None
        else {int(vocab.program_slot[p]) for p in constraints.programs}
    )
    counts = {"scale": 0, "range": 0, "grid": 0, "instrument": 0, "notes": 0}
    density_errors, nll = [], []
    for seed in range(0, pieces, 4):
        sampler = Sampler(
            model,
            SamplingSettings(seconds=seconds, seed=seed, variations=min(4, pieces - seed)),
            constraints=constraints,
        )
        list(sampler.run())
        for v in sampler.variations:
            tokens = np.array([BOS, *v.tokens])
            nll.append(float(token_nll(model.model, tokens, model.vocab).mean()))
            for start, _end, pitch, _vbin, slot in v.decoder.notes():
                counts["notes"] += 1
                if slot != drum_slot:
                    in_key = constraints.key is None or pitch % 12 in constraints.key.pitch_classes
                    counts["scale"] += not in_key
                    counts["range"] += not constraints.lowest <= pitch <= constraints.highest
                if allowed_slots is not None:
                    counts["instrument"] += slot not in allowed_slots and slot != drum_slot
                    counts["instrument"] += slot == drum_slot and not constraints.drums
                if constraints.grid_steps:
                    counts["grid"] += start % constraints.grid_steps != 0
            if constraints.density:
                beats = max(v.decoder.time / spb, 1e-9)
                density_errors.append(abs(v.notes_written / beats / constraints.density - 1))
    return {
        **counts,
        "density_median": float(np.median(density_errors)) if density_errors else None,
        "density_worst": float(np.max(density_errors)) if density_errors else None,
        "nll": float(np.mean(nll)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="also a trained run (folder or model file)")
    parser.add_argument("--pieces", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--only", metavar="NAMES", help="these settings alone (comma-separated), after free"
    )
    args = parser.parse_args()
    chosen = ["free", *args.only.split(",")] if args.only else list(SETTINGS)
    from composer.resources import default_model

    for source in [default_model()] + ([args.run] if args.run else []):
        model = load_model(source)
        print(f"\n{model.name}: {args.pieces} pieces of {args.seconds:g} s per setting")
        print(f"{'setting':13} {'notes':>6} {'scale':>5} {'range':>5} {'grid':>4} {'instr':>5} "
              f"{'density err (med/worst)':>24} {'NLL':>6} {'cost':>6}")  # fmt: skip
        free = None
        for name in chosen:
            m = measure(model, SETTINGS[name], args.pieces, args.seconds)
            free = m["nll"] if free is None else free
            density = (
                f"{m['density_median']:.0%} / {m['density_worst']:.0%}"
                if m["density_median"] is not None
                else "-"
            )
            print(f"{name:13} {m['notes']:6} {m['scale']:5} {m['range']:5} {m['grid']:4} "
                  f"{m['instrument']:5} {density:>24} {m['nll']:6.3f} {m['nll'] - free:+6.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
