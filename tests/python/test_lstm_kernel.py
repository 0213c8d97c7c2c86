"""tflstm's own LSTM kernel (Runner's default) against tf.lite.Interpreter (TF 2.21) and against
TFLite's builtin kernel inside tflstm (lstm_kernel="tflite"), on a converted Keras classifier
with two stacked LSTMs: full sequences, and a stream carrying its state step by step."""

from __future__ import annotations

import numpy as np
import pytest

import tf_models as zoo
import tflstm
from tf_models import FEATURES, TIMESTEPS, reference_interpreter, reference_run

TOLERANCE = 1e-5
HYBRID_TOLERANCE = 2e-3  # see the hybrid test


def _worst(ours, builtin, ref, rng) -> tuple[float, float]:
    """The largest differences of `ours` from tf.lite.Interpreter and from the builtin kernel."""
    worst_tf = worst_builtin = 0.0
    for _ in range(8):
        x = rng.normal(scale=2.0, size=(1, TIMESTEPS, FEATURES)).astype(np.float32)
        y = ours(x)
        worst_tf = max(worst_tf, float(np.max(np.abs(y - reference_run(ref, x)))))
        worst_builtin = max(worst_builtin, float(np.max(np.abs(y - builtin(x)))))
    return worst_tf, worst_builtin


@pytest.mark.parametrize("mode", ["float32", "float16"])
def test_own_kernel_matches_tensorflow_and_the_builtin_kernel(converted, rng, mode):
    data = converted(mode)
    ours = tflstm.Runner(tflstm.Model(data))
    builtin = tflstm.Runner(tflstm.Model(data), lstm_kernel="tflite")
    ref = reference_interpreter(data)
    worst_tf, worst_builtin = _worst(ours, builtin, ref, rng)
    assert worst_tf <= TOLERANCE, f"{mode}: {worst_tf:g} from tf.lite.Interpreter"
    assert worst_builtin <= TOLERANCE, f"{mode}: {worst_builtin:g} from TFLite's kernel"


def test_stream_carries_state_like_tensorflow(rng):
    keras = zoo.keras3()
    keras.utils.set_random_seed(6)
    model = keras.Sequential(
        [
            keras.Input((TIMESTEPS, FEATURES)),
            keras.layers.LSTM(16, return_sequences=True),
            keras.layers.LSTM(24),
            keras.layers.Dense(4),
        ]
    )
    step = tflstm.convert(model, "float32", timesteps=1)
    stream = tflstm.Runner(tflstm.Model(step)).stream()
    ref = reference_interpreter(step)  # never reset: its variables carry the state
    i, o = ref.get_input_details()[0]["index"], ref.get_output_details()[0]["index"]
    x = rng.normal(size=(1, 3 * TIMESTEPS, FEATURES)).astype(np.float32)
    worst = 0.0
    for t in range(x.shape[1]):
        ref.set_tensor(i, x[:, t : t + 1])
        ref.invoke()
        worst = max(worst, float(np.max(np.abs(stream(x[:, t : t + 1]) - ref.get_tensor(o)))))
    assert worst <= TOLERANCE, f"{worst:g} from tf.lite.Interpreter after {x.shape[1]} steps"


FLOAT_KERNELS = ("avx512", "avx2", "neon", "portable")
INTEGER_KERNELS = ("avx512vnni", "avx2", "neon-dotprod", "neon", "portable")  # after "hybrid-" or "int8-"


@pytest.mark.parametrize(
    ("mode", "family"), [("float32", ""), ("float16", ""), ("dynamic", "hybrid-"), ("int8", "int8-")]
)
def test_runner_names_the_kernel_of_each_lstm(converted, mode, family):
    data = converted(mode)
    kernels = tflstm.Runner(tflstm.Model(data)).lstm_kernels
    assert len(kernels) == 2, kernels  # the classifier's two stacked LSTMs
    isas = INTEGER_KERNELS if family else FLOAT_KERNELS
    assert all(k in [family + isa for isa in isas] for k in kernels), kernels
    assert tflstm.Runner(tflstm.Model(data), lstm_kernel="tflite").lstm_kernels == ["tflite", "tflite"]


def test_unknown_lstm_kernel_is_refused(converted):
    with pytest.raises(tflstm.InputError, match="lstm_kernel must be 'tflstm' or 'tflite'"):
        tflstm.Runner(tflstm.Model(converted("float32")), lstm_kernel="fast")


