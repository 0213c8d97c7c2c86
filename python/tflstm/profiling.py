"""Profile a Keras model in every conversion mode on the native runtime: size, accuracy or
error, agreement with Keras, latency and memory; report as a table, JSON and a plot."""

from __future__ import annotations

import dataclasses
import gzip
import json
import statistics
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import numpy as np

from ._core import InputError, Model, Runner
from .bench import p90, sample_times
from .converter import MODES, convert
from .keras_graph import input_shape
from .lstm_flatbuffer import unfused_layers
from .training import magnitude_prune, sparsity, task_of


@dataclasses.dataclass
class ProfileRow:
    variant: str  # the conversion mode, "+pruned" when the model was pruned
    mode: str
    size_bytes: int
    gzip_bytes: int  # what pruning buys on the wire: zeros compress
    score: float  # accuracy (classification) or RMSE (regression) on the eval data
    agreement: float  # classification: share of samples whose class equals Keras's;
    # regression: max abs difference from Keras's outputs
    latency_ms_median: float
    latency_ms_p90: float
    arena_bytes: int  # tflstm's arena (inputs and outputs)
    tflite_bytes: int  # TFLite's own arenas (intermediates, persistent state)
    kernel_bytes: int  # weights tflstm's LSTM kernel packed for the runner
    sparsity: float = 0.0


