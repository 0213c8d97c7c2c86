"""The ops around the LSTM (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, pooling, SOFTMAX,
BATCH_MATMUL, ADD/MUL, ...) as tflstm runs them, against tf.lite.Interpreter with XNNPACK (its
default) and without (its builtin kernels), ai-edge-litert and ONNX Runtime, on the shapes of
real models: a DS-CNN keyword spotter, a Conv1D audio front end, a Dense stack and an attention
head. One process, interleaved rounds, batch 1, 1 thread, the median of single calls; float32,
or full-integer int8 (float input and output, calibrated on random samples). ONNX Runtime runs
an ONNX model built with onnx.helper from the same Keras weights (float32; --mode int8
quantizes it statically, QDQ, per channel). --profile prints tflstm_benchmark's op profile of
each tflstm model (where the time goes). Not a test: the figures depend on the machine.

    python bench/other_ops.py [--rounds 9] [--calls 200] [--mode float32|int8] [--models ds_cnn,...]
                              [--profile PATH/TO/tflstm_benchmark] [--save DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

import tflstm
from lstm_peers import ort_session, tflite_call

# --- The models (tf_keras, batch 1) -----------------------------------------------------------


def ds_cnn(keras):
    """DS-CNN-S of "Hello Edge" (Zhang et al. 2017): 49 x 10 MFCC, a 10 x 4 stride-2 convolution,
    four depthwise-separable blocks of 64 channels, average pooling, 12 classes."""
    L = keras.layers
    x_in = keras.Input((49, 10, 1), batch_size=1)
    h = L.Conv2D(64, (10, 4), strides=(2, 2), padding="same", use_bias=False)(x_in)
    h = L.ReLU()(L.BatchNormalization()(h))
    for _ in range(4):
        h = L.DepthwiseConv2D((3, 3), padding="same", use_bias=False)(h)
        h = L.ReLU()(L.BatchNormalization()(h))
        h = L.Conv2D(64, (1, 1), use_bias=False)(h)
        h = L.ReLU()(L.BatchNormalization()(h))
    h = L.AveragePooling2D(pool_size=(25, 5))(h)
    h = L.Flatten()(h)
    return keras.Model(x_in, L.Dense(12, activation="softmax")(h), name="ds_cnn")


def conv1d_front(keras):
    """An audio front end: 100 frames x 40 mel bands, three Conv1D layers, max pooling, global
    average pooling, 10 classes (the shape of a CRNN's convolutional half)."""
    L = keras.layers
    x_in = keras.Input((100, 40), batch_size=1)
    h = L.Conv1D(64, 5, padding="same", activation="relu")(x_in)
    h = L.Conv1D(64, 5, strides=2, padding="same", activation="relu")(h)
    h = L.MaxPooling1D(2)(h)
    h = L.Conv1D(128, 3, padding="same", activation="relu")(h)
    h = L.GlobalAveragePooling1D()(h)
    return keras.Model(x_in, L.Dense(10, activation="softmax")(h), name="conv1d_front")


def dense_stack(keras):
    """A Dense 256 -> 512 -> 512 -> 256 -> 10 classifier head."""
    L = keras.layers
    x_in = keras.Input((256,), batch_size=1)
    h = L.Dense(512, activation="relu")(x_in)
    h = L.Dense(512, activation="relu")(h)
    h = L.Dense(256, activation="relu")(h)
    return keras.Model(x_in, L.Dense(10, activation="softmax")(h), name="dense_stack")


def attention_head(keras):
    """A transformer block's attention head over 32 steps x 64 features: self-attention (4 heads
    of 16), residual ADD, a ReLU feed-forward (128), residual ADD, average over time, 10 classes.
    (No layer normalization: its MEAN/RSQRT are not the ops this benchmark is about.)"""
    L = keras.layers
    x_in = keras.Input((32, 64), batch_size=1)
    a = L.MultiHeadAttention(num_heads=4, key_dim=16)(x_in, x_in)
    h = L.Add()([x_in, a])
    f = L.Dense(128, activation="relu")(h)
    f = L.Dense(64)(f)
    h = L.Add()([h, f])
    h = L.GlobalAveragePooling1D()(h)
    return keras.Model(x_in, L.Dense(10, activation="softmax")(h), name="attention_head")


MODELS = {"ds_cnn": ds_cnn, "conv1d_front": conv1d_front, "dense_stack": dense_stack, "attention_head": attention_head}


def randomize_batch_norm(model, rng: np.random.Generator) -> None:
    """Batch norms with the statistics of a trained model rather than the identity (the
    converter folds them into the convolutions either way)."""
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, gamma.shape).astype(np.float32),
                    rng.normal(0, 0.1, beta.shape).astype(np.float32),
                    rng.normal(0, 0.1, mean.shape).astype(np.float32),
                    rng.uniform(0.5, 1.5, var.shape).astype(np.float32),
                ]
            )


