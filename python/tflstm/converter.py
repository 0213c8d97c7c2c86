"""Keras model -> TFLite flatbuffer bytes that the linked runtime (TFLite 2.14.1) can run.

The model is rebuilt as tf_keras (see fusable.py) so that every LSTM layer becomes the builtin
UNIDIRECTIONAL_SEQUENCE_LSTM and every other layer builtin ops; each mode
really shrinks the model (see quantize_lstm.py for dynamic-range), and the result is checked
against the runtime before it is returned. TensorFlow is an optional dependency
(``pip install 'tflstm[convert]'``), imported only when a conversion runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from ._core import Model, UnsupportedOpError
from ._stderr import captured_stderr
from .errors import ConversionError, UnsupportedLayerError
from .fusable import Rebuilt, rebuild
from .lstm_flatbuffer import count_fused_lstms, note_unfused, set_cell_activations
from .quantize_lstm import quantize_lstm_weights

MODES = ("float32", "dynamic", "int8", "float16")
# Ops that mean an LSTM was not fused, or that the model needs TensorFlow's own kernels.
_UNFUSED_OPS = ("WHILE", "CALL_ONCE", "FLEX", "CUSTOM")

RepresentativeData = np.ndarray | Iterable[Any] | Callable[[], Iterable[Any]]


def tensorflow() -> Any:
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # tf.keras is tf_keras: see fusable.py
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        # TensorFlow's start-up chatter (CUDA probing, CPU features) goes to fd 2 when it is
        # imported and when its devices are first set up: both happen here, out of sight.
        with captured_stderr():
            import tensorflow as tf

            tf.config.list_logical_devices()
    except ImportError as e:
        raise ImportError("tflstm's conversion tooling needs TensorFlow: pip install 'tflstm[convert]'") from e
    return tf


def load_keras(path: str | os.PathLike[str]) -> Any:
    """A saved Keras model: a Keras 3 file (.keras, legacy .h5) or a tf_keras one (.keras, .h5,
    SavedModel directory)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ConversionError(f"no Keras model at '{path}'")
    tensorflow()
    if os.path.isdir(path) and not os.path.exists(os.path.join(path, "keras_metadata.pb")):
        raise ConversionError(
            f"'{path}' is a SavedModel without Keras metadata (such as keras.Model.export writes): it holds a "
            "TensorFlow graph whose LSTMs are WHILE loops, not Keras layers tflstm can rebuild. Convert the "
            ".keras file, or a SavedModel written by tf_keras's model.save"
        )
    errors = []
    if path.endswith((".keras", ".h5", ".hdf5")):
        try:
            import keras

            with captured_stderr():
                return keras.saving.load_model(path, compile=False)
        except Exception as e:  # not a Keras 3 file: try Keras 2
            errors.append(f"Keras 3: {e}")
    try:
        import tf_keras

        with captured_stderr():
            return tf_keras.models.load_model(path, compile=False)
    except Exception as e:
        errors.append(f"tf_keras: {e}")
    raise ConversionError(f"cannot load a Keras model from '{path}': " + "; ".join(errors))


def _representative(data: RepresentativeData, copy: Any, batch_size: int) -> Callable[[], Iterator[list[np.ndarray]]]:
    """Batches for the converter's calibration: one array (single-input models), or a list or
    dict (by input name) of arrays, one per input, each with the batch axis first."""
    if callable(data):
        return data  # type: ignore[return-value]
    names = [t.name.split(":")[0] for t in copy.inputs]
    if isinstance(data, dict):
        unknown = sorted(set(data) - set(names))
        if unknown or len(data) != len(names):
            raise ConversionError(f"representative_data has inputs {sorted(data)}; the model's inputs are {names}")
        arrays = [data[n] for n in names]
    elif len(names) > 1:
        if not isinstance(data, (list, tuple)) or len(data) != len(names):
            raise ConversionError(
                f"the model has {len(names)} inputs {names}: give representative_data as a "
                "list of arrays in that order, or a dict by input name"
            )
        arrays = list(data)
    else:
        arrays = [data]
    samples = []
    for name, t, a in zip(names, copy.inputs, arrays, strict=True):
        a = np.asarray(a if isinstance(a, np.ndarray) else list(a))
        shape = tuple(t.shape)[1:]
        want = ("N", *tuple("?" if d is None else int(d) for d in shape))
        if a.ndim != len(shape) + 1 or any(
            d is not None and d != got for d, got in zip(shape, a.shape[1:], strict=True)
        ):
            raise ConversionError(
                f"representative_data has shape {a.shape}; the model takes samples of "
                f"shape {want} (batch axis first)" + (f" at input '{name}'" if len(names) > 1 else "")
            )
        if len(a) < batch_size:
            raise ConversionError(f"representative_data has {len(a)} samples, fewer than the batch size {batch_size}")
        samples.append(a.astype(t.dtype.as_numpy_dtype))
    count = min(len(a) for a in samples)

    def batches() -> Iterator[list[np.ndarray]]:
        for i in range(0, count - batch_size + 1, batch_size):
            yield [a[i : i + batch_size] for a in samples]

    return batches


