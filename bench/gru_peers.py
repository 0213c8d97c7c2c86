"""tflstm's fused GRU (the TFLSTM_GRU custom op) against its peers, in one process, interleaved:
tflstm on its fused op (as fuse_gru.gru_model writes it, and as tflstm.convert emits it for the
Keras model), tflstm on the portable conversion (convert(..., portable=True): the GRU unrolled
into builtin ops), tf.lite.Interpreter and ai-edge-litert on the converter's model, and ONNX
Runtime's GRU op built with onnx.helper from the same weights. Batch 1, 1 thread; a full
sequence per call (state reset) and a streaming step (one time step per call, state carried;
the converter's unrolled GRU carries none, its step is timed from a zero state).
--mode dynamic: the fused GRU with int8 weights (its hybrid kernel) and the converter's model with
dynamic-range quantization; ONNX Runtime's dynamic quantization has no GRU, so it runs float32.
Not a test: the figures depend on the machine. Shares its measurement with lstm_peers.py.

    python bench/gru_peers.py [--rounds 15] [--calls 200] [--mode float32|dynamic]
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
from lstm_peers import measure, ort_session, table, tflite_call
from tflstm import convert
from tflstm.fuse_gru import gru_model


def keras_gru(units: int, timesteps: int | None, features: int, weights=None, return_sequences=False):
    import tf_keras as keras

    model = keras.Sequential(
        [keras.Input((timesteps, features), batch_size=1), keras.layers.GRU(units, return_sequences=return_sequences)]
    )
    if weights is not None:
        model.set_weights(weights)
    return model


def onnx_gru(layer, timesteps: int, features: int, stateful: bool) -> bytes:
    """The Keras GRU (reset_after) as one ONNX GRU node (gates z, r, h in Keras's order;
    linear_before_reset=1 is reset_after); the last step's h as output, with `stateful` the
    initial h an input and the final h an output."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    kernel, recurrent, bias = layer.get_weights()
    units = recurrent.shape[0]
    inits = [
        numpy_helper.from_array(kernel.T[None].astype(np.float32), "W"),
        numpy_helper.from_array(recurrent.T[None].astype(np.float32), "R"),
        numpy_helper.from_array(bias.reshape(1, -1).astype(np.float32), "B"),  # [input bias | recurrent bias]
    ]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, timesteps, features])]
    nodes = [helper.make_node("Transpose", ["x"], ["x_tbf"], perm=[1, 0, 2])]
    state = ["", "h0"] if stateful else []
    if stateful:
        inputs.append(helper.make_tensor_value_info("h0", TensorProto.FLOAT, [1, 1, units]))
    nodes.append(
        helper.make_node(
            "GRU", ["x_tbf", "W", "R", "B", *state], ["y", "h_n"], hidden_size=units, linear_before_reset=1
        )
    )
    inits.append(numpy_helper.from_array(np.array([0], np.int64), "axis0"))
    nodes.append(helper.make_node("Squeeze", ["h_n", "axis0"], ["h"]))  # [1, B, H] -> [B, H]
    outputs = [helper.make_tensor_value_info("h", TensorProto.FLOAT, [1, units])]
    if stateful:
        outputs.append(helper.make_tensor_value_info("h_n", TensorProto.FLOAT, [1, 1, units]))
    model = helper.make_model(
        helper.make_graph(nodes, "gru", inputs, outputs, inits), opset_imports=[helper.make_opsetid("", 17)]
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def peers(units: int, timesteps: int, features: int, x: np.ndarray, step_x: np.ndarray, mode: str):
    import ai_edge_litert.interpreter as litert
    import tensorflow as tf

    model = keras_gru(units, timesteps, features)
    step_model = keras_gru(units, 1, features, model.get_weights())
    layer, step_layer = model.layers[-1], step_model.layers[-1]
    full, step = convert(model, mode, portable=True), convert(step_model, mode, portable=True)
    emitted = convert(model, mode)  # the converter's fused GRU, any length
    q = mode == "dynamic"
    fused, fused_step = gru_model(layer, 1, timesteps, quantize=q), gru_model(step_layer, 1, 1, quantize=q)
    calls = {}
    r, s = tflstm.Runner(tflstm.Model(fused)), tflstm.Runner(tflstm.Model(fused_step)).stream()
    calls["tflstm (fused GRU)"] = ((lambda: r(x)), (lambda: s(step_x)))
    r3 = tflstm.Runner(tflstm.Model(emitted))
    s3 = tflstm.Runner(tflstm.Model(emitted)).stream()
    calls["tflstm (convert, fused GRU)"] = ((lambda: r3(x)), (lambda: s3(step_x)))
    # The converter's GRU keeps no state between invokes (the unrolled form has no variable), so
    # its "streaming step" is one step from a zero state each call: the same work, for the timing.
    r2, s2 = tflstm.Runner(tflstm.Model(full)), tflstm.Runner(tflstm.Model(step))
    calls["tflstm (portable: unrolled GRU)"] = ((lambda: r2(x)), (lambda: s2(step_x)))
    for name, cls in (("tf.lite.Interpreter", tf.lite.Interpreter), ("ai-edge-litert", litert.Interpreter)):
        calls[name] = (tflite_call(cls, full, x, reset=True), tflite_call(cls, step, step_x, reset=False))
    seq = ort_session(onnx_gru(layer, timesteps, features, stateful=False))
    one = ort_session(onnx_gru(layer, 1, features, stateful=True))
    h = {"h0": np.zeros((1, 1, units), np.float32)}

    def ort_step() -> np.ndarray:
        out, h["h0"] = one.run(None, {"x": step_x, **h})
        return out

    calls["onnxruntime"] = ((lambda: seq.run(None, {"x": x})[0]), ort_step)
    return calls, model.predict(x, verbose=0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--calls", type=int, default=200, help="calls per round and peer")
    p.add_argument("--mode", choices=("float32", "dynamic"), default="float32")
    args = p.parse_args()
    import onnxruntime
    import tensorflow as tf

    print(
        f"tflstm {tflstm.__version__} (TFLite {tflstm.TFLITE_VERSION}, {tflstm.ISA}), TensorFlow {tf.__version__}, "
        f"onnxruntime {onnxruntime.__version__}; {args.mode}, batch 1, 1 thread, median of {args.rounds} rounds x "
        f"{args.calls} calls"
    )
    rng = np.random.default_rng(0)
    for units, timesteps in ((64, 100), (128, 200)):
        x = rng.normal(size=(1, timesteps, 6)).astype(np.float32)
        calls, reference = peers(units, timesteps, 6, x, x[:, :1], args.mode)
        tolerance = 1e-4 if args.mode == "float32" else 0.1  # quantized: the quantization's error
        for name, (full, _) in calls.items():  # every peer computes the same function
            err = float(np.max(np.abs(np.asarray(full()).reshape(reference.shape) - reference)))
            if err > tolerance:
                raise SystemExit(f"{name} differs from Keras by {err:g}")
        print()
        print(
            table(f"GRU({units}) x {timesteps} steps x 6 features (last h):", measure(calls, args.rounds, args.calls))
        )


if __name__ == "__main__":
    main()
