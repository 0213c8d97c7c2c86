"""Keras model -> TFLite flatbuffer bytes that the linked runtime (TFLite 2.14.1) can run.

Every LSTM layer becomes the builtin UNIDIRECTIONAL_SEQUENCE_LSTM (see fusable.py), each mode
really shrinks the model (see quantize_lstm.py for dynamic-range), and the result is checked
against the runtime before it is returned. TensorFlow is an optional dependency
(``pip install 'tflstm[convert]'``), imported only when a conversion runs.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from ._core import Model, UnsupportedOpError
from ._stderr import captured_stderr
from .errors import ConversionError
from .fusable import check_same_outputs, fusable_copy, input_shape
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


def _representative(data: RepresentativeData, shape: tuple[int | None, ...],
                    batch_size: int) -> Callable[[], Iterator[list[np.ndarray]]]:
    if callable(data):
        return data  # type: ignore[return-value]
    if not isinstance(data, np.ndarray):
        data = np.asarray(list(data))
    want = ("N",) + tuple("?" if d is None else d for d in shape)
    if data.ndim != len(shape) + 1 or any(d is not None and d != got for d, got in zip(shape, data.shape[1:])):
        raise ConversionError(f"representative_data has shape {data.shape}; the model takes samples of "
                              f"shape {want} (batch axis first)")
    if len(data) < batch_size:
        raise ConversionError(f"representative_data has {len(data)} samples, fewer than the batch size {batch_size}")
    samples = data.astype(np.float32)

    def batches() -> Iterator[list[np.ndarray]]:
        for i in range(0, len(samples) - batch_size + 1, batch_size):
            yield [samples[i:i + batch_size]]

    return batches


def _count_lstm_layers(model: Any) -> int:
    kinds = [type(layer).__name__ for layer in model.layers]
    return kinds.count("LSTM") + 2 * kinds.count("Bidirectional")


def check_converted(data: bytes, keras_model: Any, mode: str) -> Model:
    """The converted model has a fused op for each LSTM, nothing unfused, and the linked runtime
    can run every (op, version) in it."""
    model = Model(data)
    names = [name for name, _ in model.ops]
    unfused = sorted({n for n in names if n.upper() in _UNFUSED_OPS or n.startswith("Flex")})
    if unfused:
        raise ConversionError(f"converting '{keras_model.name}' in mode {mode} gave ops {unfused}: an LSTM was "
                              "not fused into UNIDIRECTIONAL_SEQUENCE_LSTM, or the model needs TensorFlow's "
                              "own kernels; tflstm only ships models that run on TFLite's builtin ops")
    want = _count_lstm_layers(keras_model)
    lstm_ops = _count_fused_lstms(data)
    if lstm_ops < want:
        raise ConversionError(f"'{keras_model.name}' has {want} LSTM layers but the converted model has "
                              f"{lstm_ops} fused LSTM ops")
    try:
        model.check()
    except UnsupportedOpError as e:
        raise ConversionError(f"the {mode} model of '{keras_model.name}' is not runnable by the linked TFLite: "
                              f"{e}") from e
    return model


def _count_fused_lstms(data: bytes) -> int:
    """LSTM directions computed by fused ops in the graph (model.ops lists each code once)."""
    from tensorflow.lite.python import schema_py_generated as schema

    m = schema.Model.GetRootAsModel(data, 0)
    codes = [max(m.OperatorCodes(i).BuiltinCode(), m.OperatorCodes(i).DeprecatedBuiltinCode())
             for i in range(m.OperatorCodesLength())]
    weight = {schema.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM: 1,
              schema.BuiltinOperator.BIDIRECTIONAL_SEQUENCE_LSTM: 2}
    total = 0
    for s in range(m.SubgraphsLength()):
        sg = m.Subgraphs(s)
        total += sum(weight.get(codes[sg.Operators(i).OpcodeIndex()], 0) for i in range(sg.OperatorsLength()))
    return total


def convert(
    model: Any,
    mode: str = "float32",
    representative_data: RepresentativeData | None = None,
    *,
    int8_io: bool = False,
    batch_size: int = 1,
    timesteps: int | None = None,
) -> bytes:
    """Convert a Keras LSTM model (Keras 3 or tf_keras) to TFLite bytes.

    mode: ``float32``; ``dynamic`` (dynamic-range: int8 weights, float activations);
    ``int8`` (full integer; needs ``representative_data``: input samples, batch axis first, a
    few hundred are plenty; ``int8_io`` makes the model's inputs and outputs int8 too);
    ``float16`` (float16 weights, float32 compute).
    The model is rebuilt with a fixed ``batch_size`` so that each LSTM becomes one fused op.
    ``timesteps`` sets the sequence length the model is converted for (default: the model's own);
    ``timesteps=1`` exports the step model that streaming feeds one step at a time. The
    runtime can still run other lengths and batch sizes: it resizes on a shape change.
    Raises ConversionError (UnsupportedLayerError for a layer with no fused equivalent).
    """
    if mode not in MODES:
        raise ConversionError(f"unknown conversion mode {mode!r}; choose one of {', '.join(MODES)}")
    if mode == "int8" and representative_data is None:
        raise ConversionError("int8 conversion needs representative_data: input samples (batch axis first), "
                              "a few hundred are plenty, to calibrate the activation ranges")
    if int8_io and mode != "int8":
        raise ConversionError(f"int8_io applies to mode 'int8', not {mode!r}")
    if batch_size < 1:
        raise ConversionError(f"batch_size must be at least 1, got {batch_size}")
    tf = tensorflow()
    if timesteps is not None and timesteps < 1:
        raise ConversionError(f"timesteps must be at least 1, got {timesteps}")
    copy = fusable_copy(model, batch_size, check=check_same_outputs, timesteps=timesteps)
    converter = tf.lite.TFLiteConverter.from_keras_model(copy)
    if mode != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif mode == "int8":
        converter.representative_dataset = _representative(representative_data, input_shape(model), batch_size)
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
            raise ConversionError(f"TensorFlow {tf.__version__} could not convert '{model.name}' in mode {mode}: "
                                  f"{e}" + (f"\nconverter log:\n{detail}" if detail else "")) from e
    if mode == "dynamic":
        data, _ = quantize_lstm_weights(data)  # the converter leaves fused LSTM weights in float32
    check_converted(data, copy, mode)
    return data
