"""The LSTM language model over token ids."""

from __future__ import annotations

import torch
from torch import nn

from composer.core.model.config import ModelConfig

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
        self, tokens: torch.Tensor, state: LSTMState | None = None
    ) -> tuple[torch.Tensor, LSTMState]:
        """tokens: (batch, time) int64 ids -> logits (batch, time, vocab_size) and the new state."""
        x = self.embedding(tokens)
        x, state = self.lstm(x, state)
        return self.head(self.dropout(x)), state
