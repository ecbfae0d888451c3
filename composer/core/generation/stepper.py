"""One token at a time through the LSTM, without nn.LSTM's per-call set-up.

Measured on 2 CPU cores for 3 x 512: calling nn.LSTM for a single token costs 5-7 ms, nearly all of
it oneDNN preparing the call, while the arithmetic needs well under 1 ms. The stepper keeps each
layer's input and recurrent weights as one pre-transposed matrix with one summed bias, so a step is
one `addmm` and a few element-wise operations per layer: the rows of the cell gate are scaled by 2
so that one sigmoid serves all four gates (tanh(z) = 2 sigmoid(2z) - 1). Primers, which are long,
still go through nn.LSTM in one call, where its set-up is paid once.

A model with context inputs (tokens/lookback.py) adds one row of each context table to the
token's vector, as MusicLSTM.inputs does: the tables are kept as one, so that a step gathers all
its rows at once (8 us a step for 3 x 512 here, against 21 us for a gather per table); a model
without them pays nothing for it.
"""

from __future__ import annotations

import torch

from composer.core.model import MusicLSTM

LayerStates = tuple[list[torch.Tensor], list[torch.Tensor]]  # per layer: h (B, H), c (B, H)


class LSTMStepper:
    """Runs a MusicLSTM (in eval mode: no dropout) token by token with its own state."""

    def __init__(self, model: MusicLSTM, style: int = 0):
        """style: the style row the music plays in (0: any; ModelConfig.style_index)."""
        self.model = model
        self.style = style
        lstm = model.lstm
        self.hidden = lstm.hidden_size
        self.layers = []  # (weights (in + H, 4H), bias (4H,)) per layer
        with torch.no_grad():
            for layer in range(lstm.num_layers):
                w_ih = getattr(lstm, f"weight_ih_l{layer}")
                w_hh = getattr(lstm, f"weight_hh_l{layer}")
                bias = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
                weights = torch.cat([w_ih, w_hh], dim=1).t().contiguous()
                h = self.hidden
                weights[:, 2 * h : 3 * h] *= 2  # the cell gate: see the module docstring
                bias[2 * h : 3 * h] *= 2
                self.layers.append((weights, bias))
            self.embedding = model.embedding.weight.detach()
            if style and model.style is not None:  # a style adds one vector to every token's
                self.embedding = self.embedding + model.style.weight[style].detach()
            self.head_weight = model.head.weight.detach().t().contiguous()  # (H, V)
            self.head_bias = model.head.bias.detach()
            # The context tables stacked in the order of a context row's columns (rows, E), and
            # where each starts; None for a model without them.
            tables = [model.context_step, model.context_beat, *model.lookback, *model.repeat]
            tables = [t.weight.detach() for t in tables if t is not None]
            self.context = torch.cat(tables) if tables else None
            starts = [0] + [len(t) for t in tables[:-1]]
            self.context_starts = torch.tensor(starts, device=self.embedding.device).cumsum(0)

    @torch.inference_mode()
    def prime(
        self,
        tokens: torch.Tensor,
        context: torch.Tensor | None = None,
        given: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, LayerStates]:
        """Read tokens (B, T) from a zero state: logits of the next token (B, V) and the state.
        context: (B, T, C) for a model with context inputs, given: (B, T, GIVEN_WIDTH) for one
        that hears given music (MusicLSTM.forward)."""
        style = None
        if self.style:
            style = torch.full(tokens.shape[:1], self.style, device=tokens.device)
        logits, (h, c) = self.model(tokens, context=context, given=given, style=style)
        return logits[:, -1], (list(h.unbind(0)), list(c.unbind(0)))

    @torch.inference_mode()
    def step(
        self,
        tokens: torch.Tensor,
        state: LayerStates,
        context: torch.Tensor | None = None,
        given: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, LayerStates]:
        """Read one token per row, tokens (B,): logits (B, V) and the new state. context: (B, C)
        int64 for a model with context inputs, the row of each token (lookback.context_ids).
        given: what each token's given row adds to its vector (B, E) and to the logits (B, V)
        (`given_vectors`)."""
        x = self.embedding[tokens]
        if given is not None:
            x = x + given[0]
        if self.context is not None:
            if context is None:
                raise ValueError("this model reads context inputs: pass context (lookback.py)")
            x = x + self.context[context + self.context_starts].sum(dim=1)  # (B, C, E) -> (B, E)
        hs, cs = [], []
        for (weights, bias), h, c in zip(self.layers, *state):
            gates = torch.addmm(bias, torch.cat([x, h], dim=1), weights).sigmoid_()
            i, f, g, o = gates.chunk(4, dim=1)  # nn.LSTM's gate order; g is sigmoid(2z)
            c = (f * c).addcmul_(i, g, value=2.0).sub_(i)  # f c + i tanh(z)
            h = o * torch.tanh(c)
            hs.append(h)
            cs.append(c)
            x = h
        logits = self.model.copied(torch.addmm(self.head_bias, x, self.head_weight), x, context)
        if given is not None:
            logits = logits + given[1]
        return logits, (hs, cs)

    @torch.inference_mode()
    def given_vectors(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """What given rows (N, GIVEN_WIDTH) add to a token's vector (N, E) and to the logits
        (N, V): the sampler projects, each step, the row of the time each variation reached."""
        rows = rows.to(self.embedding.dtype)
        return self.model.given(rows), self.model.given_out(rows)