def tflite_model(model, mode: str, sample: np.ndarray) -> bytes:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([row[None]] for row in sample)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return bytes(converter.convert())


def prepared(name: str, mode: str):
    """One of MODELS, seeded, with trained-like batch norms: (Keras model, its .tflite in `mode`,
    one input, 128 calibration samples)."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    tf.keras.utils.set_random_seed(0)
    model = MODELS[name](tf.keras)
    randomize_batch_norm(model, rng)
    sample = rng.normal(size=(128, *model.input_shape[1:])).astype(np.float32)
    return model, tflite_model(model, mode, sample), sample[:1].copy(), sample


# --- ONNX: the same models from the Keras weights ---------------------------------------------


class OnnxGraph:
    """A small builder over onnx.helper: NHWC (or NTC) inputs as the Keras model has them."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.inits: list = []
        self.n = 0

    def name(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def const(self, array: np.ndarray, prefix: str = "c") -> str:
        from onnx import numpy_helper

        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], **attrs) -> str:
        from onnx import helper

        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def model(self, x_shape: tuple[int, ...], out: str, out_shape: tuple[int, ...]) -> bytes:
        import onnx
        from onnx import TensorProto, helper

        graph = helper.make_graph(
            self.nodes,
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
            [helper.make_tensor_value_info(out, TensorProto.FLOAT, list(out_shape))],
            self.inits,
        )
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m.SerializeToString()


def _bn_fold(layer) -> tuple[np.ndarray, np.ndarray]:
    gamma, beta, mean, var = layer.get_weights()
    scale = gamma / np.sqrt(var + layer.epsilon)
    return scale.astype(np.float32), (beta - mean * scale).astype(np.float32)


