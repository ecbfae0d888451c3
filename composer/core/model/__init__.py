"""The LSTM and its config. The config imports without torch (the CLI's --help lists presets)."""

from composer.core.model.config import PRESETS, ModelConfig, preset

__all__ = ["PRESETS", "ModelConfig", "MusicLSTM", "LSTMState", "context_tensor", "preset"]


def __getattr__(name: str):
    if name in ("MusicLSTM", "LSTMState", "context_tensor"):
        from composer.core.model import lstm

        return getattr(lstm, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
