"""The one exception the encoder raises for a model it cannot use."""

from __future__ import annotations

from ..errors import ModelError


class EncoderError(ModelError):
    """The encoder's model file or ONNX graph is missing, truncated or corrupt."""
