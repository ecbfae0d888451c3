"""Generating music: a stateful, batched, streaming sampler over a loaded model.

    sampler = Sampler(load_model("runs/bach"), SamplingSettings(seconds=30, variations=4, seed=7))
    for update in sampler.run():          # new notes, a chunk at a time; stop() ends it at once
        draw(update.notes)
    pieces = sampler.pieces()              # one Piece per variation

The LSTM state is carried and one token per variation is fed per step (never the whole sequence
again); every variation of the batch moves in the same step. A primer (a Piece, or tokens) is read
first as tokens without their Eos, in one call; the output holds the primer and its continuation,
or the continuation alone, put together by `written.Continuation`: a primer Piece comes back
exactly as given (notes, tracks, tempo map, time signatures, resolution), and the new music has
the exact tempo in force where the primer ends, or the one asked for, not its token's bin.

A model with context inputs (tokens/lookback.py) reads beside each token its place in the beat
and bar and what came next there a bar ago: each variation keeps a ContextReader fed every token
the model reads (the primer or a span's context, then the tokens as accepted, a time shift cut at
the length asked for included), so the rows are those training computes for the same tokens.

No model can make it run for ever: each step checks that the logits are numbers, and that every
variation's music moves forward (at most MAX_TOKENS_PER_SECOND tokens per second of it, plus
TOKENS_AT_ONE_MOMENT); a model that fails either is a ModelFileError naming its file.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import torch

from composer.core.generation.constraints import ConstraintMask, Constraints
from composer.core.generation.density import density_bias, density_mask
from composer.core.generation.loading import LoadedModel, ModelFileError
from composer.core.generation.sampling import (
    MAX_LOGIT,
    MAX_TOKENS_PER_SECOND,
    TOKENS_AT_ONE_MOMENT,
    Grammar,
    SamplingSettings,
    SeededDraws,
    choose,
)
from composer.core.generation.span import FillSpan, SpanMask
from composer.core.generation.stepper import LSTMStepper
from composer.core.generation.written import Continuation
from composer.core.midi.piece import Piece
from composer.core.model import context_tensor
from composer.core.tokens.codec import GRID_DTYPE, encode, piece_from_grid
from composer.core.tokens.given import GivenMusic, GivenTable, example_given_rows
from composer.core.tokens.lookback import ContextReader
from composer.core.tokens.meter import Meter, Placement
from composer.core.tokens.stream import StreamDecoder
from composer.core.tokens.vocab import BOS, EOS, Kind

#: (start tick, end tick, pitch, velocity, program, is drum) of a note as the stream reports it.
StreamNote = tuple[int, int, int, int, int, bool]


@dataclass(frozen=True)
class GenerationUpdate:
    step: int  # tokens sampled so far per variation
    notes: list[list[StreamNote]]  # per variation: notes finished since the last update
    seconds: list[float]  # per variation: seconds of new music so far
    done: list[bool]  # per variation: finished (Eos or length reached)


@dataclass
class _Variation:
    decoder: StreamDecoder
    tokens: list[int] = field(default_factory=list)  # sampled ids (after the primer)
    done: bool = False
    notes_written: int = 0
    reader: ContextReader | None = None  # a model with context inputs: what it has read
    ending: int | None = None  # a note-off the sampler writes next (Grammar.instead_of)


class Sampler:
    """Samples `settings.variations` pieces from `loaded`, optionally continuing `primer`: a
    Piece (written back exactly as given), or token ids (written back as they decode)."""

    def __init__(
        self,
        loaded: LoadedModel,
        settings: SamplingSettings,
        primer: Piece | np.ndarray | None = None,
        *,
        chunk_tokens: int = 16,
        constraints: Constraints | None = None,
        span: FillSpan | None = None,
    ):
        self.loaded, self.settings, self.chunk_tokens = loaded, settings, chunk_tokens
        self.vocab = loaded.vocab
        self.span = SpanMask(span, self.vocab) if span is not None else None
        primer_piece = primer if isinstance(primer, Piece) else None
        primer_tokens = primer is not None and primer_piece is None
        if primer_piece is not None:
            primer = encode(primer_piece, self.vocab)
        self.primer = np.asarray(primer if primer is not None else [BOS], dtype=np.int64)
        ends = np.flatnonzero(self.primer == EOS)
        self.primer = self.primer[: ends[0]] if len(ends) else self.primer  # continue, not end
        if self.primer[0] != BOS:
            self.primer = np.concatenate([[BOS], self.primer])
        if span is not None:  # the model reads the span's context; the decoder starts afresh
            self.primer = np.asarray(span.context, dtype=np.int64)
        self.grammar = Grammar(self.vocab)
        self.constraints = constraints or Constraints()
        self.steering = (
            ConstraintMask(self.constraints, self.vocab) if self.constraints.active else None
        )
        if self.constraints.tempo_bpm is not None and span is None:  # a tempo token, in the file
            tempo = self.vocab.offset("Tempo") + int(
                self.vocab.tempo_bin(self.constraints.tempo_bpm)
            )
            self.primer = np.append(self.primer, tempo)
        self.continuation = self._continuation(primer_piece, primer_tokens, span)
        self.style = loaded.config.style_index(settings.style)  # SettingsError: unknown name
        # The style's name, for what the fronts say; None for a model without styles.
        self.style_name = loaded.config.style_name(self.style) if loaded.config.styles else None
        self.stepper = LSTMStepper(loaded.model, self.style)
        self.context_spec = loaded.config.context_spec()  # None: a model without context inputs
        # Where the music lies in its meter: the span's parts, or the primer's time signatures
        # (a model that counts 4/4 bars ignores it; from silence, 4/4).
        self.placement = span.placement if span is not None else None
        spb = self.vocab.config.steps_per_beat
        if primer_piece is not None:
            self.placement = Placement(Meter.of_piece(primer_piece, spb))
        elif primer is None and span is None and self.constraints.meter is not None:  # silence
            self.placement = Placement(Meter.from_rows([[0, *self.constraints.meter]], spb))
        # A model that hears given music, filling a span: the span's rows, one per time step
        # (tokens/given.py). Without a span nothing is given and the rows are zero: none read.
        self.given_table = None
        if loaded.config.hears_given and span is not None:
            given = span.given or GivenMusic.nothing(span.steps)
            self.given_table = GivenTable(
                given, loaded.config.given_ahead_steps, self.vocab.config.steps_per_beat
            )
        self.variations: list[_Variation] = []
        self._stop = threading.Event()
        self.primer_seconds = 0.0
        self.stopped = False

    def _continuation(
        self, primer: Piece | None, primer_tokens: bool, span: FillSpan | None
    ) -> Continuation:
        """Where the new music goes in the written piece, from what reading the primer leaves a
        decoder in (the step it ends at, its notes, its tempo tokens)."""
        reader = StreamDecoder(self.vocab)
        if span is None:
            reader.feed_many(self.primer)
        self.primer_steps = reader.time
        self.primer_notes = len(reader.finished)  # notes finished after these are new
        # Music with nothing before it must start soon (Grammar): not a continuation, nor a span.
        self.from_silence = span is None and not self.primer_notes and not reader.sounding
        self.primer_tempos = len(reader.tempos)  # the tempo in force is the last of these
        if span is not None:  # SpanFiller writes the piece; its stream counts from the span
            return Continuation.after(None, self.vocab)
        if primer_tokens:  # the primer as its tokens decode
            notes = np.array(reader.finished, dtype=GRID_DTYPE)  # 5-tuples: one row each
            primer = piece_from_grid(notes, reader.tempo_rows(), self.vocab)
        return Continuation.after(
            primer,
            self.vocab,
            self.primer_steps,
            self.constraints.tempo_bpm,
            self.constraints.meter,
        )

    def stop(self) -> None:
        """Ask run() to end after the current step (thread-safe)."""
        self._stop.set()

    def run(self) -> Iterator[GenerationUpdate]:
        s = self.settings
        device = self.loaded.model.head.weight.device
        n = s.variations
        self.variations = [_Variation(StreamDecoder(self.vocab)) for _ in range(n)]
        for v in self.variations:
            if self.span is None:
                v.decoder.feed_many(self.primer)
                v.decoder.set_bpm(self.continuation.bpm)  # the file's, not the token's bin
            else:  # the span starts at time 0 in the tempo in force there
                v.decoder.feed(self.vocab.offset("Tempo") + self.span.span.tempo_bin)
            v.decoder.take_finished()  # the primer's notes are not news
        self.primer_seconds = self.variations[0].decoder.seconds
        draws = SeededDraws(s.seed, n)
        primer = torch.from_numpy(self.primer)[None].expand(n, -1).to(device)
        logits, state = self.stepper.prime(
            primer, self._prime_context(device), self._prime_given(device)
        )
        # In seconds, _check_moving bounds the run: MAX_TOKENS_PER_SECOND x seconds + slack.
        limit = s.max_tokens if s.max_tokens is not None else 1 << 62
        step = 0
        while step < limit and not all(v.done for v in self.variations):
            if self._stop.is_set():
                self.stopped = True
                break
            scores = logits.float().cpu().numpy()  # choosing is NumPy's work (sampling.choose)
            self._check_logits(scores, step)
            if self.constraints.density is not None:
                scores = self._steer_density(scores)
            decoders = [v.decoder for v in self.variations]
            written = [v.notes_written for v in self.variations]
            allowed = self.grammar.allowed(decoders, written, self.from_silence)
            if self.steering is not None:
                steered = allowed & self.steering.allowed(decoders)
                # The grammar always leaves something; the constraints leave something too
                # except where a primer ended in a state they forbid: then the grammar decides.
                if self.constraints.density is not None:
                    target = self.constraints.density
                    steered &= density_mask(target, decoders, *self._density_state(), self.vocab)
                empty = ~steered.any(axis=1)
                allowed = np.where(empty[:, None], allowed, steered)
            if self.span is not None:  # the span's borders are not negotiable
                allowed = allowed & self.span.allowed(decoders)
                allowed[~allowed.any(axis=1), EOS] = True  # rows already done: draw something
            chosen = choose(scores, allowed, s, draws.next())
            drawn = chosen.tolist()
            read = [
                None if v.done else self._accept(v, token)
                for v, token in zip(self.variations, drawn)
            ]
            step += 1
            self._check_moving()
            if step % self.chunk_tokens == 0:
                yield self._update(step)
            context, given = None, None
            if self.context_spec is not None:
                fed, context = self._context(drawn, read, device)
            else:
                fed = torch.from_numpy(chosen).to(device)
            if self.given_table is not None:
                # The rows at the time each variation reached, projected step by step: a table
                # of projections for a whole piece would hold (steps, E + V) floats, 0.5 GB
                # for two hours of music.
                times = [v.reader.tracker.time for v in self.variations]
                rows = torch.from_numpy(self.given_table.at(times)).to(device)
                given = self.stepper.given_vectors(rows)
            logits, state = self.stepper.step(fed, state, context, given)
        for v in self.variations:
            v.decoder.close()
        yield self._update(step)

    def _prime_context(self, device: torch.device) -> torch.Tensor | None:
        """The primer's context inputs (B, T, C), and a ContextReader per variation that has
        read the primer; None for a model without context inputs."""
        if self.context_spec is None:
            return None
        config = self.loaded.config
        reader = ContextReader(self.vocab, self.context_spec, config.vocab_size, self.placement)
        for token in self.primer.tolist():
            reader.feed(token)
        for v in self.variations:
            v.reader = copy.deepcopy(reader)
        context = context_tensor(config, self.vocab, self.primer, self.placement)
        return context.expand(len(self.variations), -1, -1).to(device)

    def _prime_given(self, device: torch.device) -> torch.Tensor | None:
        """The given rows of the primer (B, T, GIVEN_WIDTH): zero but from the Middle mark on,
        as in a training example; None when nothing is given."""
        if self.given_table is None:
            return None
        config = self.loaded.config
        rows = example_given_rows(
            self.primer, self.given_table.given, self.vocab, config.given_ahead_steps
        )
        given = torch.from_numpy(rows).float()[None]
        return given.expand(len(self.variations), -1, -1).to(device)

    def _context(
        self, drawn: list[int], read: list[int | None], device: torch.device
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The tokens the model reads next (B,), as each variation accepted them, and their
        context rows (B, C). A variation that read nothing (done) reads what was drawn and a
        row of nothing: its state no longer matters."""
        ids = list(drawn)
        rows = np.zeros((len(ids), self.context_spec.columns), np.int64)
        rows[:, self.context_spec.lookback] = self.loaded.config.vocab_size  # no moment then
        for row, (v, token) in enumerate(zip(self.variations, read)):
            if token is not None:
                ids[row] = token
                rows[row] = v.reader.feed(token)
        return torch.tensor(ids, device=device), torch.from_numpy(rows).to(device)

    def _check_logits(self, logits: np.ndarray, step: int) -> None:
        """ModelFileError unless every logit (B, V) is a number within MAX_LOGIT (one check per
        step for the whole batch): NaN or infinite logits make every draw NaN, and the music
        never ends."""
        if not (logits.max() <= MAX_LOGIT and logits.min() >= -MAX_LOGIT):  # False for NaN too
            raise ModelFileError(
                f"{self.loaded.source} gave predictions that are not numbers (NaN or infinite) "
                f"at token {step + 1:,}, so it cannot make music; its weights are damaged: use an "
                "earlier checkpoint or train the model again"
            )

    def _density_state(self) -> tuple[np.ndarray, np.ndarray]:
        """(note-ons written, beats of new music) per variation, for the density steering."""
        notes = np.array([v.notes_written for v in self.variations], float)
        spb = self.vocab.config.steps_per_beat
        beats = np.array([(v.decoder.time - self.primer_steps) / spb for v in self.variations])
        return notes, beats

    def _steer_density(self, logits: np.ndarray) -> np.ndarray:
        """The logits (B, V) float32 with note-ons and velocities biased toward the density
        asked for (density.density_bias), a new array."""
        bias = density_bias(self.constraints.density, *self._density_state())
        logits, bias = logits.copy(), bias.astype(np.float32)[:, None]
        for kind, sign in ((Kind.NOTE_ON, 1.0), (Kind.VELOCITY, 1.0), (Kind.TIME_SHIFT, -1.0)):
            first, count = self.vocab.ranges[kind]
            logits[:, first : first + count] += sign * bias
        return logits

    def _check_moving(self) -> None:
        """ModelFileError when a variation has written more tokens than its music can hold
        (MAX_TOKENS_PER_SECOND per second of it, plus TOKENS_AT_ONE_MOMENT): the model is stuck
        writing what does not move time forward, and would never reach the length asked for."""
        for v in self.variations:
            seconds = v.decoder.seconds - self.primer_seconds
            if (
                not v.done
                and len(v.tokens) > TOKENS_AT_ONE_MOMENT + MAX_TOKENS_PER_SECOND * seconds
            ):
                wrote = (
                    f"{self.loaded.source} wrote {len(v.tokens):,} tokens for {seconds:.1f} s of "
                    "music without moving the music forward"
                )
                if self.steering is not None:  # what it was allowed may be the cause
                    steering = self.constraints.summary(self.vocab.config.steps_per_beat)
                    raise ModelFileError(
                        f"{wrote} under the steering ({steering}), which may leave it nothing "
                        "it would play: loosen the steering, or try another seed or temperature"
                    )
                raise ModelFileError(
                    f"{wrote}; the model is stuck (damaged or barely trained): use an earlier "
                    "checkpoint, train it longer, or try another temperature"
                )

    def _accept(self, v: _Variation, token: int) -> int | None:
        """Take a drawn token into a variation: the token it reads (a time shift past the
        length asked for is cut there), or None where the music ended before it."""
        decoder = v.decoder
        if v.ending is not None:  # the note-off after the change of instrument that led to it
            token, v.ending = v.ending, None
        else:
            instead = self.grammar.instead_of(decoder, token)  # a note held too long ends first
            if instead is not None and decoder.kinds[instead] in ("Program", "Drums"):
                v.ending = self.grammar.ending_after(decoder, instead)
            token = token if instead is None else instead
        kind = decoder.kinds[token]
        reached = False
        if kind == Kind.TIME_SHIFT and self.settings.seconds is not None and self.span is None:
            # A shift past the requested length is cut at the end: the music ends there.
            left = self.settings.seconds - (decoder.seconds - self.primer_seconds)
            steps_left = int(left * decoder.bpm / 60.0 * self.vocab.config.steps_per_beat + 1e-6)
            if decoder.values[token] >= steps_left:
                reached = True
                if steps_left < 1:
                    v.done = True
                    return None
                token = self.vocab.ranges["TimeShift"][0] + steps_left - 1
        v.tokens.append(token)
        decoder.feed(token)
        if kind == Kind.NOTE_ON:
            v.notes_written += 1
        # Last, so that a variation interrupted (Ctrl-C) in the middle of this is not yet done:
        # finished() lists complete pieces only.
        v.done = reached or decoder.ended
        if self.span is not None:
            v.done = self.span.finished(decoder)
        return token

    def _update(self, step: int) -> GenerationUpdate:
        return GenerationUpdate(
            step=step,
            notes=[
                [self._stream_note(n) for n in v.decoder.take_finished()] for v in self.variations
            ],
            seconds=[v.decoder.seconds - self.primer_seconds for v in self.variations],
            done=[v.done for v in self.variations],
        )

    def _stream_note(self, note) -> StreamNote:
        """A note in the ticks of the piece pieces() writes (with a primer Piece: its ticks)."""
        start, end, pitch, vbin, slot = note
        start, end = self.continuation.ticks([start, end]).tolist()
        drum = slot == len(self.vocab.config.programs)
        program = 0 if drum else self.vocab.config.programs[slot]
        velocity = int(self.vocab.velocity_values[vbin])
        return (start, max(end, start + 1), pitch, velocity, program, drum)

    def tokens(self, variation: int) -> np.ndarray:
        """Primer (with Bos) and sampled ids of one variation."""
        return np.concatenate(
            [self.primer, np.asarray(self.variations[variation].tokens, np.int64)]
        )

    def finished(self) -> list[int]:
        """The variations that are complete pieces (ended, or as long as asked), even when run()
        was interrupted (KeyboardInterrupt) before the others were."""
        return [i for i, v in enumerate(self.variations) if v.done]

    def silent(self) -> list[int]:
        """The variations that wrote no note (their new music is empty): never to be passed off
        as music, so the command line and the app say so instead of writing them."""
        return [i for i, v in enumerate(self.variations) if v.notes_written == 0]

    def silent_sentence(self, where: str, so: str, steering: Constraints | None = None) -> str:
        """What every front says of the silent() variations, without the final full stop: 'no
        notes were written {where}, {so}; ' and what to try. Loosening the steering is advised
        only where there was some (`steering`: what the musician asked for, when that is not
        what this sampler was given); nothing is advised after stop(), which ended them early.
        where: e.g. 'in variation 2', 'for x-1.mid'; so: what the front did about them."""
        steering = self.constraints if steering is None else steering
        if self.stopped:
            return f"no notes were written {where} before the generation was stopped, {so}"
        if steering.active:
            words = steering.summary(self.vocab.config.steps_per_beat)
            advice = f"loosen the steering ({words}) or try another seed"
        else:
            advice = "try another seed or temperature"
        return f"no notes were written {where}, {so}; {advice}"

    def pieces(
        self, continuation_only: bool = False, which: list[int] | None = None
    ) -> list[Piece]:
        """One Piece per variation (after run()), or per variation in `which`: primer and
        continuation, or the continuation alone, moved to start at time 0 with the tempo and
        time signature in force where it began (written.Continuation). Notes still sounding
        end where the variation's music ends."""
        out = []
        for index in range(len(self.variations)) if which is None else which:
            decoder = self.variations[index].decoder
            new = decoder.notes()[self.primer_notes :]
            tempos = decoder.tempos[self.primer_tempos - 1 :]  # from the one in force
            out.append(self.continuation.piece(np.array(new), np.array(tempos), continuation_only))
        return out
