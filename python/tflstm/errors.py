"""Errors of the Python tooling, under the same root as the runtime's (tflstm.Error)."""

from __future__ import annotations

from ._core import Error


class ConversionError(Error, ValueError):
    """A model that cannot be converted to a TFLite model the linked runtime can run."""


class UnsupportedLayerError(ConversionError):
    """A Keras layer with no fused TFLite equivalent; the message names the layer and why."""


class TrainingError(Error, ValueError):
    """Training data or options that cannot make a model."""


class MismatchError(ConversionError):
    """A converted model whose outputs differ from its source Keras model's past the tolerance
    of its mode; the message says by how much, where, and on which inputs."""