def check_converted(data: bytes, rebuilt: Rebuilt, mode: str) -> Model:
    """The converted model has one fused op per LSTM (direction and call), nothing unfused or
    outside TFLite's builtin ops, and the linked runtime can run every (op, version) in it."""
    name = rebuilt.model.name
    model = Model(data)
    names = [n for n, _ in model.ops]
    unfused = sorted({n for n in names if n.upper() in _UNFUSED_OPS or n.startswith("Flex")})
    if unfused:
        raise ConversionError(
            f"converting '{name}' in mode {mode} gave ops {unfused}: an LSTM was "
            "not fused into UNIDIRECTIONAL_SEQUENCE_LSTM, or the model needs TensorFlow's "
            "own kernels; tflstm only ships models that run on TFLite's builtin ops"
        )
    lstm_ops = count_fused_lstms(data)
    if lstm_ops != rebuilt.lstm_ops:
        raise ConversionError(
            f"'{name}' computes {rebuilt.lstm_ops} LSTM directions but the converted model "
            f"has {lstm_ops} fused LSTM ops"
        )
    try:
        model.check()
    except UnsupportedOpError as e:
        raise ConversionError(f"the {mode} model of '{name}' is not runnable by the linked TFLite: {e}") from e
    return model


def convert(
    model: Any,
    mode: str = "float32",
    representative_data: RepresentativeData | None = None,
    *,
    int8_io: bool = False,
    batch_size: int = 1,
    timesteps: int | None = None,
) -> bytes:
    """Convert a Keras sequence model (Keras 3 or tf_keras, or the path of a saved one: see
    load_keras) to TFLite bytes.

    mode: ``float32``; ``dynamic`` (dynamic-range: int8 weights, float activations);
    ``int8`` (full integer; needs ``representative_data``: input samples, batch axis first, a
    few hundred are plenty; ``int8_io`` makes the model's inputs and outputs int8 too);
    ``float16`` (float16 weights, float32 compute).
    The model is rebuilt with a fixed ``batch_size`` so that each LSTM becomes one fused op.
    ``timesteps`` sets the sequence length the model is converted for (default: the model's own);
    ``timesteps=1`` exports the step model that streaming feeds one step at a time. The
    runtime can still run other lengths and batch sizes: it resizes on a shape change.
    Several inputs take representative_data as a list of arrays (in the model's input order)
    or a dict by input name.
    Raises ConversionError (UnsupportedLayerError naming a layer that cannot be converted).
    """
    if mode not in MODES:
        raise ConversionError(f"unknown conversion mode {mode!r}; choose one of {', '.join(MODES)}")
    if mode == "int8" and representative_data is None:
        raise ConversionError(
            "int8 conversion needs representative_data: input samples (batch axis first), "
            "a few hundred are plenty, to calibrate the activation ranges"
        )
    if int8_io and mode != "int8":
        raise ConversionError(f"int8_io applies to mode 'int8', not {mode!r}")
    if batch_size < 1:
        raise ConversionError(f"batch_size must be at least 1, got {batch_size}")
    tf = tensorflow()
    if isinstance(model, (str, os.PathLike)):
        model = load_keras(model)
    if timesteps is not None and timesteps < 1:
        raise ConversionError(f"timesteps must be at least 1, got {timesteps}")
    rebuilt = rebuild(model, batch_size, timesteps)
    if mode == "int8" and rebuilt.activations:
        names = ", ".join(f"'{a.layer}' ({a.activation})" for a in rebuilt.activations)
        raise UnsupportedLayerError(
            f"LSTM layers {names} use a cell activation other than tanh: TFLite's "
            "full-integer LSTM kernel computes tanh only; convert them in mode "
            "float32, dynamic or float16"
        )
    copy = rebuilt.model
    rep = _representative(representative_data, copy, batch_size) if mode == "int8" else None
    converter = tf.lite.TFLiteConverter.from_keras_model(copy)
    if mode != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif mode == "int8":
        converter.representative_dataset = rep
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if int8_io:
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
    elif mode == "dynamic":
        # Per-channel dense quantization emits FULLY_CONNECTED version 12, which TFLite 2.14
        # cannot run; per-tensor gives version 9.
        converter._experimental_disable_per_channel_quantization_for_dense_layers = True
    with captured_stderr() as log:
        try:
            data = bytes(converter.convert())
        except Exception as e:  # the converter raises many types; all mean the same to the user
            detail = log.tail()
            raise ConversionError(
                f"TensorFlow {tf.__version__} could not convert '{model.name}' in mode {mode}: "
                f"{e}" + (f"\nconverter log:\n{detail}" if detail else "")
            ) from e
    data = set_cell_activations(data, rebuilt.activations)
    if mode == "dynamic":
        data, _ = quantize_lstm_weights(data)  # the converter leaves fused LSTM weights in float32
    data = note_unfused(data, rebuilt.unfused)
    check_converted(data, rebuilt, mode)
    return data
