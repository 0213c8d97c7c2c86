"""A Keras SimpleRNN as tflstm.convert writes it (stock TFLite's fused UNIDIRECTIONAL_SEQUENCE_RNN)
against its peers, in one process, interleaved: tflstm's runtime on that file (its fused float
kernel), tf.lite.Interpreter and ai-edge-litert on the same file (TFLite's kernel), the form
convert wrote before (the SimpleRNN unrolled into builtin ops over the fixed length, as tf_keras's
unroll=True gives it to TensorFlow's converter) on tflstm and on tf.lite, and ONNX Runtime's RNN op
built with onnx.helper from the same weights. Batch 1, 1 thread, a full sequence per call (state
reset), the last h as output. Not a test: the figures depend on the machine.

    python bench/simple_rnn_peers.py [--rounds 9] [--calls 100] [--units 64] [--steps 100]
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tflstm
from lstm_peers import measure_full_sequences, ort_session, tflite_call

FEATURES = 6


def keras_rnn(units: int, timesteps: int, unroll: bool, weights=None):
    import tf_keras as keras

    model = keras.Sequential(
        [keras.Input((timesteps, FEATURES), batch_size=1), keras.layers.SimpleRNN(units, unroll=unroll)]
    )
    if weights is not None:
        model.set_weights(weights)
    return model


def unrolled(model) -> bytes:
    """The SimpleRNN unrolled into builtin ops by TensorFlow's converter (convert's former form)."""
    import tensorflow as tf

    return bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())


def onnx_rnn(layer, timesteps: int) -> bytes:
    """The Keras SimpleRNN as one ONNX RNN node (tanh), the last step's h as output."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    kernel, recurrent, bias = layer.get_weights()
    units = recurrent.shape[0]
    inits = [
        numpy_helper.from_array(kernel.T[None].astype(np.float32), "W"),
        numpy_helper.from_array(recurrent.T[None].astype(np.float32), "R"),
        numpy_helper.from_array(np.concatenate([bias, np.zeros_like(bias)])[None].astype(np.float32), "B"),
        numpy_helper.from_array(np.array([0], np.int64), "axis0"),
    ]
    nodes = [
        helper.make_node("Transpose", ["x"], ["x_tbf"], perm=[1, 0, 2]),
        helper.make_node("RNN", ["x_tbf", "W", "R", "B"], ["y", "h_n"], hidden_size=units, activations=["Tanh"]),
        helper.make_node("Squeeze", ["h_n", "axis0"], ["h"]),
    ]
    graph = helper.make_graph(
        nodes,
        "simple_rnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, timesteps, FEATURES])],
        [helper.make_tensor_value_info("h", TensorProto.FLOAT, [1, units])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--calls", type=int, default=100, help="calls per round and peer")
    p.add_argument("--units", type=int, default=64)
    p.add_argument("--steps", type=int, default=100)
    args = p.parse_args()
    import ai_edge_litert.interpreter as litert
    import onnxruntime
    import tensorflow as tf

    units, steps = args.units, args.steps
    model = keras_rnn(units, steps, unroll=False)
    fused = tflstm.convert(model, "float32")
    old = unrolled(keras_rnn(units, steps, unroll=True, weights=model.get_weights()))
    x = np.random.default_rng(0).normal(size=(1, steps, FEATURES)).astype(np.float32)
    r_fused, r_old = tflstm.Runner(tflstm.Model(fused)), tflstm.Runner(tflstm.Model(old))
    session = ort_session(onnx_rnn(model.layers[-1], steps))
    calls = {
        "tflstm, fused UNIDIRECTIONAL_SEQUENCE_RNN": (lambda: r_fused(x),),
        "tf.lite.Interpreter, the same file": (tflite_call(tf.lite.Interpreter, fused, x, reset=True),),
        "ai-edge-litert, the same file": (tflite_call(litert.Interpreter, fused, x, reset=True),),
        "tflstm, unrolled (convert's former form)": (lambda: r_old(x),),
        "tf.lite.Interpreter, unrolled": (tflite_call(tf.lite.Interpreter, old, x, reset=True),),
        "onnxruntime, RNN op": (lambda: session.run(None, {"x": x})[0],),
    }
    reference = model.predict(x, verbose=0)
    for name, (full,) in calls.items():  # every peer computes the same function
        err = float(np.max(np.abs(np.asarray(full()).reshape(reference.shape) - reference)))
        if err > 1e-4:
            raise SystemExit(f"{name} differs from Keras by {err:g}")
    print(
        f"tflstm {tflstm.__version__} (TFLite {tflstm.TFLITE_VERSION}, {tflstm.ISA}), TensorFlow {tf.__version__}, "
        f"onnxruntime {onnxruntime.__version__}; float32, batch 1, 1 thread"
    )
    measure_full_sequences(
        calls, f"SimpleRNN({units}) x {steps} steps x {FEATURES} features (last h)", args.rounds, args.calls
    )


if __name__ == "__main__":
    main()