@dataclasses.dataclass
class ProfileReport:
    task: str
    samples: int
    keras_score: float  # the float Keras model's own accuracy or RMSE
    rows: list[ProfileRow]
    runs: int
    unfused: list[str] = dataclasses.field(default_factory=list)  # recurrent layers run as plain ops

    @property
    def score_name(self) -> str:
        return "accuracy" if self.task == "classification" else "rmse"

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "samples": self.samples,
            "runs": self.runs,
            "score": self.score_name,
            "keras_score": self.keras_score,
            "unfused": self.unfused,
            "rows": [dataclasses.asdict(r) for r in self.rows],
        }

    def to_json(self, path: str | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2)
        if path:
            with open(path, "w") as f:
                f.write(text + "\n")
        return text

    def table(self) -> str:
        agree = "agree" if self.task == "classification" else "max|dy|"
        head = (
            f"{'variant':<16}{'size KB':>9}{'gzip KB':>9}{self.score_name:>10}{agree:>9}"
            f"{'median ms':>11}{'p90 ms':>9}{'memory KB':>11}"
        )
        lines = [f"{self.samples} samples; Keras float model {self.score_name}: {self.keras_score:.4f}"]
        lines += [f"unfused: {u}: its steps run as separate builtin ops, in the latency below" for u in self.unfused]
        lines += [head, "-" * len(head)]
        for r in self.rows:
            agreement = f"{100 * r.agreement:.1f}%" if self.task == "classification" else f"{r.agreement:.2g}"
            score = f"{100 * r.score:.1f}%" if self.task == "classification" else f"{r.score:.4f}"
            lines.append(
                f"{r.variant:<16}{r.size_bytes / 1024:>9.1f}{r.gzip_bytes / 1024:>9.1f}{score:>10}"
                f"{agreement:>9}{r.latency_ms_median:>11.3f}{r.latency_ms_p90:>9.3f}"
                f"{(r.arena_bytes + r.tflite_bytes + r.kernel_bytes) / 1024:>11.1f}"
            )
        return "\n".join(lines)

    def plot(self, path: str) -> None:
        """One bar per variant in four panels: size (and gzip size), accuracy or error, latency
        (median, with p90 as the whisker) and runtime memory."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        names = [r.variant for r in self.rows]
        pos = np.arange(len(self.rows))
        palette = plt.get_cmap("tab10")
        colors = [palette(MODES.index(r.mode) % 10) for r in self.rows]
        hatches = ["//" if r.sparsity else "" for r in self.rows]
        classification = self.task == "classification"
        fig, axes = plt.subplots(1, 4, figsize=(18, 4.8))

        def bars(ax: Any, values: list[float], title: str) -> None:
            for i, v in enumerate(values):
                ax.bar(pos[i], v, color=colors[i], hatch=hatches[i], edgecolor="black", linewidth=0.5)
            ax.set_xticks(pos)
            ax.set_xticklabels(names, rotation=35, ha="right", fontsize=8)
            ax.set_title(title)
            ax.grid(axis="y", alpha=0.3)

        bars(axes[0], [r.size_bytes / 1024 for r in self.rows], "model size (KB); dot: gzip")
        axes[0].scatter(pos, [r.gzip_bytes / 1024 for r in self.rows], color="black", zorder=3, s=15)
        score = [100 * r.score if classification else r.score for r in self.rows]
        bars(axes[1], score, "accuracy (%)" if classification else "RMSE (lower is better)")
        axes[1].axhline(
            100 * self.keras_score if classification else self.keras_score,
            color="black",
            linestyle="--",
            linewidth=1,
            label="Keras float",
        )
        axes[1].legend(loc="lower right", fontsize=8)
        if classification:
            axes[1].set_ylim(max(0.0, min(score) - 10), 100)
        med = [r.latency_ms_median for r in self.rows]
        bars(axes[2], med, "latency, batch 1 (ms): median, p90")
        axes[2].errorbar(
            pos,
            med,
            yerr=[[0.0] * len(med), [r.latency_ms_p90 - m for r, m in zip(self.rows, med, strict=True)]],
            fmt="none",
            ecolor="black",
            capsize=3,
        )
        bars(
            axes[3],
            [(r.arena_bytes + r.tflite_bytes + r.kernel_bytes) / 1024 for r in self.rows],
            "memory (KB): arena, TFLite, packed weights",
        )
        fig.suptitle(
            f"tflstm profile: {self.samples} samples, {self.runs} timed runs per variant; hatched: pruned", fontsize=11
        )
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)


def _score(task: str, predictions: np.ndarray, y: np.ndarray) -> float:
    if task == "classification":
        return float(np.mean(np.argmax(predictions, axis=-1) == y))
    return float(np.sqrt(np.mean((predictions.reshape(y.shape) - y) ** 2)))


def _agreement(task: str, predictions: np.ndarray, reference: np.ndarray) -> float:
    if task == "classification":
        return float(np.mean(np.argmax(predictions, axis=-1) == np.argmax(reference, axis=-1)))
    return float(np.max(np.abs(predictions - reference)))


def _predict(runner: Runner, x: np.ndarray) -> np.ndarray:
    """Runs one sample at a time (the converted model has batch 1), as a device would."""
    return np.concatenate([runner(x[i : i + 1]) for i in range(len(x))])


def time_calls(call: Callable[[], object], runs: int, warmup: int = 20) -> tuple[float, float]:
    """Median and p90 wall time of `call` in milliseconds, after `warmup` untimed calls."""
    times = sample_times(call, runs, min(warmup, runs))
    return 1e3 * statistics.median(times), 1e3 * p90(times)


def profile_bytes(
    data: bytes,
    variant: str,
    mode: str,
    task: str,
    x: np.ndarray,
    y: np.ndarray,
    reference: np.ndarray,
    *,
    runs: int = 200,
    num_threads: int = 1,
    pruned_sparsity: float = 0.0,
) -> ProfileRow:
    """One row: runs a converted model over the eval data and times it."""
    runner = Runner(Model(data), num_threads=num_threads)
    predictions = _predict(runner, x)
    sample = x[:1]
    median, p90 = time_calls(lambda: runner(sample), runs)
    stats = runner.memory
    return ProfileRow(
        variant=variant,
        mode=mode,
        size_bytes=len(data),
        gzip_bytes=len(gzip.compress(data, 9)),
        score=_score(task, predictions, y),
        agreement=_agreement(task, predictions, reference),
        latency_ms_median=median,
        latency_ms_p90=p90,
        arena_bytes=stats.arena.budget,
        tflite_bytes=stats.tflite_arena + stats.tflite_persistent + stats.tflite_dynamic,
        kernel_bytes=stats.kernel_weights,
        sparsity=pruned_sparsity,
    )


def profile(
    model: Any,
    x_eval: np.ndarray,
    y_eval: np.ndarray,
    modes: Sequence[str] = MODES,
    *,
    representative_data: np.ndarray | None = None,
    task: str = "auto",
    runs: int = 200,
    num_threads: int = 1,
    prune: float | None = None,
    train_data: tuple[np.ndarray, np.ndarray] | None = None,
    prune_epochs: int = 10,
    progress: TextIO | None = sys.stderr,
) -> ProfileReport:
    """Converts `model` in each mode and measures each variant with the native runtime.

    representative_data calibrates int8 (default: x_eval; pass training data when you have it).
    With ``prune`` (a sparsity such as 0.5) and ``train_data``, a pruned, fine-tuned copy of the
    model is profiled in every mode too.
    """
    x = np.asarray(x_eval, np.float32)
    y = np.asarray(y_eval)
    task = task_of(y, task)
    bad = [m for m in modes if m not in MODES]
    if bad:
        raise InputError(f"unknown modes {bad}; choose from {', '.join(MODES)}")
    if prune and train_data is None:
        raise InputError("profile(prune=...) needs train_data=(x_train, y_train) to fine-tune the pruned model")
    if len(getattr(model, "inputs", None) or []) != 1:
        raise InputError(
            "profile takes models with one input; convert and run models with several inputs "
            "with tflstm.convert and tflstm.Runner"
        )
    want = input_shape(model)
    if x.ndim != len(want) + 1 or any(w is not None and w != g for w, g in zip(want, x.shape[1:], strict=True)):
        raise InputError(
            f"x_eval has shape {x.shape}; the model takes (samples, "
            f"{', '.join('?' if w is None else str(w) for w in want)})"
        )
    if len(y) != len(x):
        raise InputError(f"x_eval has {len(x)} samples but y_eval has {len(y)}")
    rep = x if representative_data is None else np.asarray(representative_data, np.float32)

    def say(msg: str) -> None:
        if progress is not None:
            print(msg, file=progress, flush=True)

    variants: list[tuple[str, Any, float]] = [("", model, 0.0)]
    if prune:
        import tf_keras as keras

        say(f"pruning a copy of the model to {prune:.0%} sparsity, with fine-tuning")
        pruned = keras.models.clone_model(model) if _is_tf_keras(model) else None
        if pruned is None:
            raise InputError("profile(prune=...) needs a tf_keras model, such as tflstm.train gives")
        pruned.set_weights(model.get_weights())
        magnitude_prune(pruned, *train_data, prune, epochs=prune_epochs, task=task, verbose=0)
        variants.append(("+pruned", pruned, sparsity(pruned)))

    reference = np.asarray(model.predict(x, verbose=0))
    report = ProfileReport(task=task, samples=len(x), keras_score=_score(task, reference, y), rows=[], runs=runs)
    total = len(variants) * len(modes)
    for suffix, keras_model, level in variants:
        for mode in modes:
            variant = mode + suffix
            say(f"[{len(report.rows) + 1}/{total}] {variant}: converting, running {len(x)} samples, timing {runs} runs")
            # The report measures each quantized mode's agreement with Keras itself, on the user's
            # data: a mode far off is a row of the table, not a refusal. float32 keeps its bound.
            tolerance = None if mode == "float32" else float("inf")
            data = convert(keras_model, mode, rep if mode == "int8" else None, tolerance=tolerance)
            if not report.unfused:
                report.unfused = unfused_layers(data)
            report.rows.append(
                profile_bytes(
                    data,
                    variant,
                    mode,
                    task,
                    x,
                    y,
                    reference,
                    runs=runs,
                    num_threads=num_threads,
                    pruned_sparsity=level,
                )
            )
    return report


def _is_tf_keras(model: Any) -> bool:
    return type(model).__module__.startswith("tf_keras")
