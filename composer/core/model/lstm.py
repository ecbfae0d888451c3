"""The LSTM language model over token ids."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from composer.core.model.config import ModelConfig
from composer.core.tokens.given import GIVEN_WIDTH
from composer.core.tokens.lookback import REPEAT_ROWS, context_ids, context_rows
from composer.core.tokens.meter import Placement
from composer.core.tokens.vocab import Vocabulary

LSTMState = tuple[torch.Tensor, torch.Tensor]  # (h, c), each (layers, batch, hidden_size)


class MusicLSTM(nn.Module):
    """Embedding -> nn.LSTM -> dropout -> linear: the logits of the next token at every position."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_size)
        self.lstm = nn.LSTM(
            config.embedding_size,
            config.hidden_size,
            num_layers=config.layers,
            dropout=config.dropout if config.layers > 1 else 0.0,
            batch_first=True,
        )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)
        # Context tables start at zero: a model grown from one without them (start_from) plays
        # exactly as before until training moves them; gradients reach them all the same.
        self.context_step = self.context_beat = self.given = self.given_out = self.copy = None
        self.style = None
        self.lookback, self.repeat = nn.ModuleList(), nn.ModuleList()
        lags = config.lookback_lags
        self.lookback_columns = slice(2, 2 + lags)
        if config.styles:  # row 0, any style, stays zero: no gradient reaches it
            self.style = nn.Embedding(len(config.styles) + 1, config.embedding_size, padding_idx=0)
            with torch.no_grad():
                self.style.weight.zero_()
        if config.context_steps:
            e = config.embedding_size
            self.context_step = nn.Embedding(config.context_steps, e)
            self.context_beat = nn.Embedding(config.context_spec().beat_rows, e)
            self.lookback.extend(nn.Embedding(config.vocab_size + 1, e) for _ in range(lags))
            if config.lookback_repeats:
                self.repeat.extend(nn.Embedding(REPEAT_ROWS, e) for _ in range(lags))
            tables = [self.context_step, self.context_beat, *self.lookback, *self.repeat]
            if config.given_ahead_steps:
                # Read beside each token, and straight onto the logits: which notes the given
                # harmony makes likely is learnt far sooner there than through the LSTM alone.
                self.given = nn.Linear(GIVEN_WIDTH, e, bias=False)
                self.given_out = nn.Linear(GIVEN_WIDTH, config.vocab_size, bias=False)
                tables += [self.given, self.given_out]
            if config.lookback_copy:
                self.copy = nn.Linear(config.hidden_size, lags)
                tables.append(self.copy)
            with torch.no_grad():
                for table in tables:
                    table.weight.zero_()
                if self.copy is not None:
                    self.copy.bias.zero_()
        with torch.no_grad():
            # Forget-gate bias 1 (gates are ordered input, forget, cell, output): the cell keeps
            # its memory by default early in training, which helps long sequences learn at all.
            h = config.hidden_size
            for name, bias in self.lstm.named_parameters():
                if name.startswith("bias_ih"):
                    bias[h : 2 * h].fill_(1.0)

    def initial_state(self, batch: int, device: torch.device | str | None = None) -> LSTMState:
        """Zeros: the state before the first token of a piece."""
        shape = (self.config.layers, batch, self.config.hidden_size)
        device = device or self.head.weight.device
        return torch.zeros(shape, device=device), torch.zeros(shape, device=device)

    def forward(
        self,
        tokens: torch.Tensor,
        state: LSTMState | None = None,
        context: torch.Tensor | None = None,
        given: torch.Tensor | None = None,
        style: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, LSTMState]:
        """tokens: (batch, time) int64 ids -> logits (batch, time, vocab_size) and the new state.
        context: (batch, time, columns) int64, for a model with context inputs: step in the beat,
        beat in the bar, per lag the token id that came next a bar ago (vocab_size where none
        did), and for a model with repeat flags per lag the run of repeated tokens (0 to
        REPEAT_ROWS - 1); tokens/lookback.py's context_rows and context_ids make it.
        given: (batch, time, GIVEN_WIDTH) float (0 or 1), for a model that hears given music:
        the rows of tokens/given.py; None where every row is zero (no span, nothing given).
        style: (batch,) int64, for a model with styles: the style row each row of the batch plays
        in (0 or None: any style)."""
        x, state = self.lstm(self.inputs(tokens, context, given, style), state)
        x = self.dropout(x)
        logits = self.copied(self.head(x), x, context)
        if given is not None and self.given_out is not None:
            logits = logits + heard(self.given_out, given, logits.dtype)
        return logits, state

    def copied(
        self, logits: torch.Tensor, h: torch.Tensor, context: torch.Tensor | None
    ) -> torch.Tensor:
        """The logits (..., V) with the copy bias of a model that has one: per lag, the bias it
        computes from the last layer's output h (..., H) added to the logit of the token that
        came next that many bars before (context[..., 2 + lag]; nothing where none did)."""
        if self.copy is None:
            return logits
        bias = self.copy(h)  # (..., lags)
        lookback = context[..., self.lookback_columns]  # (..., lags), vocab_size: no moment
        wide = torch.cat([logits, torch.zeros_like(logits[..., :1])], dim=-1)
        wide = wide.scatter_add(-1, lookback, bias.to(wide.dtype))
        return wide[..., :-1]

    def inputs(
        self,
        tokens: torch.Tensor,
        context: torch.Tensor | None,
        given: torch.Tensor | None = None,
        style: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """What the first layer reads at each position: (..., embedding_size)."""
        x = self.embedding(tokens)
        if style is not None and self.style is not None:  # style (batch,), x (batch, time, E)
            x = x + self.style(style)[:, None, :]
        if self.context_step is None:
            return x
        if context is None:
            raise ValueError("this model reads context inputs: pass context (lookback.py)")
        x = x + self.context_step(context[..., 0]) + self.context_beat(context[..., 1])
        for lag, table in enumerate(self.lookback):
            x = x + table(context[..., 2 + lag])
        for lag, table in enumerate(self.repeat):
            x = x + table(context[..., 2 + len(self.lookback) + lag])
        if given is not None and self.given is not None:
            x = x + heard(self.given, given, x.dtype)
        return x


def heard(layer: nn.Linear, given: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """layer(given) where a row has a bit set, zero elsewhere: (..., layer.out_features) from
    given rows (..., GIVEN_WIDTH). Only the middles of fill-in examples have rows, a fraction of
    a batch's positions: computing the rest (all zero) cost a tenth of a training step."""
    flat = given.reshape(-1, given.shape[-1])
    where = (flat != 0).any(dim=1).nonzero().squeeze(1)
    out = torch.zeros(flat.shape[0], layer.out_features, dtype=dtype, device=given.device)
    out = out.index_add(0, where, layer(flat[where].to(dtype)))
    return out.reshape(*given.shape[:-1], layer.out_features)


def context_tensor(
    config: ModelConfig, vocab: Vocabulary, tokens: np.ndarray, placement: Placement | None = None
) -> torch.Tensor | None:
    """What a model with context inputs reads beside `tokens` (N,) read from a zero state:
    int64 (1, N, columns) (MusicLSTM.forward's context); None for a model without
    them. vocab: the model's Vocabulary (its grid and time shifts place the tokens in time).
    placement: where the tokens lie in their piece's meter (tokens/meter.py; None: 4/4)."""
    spec = config.context_spec()
    if spec is None:
        return None
    tokens = np.asarray(tokens, np.int64)
    rows = context_rows(tokens, vocab, spec, placement)
    ids = context_ids(rows, tokens, config.vocab_size, spec)
    return torch.from_numpy(ids)[None]
