"""Runs in the emulated target's Python (Debian's python3 under qemu-user with the counting plugin):
one runtime's inferences of one model between markers.

    python3 guest_infer.py RUNTIME MODEL INPUT.npy OUTPUT.npy [K] [WARMUP]

RUNTIME: tflstm, tflstm-tflite (tflstm with TFLite's LSTM kernel), litert (ai-edge-litert's
Interpreter, XNNPACK as it comes), onnxruntime. One thread each; a full sequence per call with
the state reset, as bench/lstm_peers.py calls them. Markers (syscall 4242, which the plugin
reports on): 1 after the imports, 2 after the session and the warm-up calls, 3 after K calls,
4 right after 3 (the empty window: the markers' own cost).
"""

from __future__ import annotations

import ctypes
import sys

import numpy as np

_libc = ctypes.CDLL(None, use_errno=True)


def marker(tag: int) -> None:
    _libc.syscall(4242, tag)


def session(runtime: str, model: bytes, x: np.ndarray):
    if runtime in ("tflstm", "tflstm-tflite"):
        import tflstm

        runner = tflstm.Runner(tflstm.Model(model), lstm_kernel="tflite" if runtime == "tflstm-tflite" else "tflstm")
        return lambda: runner(x)
    if runtime == "litert":
        from ai_edge_litert.interpreter import Interpreter

        interp = Interpreter(model_content=model, num_threads=1)
        interp.allocate_tensors()
        i, o = interp.get_input_details()[0]["index"], interp.get_output_details()[0]["index"]

        def run() -> np.ndarray:
            interp.reset_all_variables()
            interp.set_tensor(i, x)
            interp.invoke()
            return interp.get_tensor(o)

        return run
    if runtime == "onnxruntime":
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        sess = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        return lambda: sess.run(None, {"x": x})[0]
    raise SystemExit(f"unknown runtime {runtime}")


def main() -> None:
    runtime, model, x_path, out_path = sys.argv[1:5]
    k = int(sys.argv[5]) if len(sys.argv) > 5 else 10
    warmup = int(sys.argv[6]) if len(sys.argv) > 6 else 2
    x = np.ascontiguousarray(np.load(x_path), np.float32)
    with open(model, "rb") as f:
        data = f.read()
    marker(1)
    run = session(runtime, data, x)
    for _ in range(warmup):
        run()
    marker(2)
    for _ in range(k):
        out = run()
    marker(3)
    marker(4)
    np.save(out_path, np.asarray(out, np.float32))


if __name__ == "__main__":
    main()
