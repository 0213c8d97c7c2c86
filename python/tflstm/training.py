"""Training a Keras LSTM sequence model from numpy arrays, and magnitude pruning it.

Models are built with tf_keras (Keras 2), the Keras whose LSTM layers TensorFlow's converter
fuses; tflstm.convert takes Keras 3 models too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .converter import tensorflow
from .errors import TrainingError


def task_of(y: np.ndarray, task: str = "auto") -> str:
    """'classification' for integer class ids, 'regression' for float targets."""
    if task not in ("auto", "classification", "regression"):
        raise TrainingError(f"task must be 'auto', 'classification' or 'regression', got {task!r}")
    if task != "auto":
        return task
    return "classification" if np.issubdtype(np.asarray(y).dtype, np.integer) else "regression"


def _check_data(x: np.ndarray, y: np.ndarray, task: str) -> None:
    if x.ndim != 3:
        raise TrainingError(f"x must have shape (samples, timesteps, features), got {x.shape}")
    if len(x) != len(y):
        raise TrainingError(f"x has {len(x)} samples but y has {len(y)}")
    if task == "classification":
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
            raise TrainingError(
                "classification labels must be a 1-D array of class ids 0..C-1 "
                f"(got dtype {y.dtype}, shape {y.shape}); encode string labels with "
                "np.unique(labels, return_inverse=True)"
            )
    elif not np.issubdtype(y.dtype, np.floating):
        raise TrainingError(f"regression targets must be floats, got {y.dtype}")


def build(
    input_shape: tuple[int | None, int],
    outputs: int,
    *,
    task: str = "classification",
    lstm_units: Sequence[int] = (64,),
    dropout: float = 0.0,
    dense_units: Sequence[int] = (),
    seed: int = 0,
) -> Any:
    """Stacked LSTM layers (all but the last return sequences), optional Dropout after each,
    optional hidden Dense layers, and a softmax (classification) or linear (regression) head."""
    tensorflow()
    import tf_keras as keras

    if not lstm_units:
        raise TrainingError("lstm_units must name at least one LSTM layer")
    keras.utils.set_random_seed(seed)
    layers: list[Any] = [keras.Input(shape=input_shape, name="sequence")]
    for i, units in enumerate(lstm_units):
        layers.append(keras.layers.LSTM(units, return_sequences=i < len(lstm_units) - 1))
        if dropout > 0:
            layers.append(keras.layers.Dropout(dropout))
    layers += [keras.layers.Dense(units, activation="relu") for units in dense_units]
    head = "softmax" if task == "classification" else "linear"
    layers.append(keras.layers.Dense(outputs, activation=head, name="output"))
    return keras.Sequential(layers, name="tflstm_lstm")


def _compile(model: Any, task: str, learning_rate: float) -> None:
    import tf_keras as keras

    # Clipping keeps an LSTM's occasional exploding gradient from undoing what it has learnt.
    optimizer = keras.optimizers.Adam(learning_rate, clipnorm=1.0)
    if task == "classification":
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    else:
        model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])


def train(
    x: np.ndarray,
    y: np.ndarray,
    *,
    task: str = "auto",
    lstm_units: Sequence[int] = (64,),
    dropout: float = 0.0,
    dense_units: Sequence[int] = (),
    epochs: int = 30,
    batch_size: int = 16,
    learning_rate: float = 1e-3,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    prune: float | None = None,
    prune_epochs: int | None = None,
    seed: int = 0,
    verbose: int = 1,
) -> Any:
    """Build and fit an LSTM sequence model on x of shape (samples, timesteps, features).

    y holds integer class ids (classification, softmax head) or float targets of shape
    (samples,) or (samples, outputs) (regression, linear head). With ``prune`` (a target
    sparsity such as 0.5) the fitted model is then magnitude-pruned with fine-tuning.
    Returns the tf_keras model, ready for tflstm.convert.
    """
    x = np.asarray(x, np.float32)
    y = np.asarray(y)
    task = task_of(y, task)
    _check_data(x, y, task)
    outputs = int(y.max()) + 1 if task == "classification" else (1 if y.ndim == 1 else y.shape[1])
    model = build(
        x.shape[1:], outputs, task=task, lstm_units=lstm_units, dropout=dropout, dense_units=dense_units, seed=seed
    )
    _compile(model, task, learning_rate)
    if task == "regression":
        y = y.astype(np.float32)
    model.fit(
        x, y, epochs=epochs, batch_size=batch_size, validation_data=validation_data, verbose=verbose, shuffle=True
    )
    if prune:
        magnitude_prune(
            model,
            x,
            y,
            prune,
            epochs=prune_epochs or max(2, epochs // 3),
            batch_size=batch_size,
            learning_rate=learning_rate / 2,
            task=task,
            verbose=verbose,
        )
    return model


def _prunable(model: Any) -> list[Any]:
    """Weight matrices of LSTM and Dense layers (kernels, recurrent kernels); biases are kept."""
    out = []
    for layer in model.layers:
        inner = getattr(layer, "forward_layer", None)
        for sub in (layer,) if inner is None else (layer.forward_layer, layer.backward_layer):
            for w in sub.trainable_weights:
                if len(w.shape) == 2:
                    out.append(w)
    return out


def sparsity(model: Any) -> float:
    """Fraction of zeros among the prunable weights of a Keras model."""
    weights = [w.numpy() for w in _prunable(model)]
    total = sum(w.size for w in weights)
    return float(sum(int(np.sum(w == 0)) for w in weights) / total) if total else 0.0


def magnitude_prune(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    target: float,
    *,
    epochs: int = 10,
    batch_size: int = 16,
    learning_rate: float = 5e-4,
    task: str = "auto",
    verbose: int = 1,
) -> Any:
    """Prunes `model` in place to `target` sparsity while fine-tuning it on (x, y).

    Gradual magnitude pruning: the sparsity ramps up on a cubic schedule over the first two
    thirds of the steps; after every step each weight matrix keeps only its largest weights
    by magnitude, so pruned weights stay zero while the rest adapt.
    """
    import tf_keras as keras

    if not 0.0 < target < 1.0:
        raise TrainingError(f"pruning sparsity must be between 0 and 1, got {target}")
    x = np.asarray(x, np.float32)
    y = np.asarray(y)
    task = task_of(y, task)
    weights = _prunable(model)
    steps_per_epoch = -(-len(x) // batch_size)
    ramp = max(1, int(steps_per_epoch * epochs * 2 / 3))

    class MagnitudePruning(keras.callbacks.Callback):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.step = 0

        def apply(self, level: float) -> None:
            for w in weights:
                value = w.numpy()
                keep = round(value.size * (1.0 - level))
                if keep >= value.size:
                    continue
                threshold = np.partition(np.abs(value).ravel(), value.size - keep - 1)[value.size - keep - 1]
                w.assign(np.where(np.abs(value) > threshold, value, 0.0).astype(value.dtype))

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            self.step += 1
            self.apply(target * (1.0 - (1.0 - min(1.0, self.step / ramp)) ** 3))

        def on_train_end(self, logs: Any = None) -> None:
            self.apply(target)

    _compile(model, task, learning_rate)
    model.fit(x, y, epochs=epochs, batch_size=batch_size, callbacks=[MagnitudePruning()], verbose=verbose, shuffle=True)
    return model
