"""The event vocabulary and the codec: notes <-> events <-> token ids."""

from composer.core.tokens.codec import decode, encode, quantize
from composer.core.tokens.config import TokenizerConfig
from composer.core.tokens.vocab import BOS, EOS, PAD, Vocabulary

__all__ = ["BOS", "EOS", "PAD", "TokenizerConfig", "Vocabulary", "decode", "encode", "quantize"]