def _same_pads(size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int]) -> list[int]:
    pads = []
    for n, k, s in zip(size, kernel, stride, strict=True):
        out = -(-n // s)
        total = max((out - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2))
    return [pads[0][0], pads[1][0], pads[0][1], pads[1][1]]


def onnx_model(model) -> bytes:
    """The Keras model (one of MODELS) as an ONNX graph with the same weights."""
    g = OnnxGraph()
    layers = model.layers[1:]
    h = "x"
    shape = tuple(model.input_shape[1:])
    if model.name == "ds_cnn":
        h = g.op("Transpose", [h], perm=[0, 3, 1, 2])
        size = shape[:2]
        i = 0
        while i < len(layers):
            layer = layers[i]
            kind = type(layer).__name__
            if kind in ("Conv2D", "DepthwiseConv2D"):
                (w,) = layer.get_weights()
                scale, shift = _bn_fold(layers[i + 1])
                kh, kw = layer.kernel_size
                stride = layer.strides
                if kind == "Conv2D":
                    wt = np.transpose(w, (3, 2, 0, 1)) * scale[:, None, None, None]
                    group = 1
                else:
                    wt = np.transpose(w, (2, 3, 0, 1)) * scale[:, None, None, None]
                    group = w.shape[2]
                pads = _same_pads(size, (kh, kw), stride) if layer.padding == "same" else [0, 0, 0, 0]
                h = g.op(
                    "Conv",
                    [h, g.const(wt.astype(np.float32)), g.const(shift)],
                    kernel_shape=[kh, kw],
                    strides=list(stride),
                    pads=pads,
                    group=group,
                )
                h = g.op("Relu", [h])
                size = tuple(-(-n // s) for n, s in zip(size, stride, strict=True))
                i += 3
            elif kind == "AveragePooling2D":
                h = g.op("AveragePool", [h], kernel_shape=list(layer.pool_size), strides=list(layer.strides))
                i += 1
            elif kind == "Flatten":
                h = g.op("Flatten", [h])
                i += 1
            else:
                i += 1
    elif model.name == "conv1d_front":
        h = g.op("Transpose", [h], perm=[0, 2, 1])
        n = shape[0]
        for layer in layers:
            kind = type(layer).__name__
            if kind == "Conv1D":
                w, b = layer.get_weights()
                k, s = layer.kernel_size[0], layer.strides[0]
                out = -(-n // s)
                total = max((out - 1) * s + k - n, 0)
                h = g.op(
                    "Conv",
                    [h, g.const(np.transpose(w, (2, 1, 0)).copy()), g.const(b)],
                    kernel_shape=[k],
                    strides=[s],
                    pads=[total // 2, total - total // 2],
                )
                h = g.op("Relu", [h])
                n = out
            elif kind == "MaxPooling1D":
                h = g.op("MaxPool", [h], kernel_shape=[2], strides=[2])
                n //= 2
            elif kind == "GlobalAveragePooling1D":
                h = g.op("ReduceMean", [h], axes=[2], keepdims=0)
    elif model.name == "attention_head":
        mha = next(layer for layer in layers if type(layer).__name__ == "MultiHeadAttention")
        wq, bq, wk, bk, wv, bv, wo, bo = mha.get_weights()  # [64, 4, 16] ... [4, 16, 64]
        heads, dim = wq.shape[1], wq.shape[2]
        t, f = shape

        def proj(w: np.ndarray, b: np.ndarray) -> str:  # [1, T, F] -> [1, heads, T, dim]
            y = g.op("MatMul", [h, g.const(w.reshape(f, heads * dim))])
            y = g.op("Add", [y, g.const(b.reshape(-1))])
            y = g.op("Reshape", [y, g.const(np.array([1, t, heads, dim], np.int64))])
            return g.op("Transpose", [y], perm=[0, 2, 1, 3])

        q = g.op("Mul", [proj(wq, bq), g.const(np.array(1.0 / np.sqrt(dim), np.float32))])
        k = g.op("Transpose", [proj(wk, bk)], perm=[0, 1, 3, 2])
        v = proj(wv, bv)
        p = g.op("Softmax", [g.op("MatMul", [q, k])], axis=-1)
        a = g.op("Transpose", [g.op("MatMul", [p, v])], perm=[0, 2, 1, 3])
        a = g.op("Reshape", [a, g.const(np.array([1, t, heads * dim], np.int64))])
        a = g.op("Add", [g.op("MatMul", [a, g.const(wo.reshape(heads * dim, -1))]), g.const(bo)])
        h = g.op("Add", [h, a])
        dense = [layer for layer in layers if type(layer).__name__ == "Dense"]
        w1, b1 = dense[0].get_weights()
        w2, b2 = dense[1].get_weights()
        ff = g.op("Relu", [g.op("Add", [g.op("MatMul", [h, g.const(w1)]), g.const(b1)])])
        ff = g.op("Add", [g.op("MatMul", [ff, g.const(w2)]), g.const(b2)])
        h = g.op("Add", [h, ff])
        h = g.op("ReduceMean", [h], axes=[1], keepdims=0)
        layers = dense[2:]
    for layer in layers:
        if type(layer).__name__ == "Dense":
            w, b = layer.get_weights()
            h = g.op("Gemm", [h, g.const(w), g.const(b)])
            act = layer.get_config()["activation"]
            if act == "relu":
                h = g.op("Relu", [h])
            elif act == "softmax":
                h = g.op("Softmax", [h], axis=-1)
    return g.model((1, *shape), h, tuple(model.output_shape))


def ort_static(data: bytes, sample: np.ndarray) -> bytes:
    """The ONNX model quantized by ONNX Runtime (static, QDQ, int8 weights per channel)."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.rows = iter(sample)

        def get_next(self):
            row = next(self.rows, None)
            return None if row is None else {"x": row[None]}

    with tempfile.TemporaryDirectory() as d:
        src, dst = Path(d) / "float.onnx", Path(d) / "int8.onnx"
        src.write_bytes(data)
        quantize_static(
            str(src),
            str(dst),
            Reader(),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
        )
        return dst.read_bytes()


# --- Running ------------------------------------------------------------------------------------


def measure(calls: dict[str, Callable], rounds: int, n: int) -> dict[str, tuple[float, ...]]:
    """Median microseconds of one call of each peer, over rounds x n calls, the peers interleaved
    round by round. The median of single calls, not a mean: on a shared machine a call that the
    scheduler preempts costs milliseconds, and a few of those would decide a mean."""
    samples: dict[str, list[int]] = {name: [] for name in calls}
    for fn in calls.values():
        for _ in range(20):
            fn()
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for name, fn in calls.items():
            s = samples[name]
            for _ in range(n):
                t0 = clock()
                fn()
                s.append(clock() - t0)
    return {name: (statistics.median(s) / 1000,) for name, s in samples.items()}


def tflite_peers(data: bytes, x: np.ndarray) -> dict[str, Callable]:
    """tflstm, tf.lite.Interpreter with XNNPACK and with its builtin kernels, ai-edge-litert on the
    same .tflite file."""
    import ai_edge_litert.interpreter as litert
    import tensorflow as tf

    runner = tflstm.Runner(tflstm.Model(data))
    calls: dict[str, Callable] = {"tflstm": lambda: runner(x)}
    builtin = tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES

    def no_xnnpack(**kw):
        return tf.lite.Interpreter(experimental_op_resolver_type=builtin, **kw)

    calls["tf.lite (XNNPACK)"] = tflite_call(tf.lite.Interpreter, data, x, reset=False)
    calls["tf.lite (builtin kernels)"] = tflite_call(no_xnnpack, data, x, reset=False)
    calls["ai-edge-litert"] = tflite_call(litert.Interpreter, data, x, reset=False)
    return calls


def check_peers(calls: dict[str, Callable], reference: np.ndarray, tolerance: float, what: str) -> None:
    """Every peer computes the same function: each within `tolerance` of Keras's `reference`."""
    for peer, fn in calls.items():
        err = float(np.max(np.abs(np.asarray(fn()).reshape(reference.shape) - reference)))
        if err > tolerance:
            raise SystemExit(f"{peer} differs from Keras by {err:g} on {what}")


def peers(model, data: bytes, x: np.ndarray, mode: str, sample: np.ndarray) -> dict[str, Callable]:
    calls = tflite_peers(data, x)
    onnx_data = onnx_model(model)
    if mode == "int8":
        onnx_data = ort_static(onnx_data, sample[:64])
    session = ort_session(onnx_data)
    calls["onnxruntime" + (" (QDQ int8)" if mode == "int8" else "")] = lambda: session.run(None, {"x": x})[0]
    return calls


def profile(benchmark: str, data: bytes, runs: int) -> str:
    with tempfile.NamedTemporaryFile(suffix=".tflite") as f:
        f.write(data)
        f.flush()
        out = subprocess.run(
            [benchmark, f.name, "--runs", str(runs), "--profile"], capture_output=True, text=True, check=True
        )
    return out.stdout


def table(title: str, results: dict[str, tuple[float, ...]]) -> str:
    best = min(r[0] for r in results.values())
    xnn = results["tf.lite (XNNPACK)"][0]
    lines = [title, "| runtime | us | x best | x tf.lite (XNNPACK) |", "|---|---|---|---|"]
    for name, (us,) in results.items():
        lines.append(f"| {name} | {us:.1f} | {us / best:.2f} | {us / xnn:.2f} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--calls", type=int, default=200, help="calls per round and peer")
    p.add_argument("--mode", choices=("float32", "int8"), default="float32")
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated subset of " + ", ".join(MODELS))
    p.add_argument("--profile", metavar="TFLSTM_BENCHMARK", help="print tflstm_benchmark's op profile of each model")
    p.add_argument("--save", metavar="DIR", help="write each converted model there")
    args = p.parse_args()
    import onnxruntime
    import tensorflow as tf

    print(
        f"tflstm {tflstm.__version__} (TFLite {tflstm.TFLITE_VERSION}, {tflstm.ISA}), TensorFlow {tf.__version__}, "
        f"onnxruntime {onnxruntime.__version__}; {args.mode}, batch 1, 1 thread, median of {args.rounds} rounds x "
        f"{args.calls} single calls, interleaved"
    )
    for name in args.models.split(","):
        model, data, x, sample = prepared(name, args.mode)
        if args.save:
            Path(args.save).mkdir(parents=True, exist_ok=True)
            (Path(args.save) / f"{name}_{args.mode}.tflite").write_bytes(data)
        calls = peers(model, data, x, args.mode, sample)
        check_peers(calls, model.predict(x, verbose=0), 1e-4 if args.mode == "float32" else 0.1, name)
        ops = ", ".join(sorted({op for op, _ in tflstm.Model(data).ops}))
        print()
        print(table(f"{name} ({len(data) // 1024} KB; {ops}):", measure(calls, args.rounds, args.calls)))
        if args.profile:
            print(profile(args.profile, data, max(args.calls, 100)))


if __name__ == "__main__":
    main()
