"""tflstm's LSTM kernel against its peers, in one process, interleaved: tflstm (its own kernel),
tflstm with TFLite's builtin kernel (lstm_kernel="tflite"), tf.lite.Interpreter, ai-edge-litert
and ONNX Runtime on an ONNX LSTM built with onnx.helper from the same weights. Batch 1, 1 thread;
a full sequence per call (state reset, as tflstm's Runner does) and a streaming step (one time
step per call, state carried). --mode int8 converts the TFLite models to full integer (float
input and output, a representative dataset): ONNX Runtime then still runs float32. --mode dynamic
converts them with dynamic-range quantization (int8 weights, float activations) and runs ONNX
Runtime's dynamic-quantized LSTM (onnxruntime.quantization.quantize_dynamic) against them. Not a
test: the figures depend on the machine.

    python bench/lstm_peers.py [--rounds 15] [--calls 200] [--epochs 10] [--mode float32|dynamic|int8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

import tflstm
from tflstm import convert, datasets, training


def tflite_call(interpreter_cls, data: bytes, x: np.ndarray, reset: bool) -> Callable[[], np.ndarray]:
    interp = interpreter_cls(model_content=data, num_threads=1)
    interp.allocate_tensors()
    i, o = interp.get_input_details()[0]["index"], interp.get_output_details()[0]["index"]

    def run() -> np.ndarray:
        if reset:
            interp.reset_all_variables()  # the stateless run that tflstm's Runner does
        interp.set_tensor(i, x)
        interp.invoke()
        return interp.get_tensor(o)

    return run


def onnx_model(keras_model, timesteps: int, features: int, stateful: bool) -> bytes:
    """The Keras model as ONNX: one LSTM node per layer (gates i, o, f, c), Gemm + Softmax head.
    With `stateful`, every layer's initial and final h and c are graph inputs and outputs."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits, inputs, outputs = [], [], [], []
    inputs.append(helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, timesteps, features]))
    nodes.append(helper.make_node("Transpose", ["x"], ["x_tbf"], perm=[1, 0, 2]))  # ONNX LSTM is time-major
    seq = "x_tbf"
    lstms = [layer for layer in keras_model.layers if type(layer).__name__ == "LSTM"]
    dense = [layer for layer in keras_model.layers if type(layer).__name__ == "Dense"]

    def reorder(w: np.ndarray) -> np.ndarray:  # Keras i, f, c, o -> ONNX i, o, f, c (last axis)
        i, f, c, o = np.split(w, 4, axis=-1)
        return np.concatenate([i, o, f, c], axis=-1)

    for n, layer in enumerate(lstms):
        kernel, recurrent, bias = layer.get_weights()
        units = recurrent.shape[0]
        inits += [
            numpy_helper.from_array(reorder(kernel).T[None].astype(np.float32), f"W{n}"),
            numpy_helper.from_array(reorder(recurrent).T[None].astype(np.float32), f"R{n}"),
            numpy_helper.from_array(
                np.concatenate([reorder(bias), np.zeros_like(bias)])[None].astype(np.float32), f"B{n}"
            ),
        ]
        state_in = ["", f"h{n}", f"c{n}"] if stateful else []  # sequence_lens, initial_h, initial_c
        if stateful:
            for s in ("h", "c"):
                inputs.append(helper.make_tensor_value_info(f"{s}{n}", TensorProto.FLOAT, [1, 1, units]))
                outputs.append(helper.make_tensor_value_info(f"{s}{n}_out", TensorProto.FLOAT, [1, 1, units]))
        nodes.append(
            helper.make_node(
                "LSTM",
                [seq, f"W{n}", f"R{n}", f"B{n}", *state_in],
                [f"y{n}", f"y{n}_h", f"y{n}_c"] if not stateful else [f"y{n}", f"h{n}_out", f"c{n}_out"],
                hidden_size=units,
            )
        )
        inits.append(numpy_helper.from_array(np.array([1], np.int64), f"axis1_{n}"))
        nodes.append(helper.make_node("Squeeze", [f"y{n}", f"axis1_{n}"], [f"seq{n}"]))  # [T, 1, B, H] -> [T, B, H]
        seq = f"seq{n}"
    inits.append(numpy_helper.from_array(np.array([-1], np.int64), "last"))
    inits.append(numpy_helper.from_array(np.array([timesteps], np.int64), "end"))
    inits.append(numpy_helper.from_array(np.array([0], np.int64), "axis0"))
    nodes.append(helper.make_node("Slice", [seq, "last", "end", "axis0"], ["h_last3"]))
    nodes.append(helper.make_node("Squeeze", ["h_last3", "axis0"], ["h_last"]))
    h = "h_last"
    for n, layer in enumerate(dense):
        w, b = layer.get_weights()
        inits += [
            numpy_helper.from_array(w.astype(np.float32), f"D{n}"),
            numpy_helper.from_array(b.astype(np.float32), f"Db{n}"),
        ]
        nodes.append(helper.make_node("Gemm", [h, f"D{n}", f"Db{n}"], [f"d{n}"]))
        h = f"d{n}"
        if layer.get_config()["activation"] == "softmax":
            nodes.append(helper.make_node("Softmax", [h], [f"p{n}"], axis=-1))
            h = f"p{n}"
    outputs.insert(0, helper.make_tensor_value_info(h, TensorProto.FLOAT, [1, dense[-1].units]))
    graph = helper.make_graph(nodes, "lstm", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def ort_dynamic(data: bytes) -> bytes:
    """The ONNX model with ONNX Runtime's dynamic quantization (int8 weights, DynamicQuantizeLSTM)."""
    import tempfile
    from pathlib import Path

    from onnxruntime.quantization import quantize_dynamic

    with tempfile.TemporaryDirectory() as d:
        src, dst = Path(d) / "float.onnx", Path(d) / "dynamic.onnx"
        src.write_bytes(data)
        quantize_dynamic(str(src), str(dst))
        return dst.read_bytes()


def ort_session(data: bytes):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def peers(keras_model, timesteps: int, features: int, x: np.ndarray, step_x: np.ndarray, mode: str, sample):
    """{name: (full-sequence call, streaming-step call)} and the full-sequence outputs."""
    import ai_edge_litert.interpreter as litert
    import tensorflow as tf

    int8 = mode == "int8"
    full = convert(keras_model, mode, sample if int8 else None)
    # The step model: the same layers and weights over one time step. (convert's timesteps=1
    # refuses a tf_keras model whose Input fixes the sequence length.)
    units = [layer.units for layer in keras_model.layers if type(layer).__name__ == "LSTM"]
    step_keras = training.build((1, features), keras_model.output_shape[-1], lstm_units=units)
    step_keras.set_weights(keras_model.get_weights())
    step = convert(step_keras, mode, sample[:, :1] if int8 else None)
    calls = {}
    for name, kernel in (("tflstm", "tflstm"), ("tflstm (TFLite kernel)", "tflite")):
        runner = tflstm.Runner(tflstm.Model(full), lstm_kernel=kernel)
        stream = tflstm.Runner(tflstm.Model(step), lstm_kernel=kernel).stream()
        calls[name] = ((lambda r=runner: r(x)), (lambda s=stream: s(step_x)))
    for name, cls in (("tf.lite.Interpreter", tf.lite.Interpreter), ("ai-edge-litert", litert.Interpreter)):
        calls[name] = (tflite_call(cls, full, x, reset=True), tflite_call(cls, step, step_x, reset=False))
    ort_model = ort_dynamic if mode == "dynamic" else (lambda data: data)
    seq = ort_session(ort_model(onnx_model(keras_model, timesteps, features, stateful=False)))
    one = ort_session(ort_model(onnx_model(keras_model, 1, features, stateful=True)))
    state = {i.name: np.zeros(i.shape, np.float32) for i in one.get_inputs() if i.name != "x"}
    names = [o.name for o in one.get_outputs()]

    def ort_step() -> np.ndarray:
        out = one.run(None, {"x": step_x, **state})
        for name, value in zip(names[1:], out[1:], strict=True):
            state[name.removesuffix("_out")] = value
        return out[0]

    ort_name = {"int8": "onnxruntime (float32)", "dynamic": "onnxruntime (dynamic-quantized)"}.get(mode, "onnxruntime")
    calls[ort_name] = ((lambda: seq.run(None, {"x": x})[0]), ort_step)
    return calls


def measure(calls, rounds: int, n: int) -> dict[str, tuple[float, ...]]:
    """Median microseconds per call of each of a peer's calls (here: full sequence and streaming
    step), interleaving the peers round by round so that they share the machine's state
    (frequency, other load)."""
    samples: dict[str, list[list[float]]] = {name: [[] for _ in fns] for name, fns in calls.items()}
    for fns in calls.values():
        for _ in range(20):
            for fn in fns:
                fn()
    for _ in range(rounds):
        for name, fns in calls.items():
            for k, fn in enumerate(fns):
                t0 = time.perf_counter_ns()
                for _ in range(n):
                    fn()
                samples[name][k].append((time.perf_counter_ns() - t0) / n / 1000)
    return {name: tuple(statistics.median(s) for s in per_call) for name, per_call in samples.items()}


def measure_full_sequences(calls, what: str, rounds: int, n: int) -> None:
    """Measures each peer's one full-sequence call (measure) and prints `what` with the load
    average before, a table of the medians and their ratios to the best, and the load after."""
    print(f"{what}, median of {rounds} rounds x {n} calls; load average before {os.getloadavg()}")
    results = measure(calls, rounds, n)
    best = min(r[0] for r in results.values())
    print("| runtime, model | full sequence (us) | x best |\n|---|---|---|")
    for name, (full,) in results.items():
        print(f"| {name} | {full:.1f} | {full / best:.2f} |")
    print(f"load average after {os.getloadavg()}")


def table(title: str, results: dict[str, tuple[float, ...]]) -> str:
    best = [min(r[k] for r in results.values()) for k in (0, 1)]
    lines = [title, "| runtime | full sequence (us) | x best | streaming step (us) | x best |", "|---|---|---|---|---|"]
    for name, (full, step) in results.items():
        lines.append(f"| {name} | {full:.1f} | {full / best[0]:.2f} | {step:.2f} | {step / best[1]:.2f} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--calls", type=int, default=200, help="calls per round and peer")
    p.add_argument("--epochs", type=int, default=10, help="training epochs of the BasicMotions model")
    modes = ("float32", "dynamic", "int8")
    p.add_argument("--mode", choices=modes, default="float32", help="the TFLite models' conversion")
    args = p.parse_args()
    import onnxruntime
    import tensorflow as tf

    print(
        f"tflstm {tflstm.__version__} (TFLite {tflstm.TFLITE_VERSION}, {tflstm.ISA}), TensorFlow {tf.__version__}, "
        f"onnxruntime {onnxruntime.__version__}; {args.mode}, batch 1, 1 thread, median of {args.rounds} rounds x "
        f"{args.calls} calls"
    )
    data = datasets.basic_motions()
    basic = training.train(data.x_train, data.y_train, lstm_units=(64,), epochs=args.epochs, verbose=0)
    wide = training.build((200, 6), 4, lstm_units=(128, 128), seed=1)
    rng = np.random.default_rng(0)
    cases = [
        ("BasicMotions LSTM(64) x 100 steps x 6 features + Dense(4)", basic, 100, data.x_test[:1], data.x_train),
        (
            "2 x LSTM(128) x 200 steps x 6 features + Dense(4)",
            wide,
            200,
            rng.normal(size=(1, 200, 6)).astype(np.float32),
            rng.normal(size=(64, 200, 6)).astype(np.float32),
        ),
    ]
    for title, model, timesteps, x, sample in cases:
        x = np.ascontiguousarray(x, np.float32)
        calls = peers(model, timesteps, 6, x, x[:, :1], args.mode, np.asarray(sample, np.float32))
        reference = model.predict(x, verbose=0)
        tolerance = 1e-4 if args.mode == "float32" else 0.1  # quantized: the quantization's error
        for name, (full, _) in calls.items():  # every peer computes the same function
            err = float(np.max(np.abs(full() - reference)))
            if err > tolerance:
                raise SystemExit(f"{name} differs from Keras by {err:g} on {title}")
        if args.mode == "int8" and not np.array_equal(calls["tflstm"][0](), calls["tflstm (TFLite kernel)"][0]()):
            raise SystemExit(f"tflstm's int8 kernel differs from TFLite's on {title}")
        print()
        print(table(f"{title}:", measure(calls, args.rounds, args.calls)))


if __name__ == "__main__":
    main()
