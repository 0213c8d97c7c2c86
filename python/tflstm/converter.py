"""Keras model -> TFLite flatbuffer bytes that the linked runtime (TFLite 2.14.1) can run.

The model is rebuilt as tf_keras (see fusable.py) so that every LSTM layer becomes the builtin
UNIDIRECTIONAL_SEQUENCE_LSTM (or, for gates it cannot compute such as Keras 2's hard_sigmoid,
tflstm's fused TFLSTM_LSTM custom op: fuse_lstm.py; so too an LSTM that takes or gives its
states, or that a Keras mask reaches), every GRU tflstm's fused TFLSTM_GRU custom
op (fuse_gru.py; neither with ``portable=True``, nor in mode int8, which has no fused GRU or
TFLSTM_LSTM), every SimpleRNN stock TFLite's UNIDIRECTIONAL_SEQUENCE_RNN (fuse_simple_rnn.py;
not in mode int8) and every other layer builtin ops; each mode
really shrinks the model (see quantize_lstm.py for dynamic-range). What TensorFlow's converter
writes differently from Keras is set right in the flatbuffer (lstm_flatbuffer.py: the cell
clip, cell activations, the order of inputs and outputs), and the result is checked against the
runtime and then run against its source model (verification.py) before it is returned.
TensorFlow is an optional dependency (``pip install 'tflstm[convert]'``), imported only when a
conversion runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from ._core import Model, UnsupportedOpError
from ._stderr import captured_stderr
from .errors import ConversionError, UnsupportedLayerError
from .fusable import Rebuilt, Timesteps, rebuild
from .fuse_gru import GRU_OP, count_gru_ops, emit
from .fuse_lstm import LSTM_OP
from .fuse_simple_rnn import OP as RNN_OP
from .lstm_flatbuffer import (
    count_fused_lstms,
    fix_fused_lstms,
    int8_cell_states,
    note_unfused,
    order_io,
    requantize_lstm_outputs,
    set_cell_activations,
    widen_cell_scales,
)
from .quantize_lstm import quantize_lstm_weights
from .rebuild_check import cell_state_peaks
from .verification import verify as verify_converted

MODES = ("float32", "dynamic", "int8", "float16")
# The weights of the fused GRU in each mode that has one (int8 has none: its GRUs stay builtin ops).
GRU_WEIGHTS = {"float32": "float32", "float16": "float16", "dynamic": "int8"}
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
    loaders = [_load_keras3, _load_tf_keras] if path.endswith((".keras", ".h5", ".hdf5")) else [_load_tf_keras]
    if _written_by_keras2(path):
        # Keras 3 would load it, but computes some of its layers otherwise (hard_sigmoid is
        # 0.2x + 0.5 in Keras 2, relu6(x + 3) / 6 in Keras 3): the Keras that wrote it loads it.
        loaders.reverse()
    for load in loaders:
        try:
            with captured_stderr():
                return load(path)
        except Exception as e:  # not a file this Keras reads: try the other
            errors.append(f"{load.__doc__}: {e}")
    raise ConversionError(f"cannot load a Keras model from '{path}': " + "; ".join(errors))


def _load_keras3(path: str) -> Any:
    """Keras 3"""
    import keras

    return keras.saving.load_model(path, compile=False)


def _load_tf_keras(path: str) -> Any:
    """tf_keras"""
    import tf_keras

    return tf_keras.models.load_model(path, compile=False)


def _written_by_keras2(path: str) -> bool:
    """An HDF5 model file whose keras_version attribute says Keras 2 (or older) wrote it."""
    if not path.endswith((".h5", ".hdf5")):
        return False
    try:
        import h5py

        with h5py.File(path, "r") as f:
            version = f.attrs.get("keras_version", b"")
    except Exception:  # not HDF5 after all: the loaders say what is wrong with it
        return False
    version = version.decode() if isinstance(version, bytes) else str(version)
    return not version.startswith("3")


def _representative(data: RepresentativeData, rebuilt: Rebuilt, batch_size: int) -> list[np.ndarray]:
    """The samples of representative_data, one array per input in the Keras model's order:
    given as one array (single-input models), a list (in the Keras model's input order) or a
    dict by input name of arrays, batch axis first, or a callable that yields batches so."""
    copy = rebuilt.model
    names = rebuilt.input_names
    if callable(data):
        batches = []
        for batch in data():
            batches.append(_by_input(batch, names))
            if sum(len(b[0]) for b in batches) >= 16 * batch_size:  # enough to verify with
                break
        if not batches:
            raise ConversionError("representative_data yields no batches")
        arrays = [np.concatenate([b[i] for b in batches]) for i in range(len(names))]
    else:
        arrays = _by_input(data, names)
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
    return samples


def _by_input(data: Any, names: list[str]) -> list[Any]:
    if isinstance(data, dict):
        unknown = sorted(set(data) - set(names))
        if unknown or len(data) != len(names):
            raise ConversionError(f"representative_data has inputs {sorted(data)}; the model's inputs are {names}")
        return [data[n] for n in names]
    if len(names) > 1:
        if not isinstance(data, (list, tuple)) or len(data) != len(names):
            raise ConversionError(
                f"the model has {len(names)} inputs {names}: give representative_data as a "
                "list of arrays in that order, or a dict by input name"
            )
        return list(data)
    return [data]


def _batches(samples: list[np.ndarray], names: list[str], batch_size: int) -> Callable[[], Iterator[dict[str, Any]]]:
    """Calibration batches by input name: TensorFlow's calibrator feeds a list in the order of
    the float model's inputs, which is not the Keras model's (see lstm_flatbuffer.order_io)."""
    count = min(len(a) for a in samples)

    def batches() -> Iterator[dict[str, Any]]:
        for i in range(0, count - batch_size + 1, batch_size):
            yield {n: a[i : i + batch_size] for n, a in zip(names, samples, strict=True)}

    return batches


def _named(data: Callable[[], Iterable[Any]], names: list[str]) -> Callable[[], Iterator[dict[str, Any]]]:
    """A user's batch generator, its batches (in the Keras model's input order) by input name."""

    def batches() -> Iterator[dict[str, Any]]:
        for batch in data():
            yield dict(zip(names, _by_input(batch, names), strict=True))

    return batches


def check_converted(data: bytes, rebuilt: Rebuilt, mode: str) -> Model:
    """The converted model has one fused op per LSTM and fused GRU (direction and call), nothing
    unfused or outside TFLite's builtin ops and tflstm's own, and the linked runtime can run every
    (op, version) in it."""
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
    fused = (GRU_OP, LSTM_OP, RNN_OP)
    gru_ops = count_gru_ops(data, fused) if any(n in names for n in fused) else 0
    if gru_ops != rebuilt.gru_ops:
        raise ConversionError(
            f"'{name}' has {rebuilt.gru_ops} directions of tflstm's fused GRU or LSTM or TFLite's fused SimpleRNN "
            f"but the converted model has {gru_ops} {GRU_OP}, {LSTM_OP} and {RNN_OP} ops"
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
    timesteps: Timesteps = None,
    verify: bool = True,
    tolerance: float | None = None,
    portable: bool = False,
) -> bytes:
    """Convert a Keras sequence model (Keras 3 or tf_keras, functional, Sequential or
    subclassed, or the path of a saved one: see load_keras) to TFLite bytes.

    mode: ``float32``; ``dynamic`` (dynamic-range: int8 weights, float activations);
    ``int8`` (full integer; needs ``representative_data``: input samples, batch axis first, a
    few hundred are plenty; ``int8_io`` makes the model's inputs and outputs int8 too);
    ``float16`` (float16 weights, float32 compute).
    The model is rebuilt with a fixed ``batch_size`` so that each LSTM becomes one fused op.
    Each GRU (and Bidirectional GRU) becomes tflstm's fused GRU, the custom op ``TFLSTM_GRU``
    (float32, float16 weights, or int8 weights in mode dynamic; any sequence length): such a
    model runs on tflstm's runtime only (``tflstm inspect`` says so). ``portable=True`` keeps
    every GRU in stock TFLite's builtin ops (unrolled over a fixed length, or TensorFlow's own
    form), so that stock TFLite and tf.lite run the file. Mode int8 has no fused GRU: its GRUs
    are converted as with ``portable=True``. A GRU whose activation the fused op does not
    compute is converted so too. A GRU called with ``initial_state`` from other layers (a
    decoder started from its encoder's ``return_state``) takes that state as an input of its op
    and starts every call from it (the converted model keeps no state of its own for it);
    ``return_state=True`` gives its final state as an extra output. So does an LSTM (any gates):
    called with ``initial_state=[h, c]`` or with ``return_state=True`` it becomes tflstm's
    ``TFLSTM_LSTM`` (version 2: TFLite's fused LSTM keeps its states in its own variables), and
    with ``portable=True`` or in mode int8 builtin ops unrolled over a fixed length. A
    Bidirectional GRU or LSTM so called is unrolled; its return_state is refused. An
    LSTM whose gates TFLite's fused LSTM cannot compute (Keras 2's default hard_sigmoid, Keras 3's,
    or a cell activation such as hard_sigmoid) becomes tflstm's ``TFLSTM_LSTM`` (float32, float16,
    dynamic; any length), and with ``portable=True`` or in mode int8 builtin ops unrolled over a
    fixed length. A Keras mask (Masking, Embedding(mask_zero=True)) that reaches a fused GRU
    or an LSTM (float32, float16, dynamic: every LSTM it reaches becomes ``TFLSTM_LSTM``
    version 3, as TFLite's fused LSTM takes no mask) becomes an input of its op (padded
    batches: convert at their ``batch_size``); one that reaches a SimpleRNN, or a GRU or LSTM
    with ``portable=True`` or in mode int8, is refused, naming the layer.
    Each SimpleRNN (and ``RNN(SimpleRNNCell)``, ``Bidirectional(SimpleRNN)``) whose activation is
    tanh, relu, relu6 or linear becomes stock TFLite's ``UNIDIRECTIONAL_SEQUENCE_RNN``, one per
    direction and call, in float32, float16 and dynamic (int8 weights: TFLite's hybrid kernel),
    with ``portable=True`` too, as stock TFLite and tf.lite run it: any sequence length, its state
    a variable a ``Stream`` carries (so ``stateful=True`` converts). In mode int8, with another
    activation (sigmoid: the flatbuffer cannot name it) or given ``initial_state`` it is unrolled
    over a fixed length; its ``return_state`` is refused. ``RNN(StackedRNNCells([...]))``
    converts as the stack of the layers its cells are.
    ``timesteps`` sets the sequence length the model is converted for (default: the model's own):
    each input's first free axis (a (None,) token input, a spectrogram's free time axis), or
    the first axis of a fixed-length sequence; a dict {input name: N} sets it per input.
    ``timesteps=1`` exports the step model that streaming feeds one step at a time. The
    runtime can still run other lengths and batch sizes of a fused model: it resizes on a
    shape change.
    Several inputs take representative_data as a list of arrays (in the Keras model's input
    order) or a dict by input name; the converted model's positional inputs and outputs are in
    the Keras model's order too.
    With ``verify`` (the default), the converted model is run on tflstm's runtime against the
    Keras model (on representative_data when given, in any mode, and on inputs that drive its
    states large): a model that differs from it past ``tolerance`` (relative to the output's
    scale; default the mode's: float32 1e-3, float16 1e-2, dynamic 5e-2, int8 0.25) is refused
    with MismatchError, which says by how much, where, and what to do instead; see
    tflstm.verification.
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
    if tolerance is not None and not tolerance >= 0:
        raise ConversionError(f"tolerance must be 0 or more (relative to the output scale), got {tolerance!r}")
    for n in timesteps.values() if isinstance(timesteps, Mapping) else [timesteps]:
        if n is not None and (not isinstance(n, (int, np.integer)) or n < 1):
            raise ConversionError(f"timesteps must be at least 1, got {n!r}")
    tf = tensorflow()
    if isinstance(model, (str, os.PathLike)):
        model = load_keras(model)
    # (TFLite's fused SimpleRNN is a stock op: portable conversions have it too.)
    fused = mode in GRU_WEIGHTS
    rebuilt = rebuild(model, batch_size, timesteps, fuse_grus=fused and not portable, fuse_rnns=fused)
    if mode == "int8" and rebuilt.activations:
        names = ", ".join(f"'{a.layer}' ({a.activation})" for a in rebuilt.activations)
        raise UnsupportedLayerError(
            f"LSTM layers {names} use a cell activation other than tanh: TFLite's "
            "full-integer LSTM kernel computes tanh only; convert them in mode "
            "float32, dynamic or float16"
        )
    samples = None if representative_data is None else _representative(representative_data, rebuilt, batch_size)
    data = _tflite(tf, model.name, rebuilt, mode, representative_data, samples, int8_io, batch_size)
    if rebuilt.grus:
        try:
            data = emit(data, rebuilt.grus, GRU_WEIGHTS[mode])
        except ValueError as e:  # TensorFlow's converter wrote a placeholder otherwise than expected
            raise ConversionError(str(e)) from e
    data = set_cell_activations(data, rebuilt.activations)
    data = fix_fused_lstms(data)
    if mode == "dynamic":
        data, _ = quantize_lstm_weights(data)  # the converter leaves fused LSTM weights in float32
    if mode == "int8":
        _refuse_int8_cell_states(data, rebuilt)
        assert samples is not None
        data = widen_cell_scales(data, rebuilt.lstms, cell_state_peaks(rebuilt, samples))
        data = requantize_lstm_outputs(data)
    data = order_io(data, rebuilt.input_names, rebuilt.output_names)
    data = note_unfused(data, rebuilt.unfused)
    check_converted(data, rebuilt, mode)
    if verify:
        verify_converted(data, model, rebuilt, mode, samples, batch_size, tolerance)
    return data


def _tflite(
    tf: Any,
    name: str,
    rebuilt: Rebuilt,
    mode: str,
    data: RepresentativeData | None,
    samples: list[np.ndarray] | None,
    int8_io: bool,
    batch_size: int,
) -> bytes:
    """TensorFlow's converter on the rebuilt model, in `mode`."""
    converter = tf.lite.TFLiteConverter.from_keras_model(rebuilt.model)
    if mode != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif mode == "int8":
        assert samples is not None
        names = rebuilt.input_names
        batches = _named(data, names) if callable(data) else _batches(samples, names, batch_size)
        converter.representative_dataset = batches
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if int8_io:
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
        # The float model is calibrated on TFLite's interpreter before it is quantized: without
        # the cell clip the converter writes (see fix_fused_lstms), so that the int16 cell state
        # is scaled for the range the cell really reaches.
        quantize = converter._quantize
        converter._quantize = lambda model, *args: quantize(fix_fused_lstms(bytes(model)), *args)
    elif mode == "dynamic":
        # Per-channel dense quantization emits FULLY_CONNECTED version 12: tflstm runs it, a stock
        # TFLite 2.14 interpreter does not; per-tensor gives version 9, which both run.
        converter._experimental_disable_per_channel_quantization_for_dense_layers = True
    with captured_stderr() as log:
        try:
            return bytes(converter.convert())
        except Exception as e:  # the converter raises many types; all mean the same to the user
            detail = log.tail()
            raise ConversionError(
                f"TensorFlow {tf.__version__} could not convert '{name}' in mode {mode}: "
                f"{e}" + (f"\nconverter log:\n{detail}" if detail else "")
            ) from e


def _refuse_int8_cell_states(data: bytes, rebuilt: Rebuilt) -> None:
    layers = int8_cell_states(data, rebuilt.lstms)
    if layers:
        raise UnsupportedLayerError(
            f"LSTM layer{'s' if len(layers) > 1 else ''} {', '.join(repr(n) for n in layers)}: TensorFlow's int8 "
            "quantizer gives {} cell state int8 (it does when the output of the LSTM before it also feeds "
            "another layer), and TFLite's integer LSTM kernel needs it int16. Convert this model in mode "
            "dynamic or float16".format("their" if len(layers) > 1 else "its")
        )