@pytest.mark.parametrize("mode", ["float32", "int8", "dynamic"])
def test_a_weight_of_the_wrong_shape_is_refused(converted, mode):
    """A recurrent weight cut to half its columns (its buffer cut to match, so that TFLite's
    loader accepts it): the model's validation refuses it with a ModelError that names the
    operator and the tensor, before either kernel prepares, in every mode."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(converted(mode)))
    graph = model.subgraphs[0]
    lstm = next(
        op for op in graph.operators if model.operatorCodes[op.opcodeIndex].builtinCode == 44
    )  # UNIDIRECTIONAL_SEQUENCE_LSTM
    weight = graph.tensors[lstm.inputs[6]]  # recurrent-to-forget weights, [units, units]
    units = int(weight.shape[1])
    weight.shape = np.array([weight.shape[0], units // 2], np.int32)
    buffer = model.buffers[weight.buffer]
    buffer.data = np.asarray(buffer.data)[: buffer.data.size // 2].copy()
    broken = bytes(flatbuffer_utils.convert_object_to_bytearray(model))
    with pytest.raises(
        tflstm.ModelError,
        match=rf"\(UNIDIRECTIONAL_SEQUENCE_LSTM\): input 6 .* has shape \[{units}, {units // 2}\]; a recurrent",
    ):
        tflstm.Runner(tflstm.Model(broken))


def test_own_hybrid_kernel_matches_tensorflow_and_the_builtin_kernel(converted, rng):
    """The dynamic-range model (int8 weights, float activations) runs tflstm's hybrid kernel.
    Its int8 products are exact and its float accumulation follows TFLite's, so it differs from
    TFLite's hybrid kernel only by the activations' rounding (about 1e-7), until such a
    difference moves an element of the re-quantized h across a rounding boundary: then one
    gate moves by max|h| / 127 times a weight, a few 1e-4 at the output."""
    data = converted("dynamic")
    ours = tflstm.Runner(tflstm.Model(data))
    # Only tflstm's own kernels pack weights (the runner accounts for them): the hybrid one ran.
    # TFLite's LSTM kernel packs nothing, so what the builtin runner counts is the other ops'
    # (XNNPACK's Dense) alone.
    builtin = tflstm.Runner(tflstm.Model(data), lstm_kernel="tflite")
    assert set(builtin.lstm_kernels) == {"tflite"}
    assert all(k.startswith("hybrid-") for k in ours.lstm_kernels)
    assert ours.memory.kernel_weights > builtin.memory.kernel_weights
    ref = reference_interpreter(data)
    worst_tf, worst_builtin = _worst(ours, builtin, ref, rng)
    print(f"hybrid: {worst_tf:g} from tf.lite.Interpreter, {worst_builtin:g} from TFLite's kernel")
    assert worst_tf <= HYBRID_TOLERANCE, f"{worst_tf:g} from tf.lite.Interpreter"
    assert worst_builtin <= HYBRID_TOLERANCE, f"{worst_builtin:g} from TFLite's kernel"


# Full-integer models: tflstm's int8 kernel must give TFLite's builtin integer kernel's bits.
INT8_SHAPES = [  # (units, features, timesteps, stacked LSTMs)
    (5, 3, 7, 1),
    (33, 7, 19, 1),
    (64, 6, 40, 1),
    (17, 9, 12, 2),
]


def int8_model(units: int, features: int, timesteps: int, layers: int, seed: int):
    keras = zoo.keras3()
    keras.utils.set_random_seed(seed)
    stack = [keras.Input((timesteps, features))]
    stack += [keras.layers.LSTM(units, return_sequences=True) for _ in range(layers)]
    model = keras.Sequential(stack)
    sample = np.random.default_rng(seed).normal(size=(64, timesteps, features)).astype(np.float32)
    return tflstm.convert(model, "int8", sample, int8_io=True)


@pytest.mark.parametrize(("units", "features", "timesteps", "layers"), INT8_SHAPES)
def test_int8_kernel_is_bit_exact_with_the_builtin_kernel(rng, units, features, timesteps, layers):
    data = int8_model(units, features, timesteps, layers, seed=units)
    ours = tflstm.Runner(tflstm.Model(data))
    builtin = tflstm.Runner(tflstm.Model(data), lstm_kernel="tflite")
    ref = reference_interpreter(data)
    worst_tf = 0
    for _ in range(6):
        x = rng.integers(-128, 128, size=(1, timesteps, features), dtype=np.int8)
        y = ours(x)
        assert y.dtype == np.int8
        assert np.array_equal(y, builtin(x)), "tflstm's int8 kernel differs from TFLite's"
        worst_tf = max(worst_tf, int(np.max(np.abs(y.astype(np.int32) - reference_run(ref, x).astype(np.int32)))))
        assert len(np.unique(y)) > 8  # the outputs really vary
    # TF 2.21's interpreter runs the same integer kernel: at most a step of the int8 scale.
    assert worst_tf <= 1, f"{worst_tf} int8 steps from tf.lite.Interpreter"


def test_int8_stream_is_bit_exact_with_the_builtin_kernel(rng):
    data = int8_model(24, 5, 1, 1, seed=3)  # the step model: one time step per call
    ours = tflstm.Runner(tflstm.Model(data)).stream()
    builtin = tflstm.Runner(tflstm.Model(data), lstm_kernel="tflite").stream()
    for _ in range(30):
        x = rng.integers(-128, 128, size=(1, 1, 5), dtype=np.int8)
        assert np.array_equal(ours(x), builtin(x))


def test_int8_classifier_is_bit_exact_with_the_builtin_kernel(converted, rng):
    data = converted("int8")
    ours = tflstm.Runner(tflstm.Model(data))
    builtin = tflstm.Runner(tflstm.Model(data), lstm_kernel="tflite")
    for _ in range(4):
        x = rng.integers(-128, 128, size=(1, TIMESTEPS, FEATURES), dtype=np.int8)
        assert np.array_equal(ours(x), builtin(x))
