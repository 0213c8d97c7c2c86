"""Keras 2-era sequence models, written the way their users wrote them with tf_keras (Keras 2's
defaults and habits: hard_sigmoid gates, GRU(reset_after=False), float32 Inputs in front of an
Embedding, `.h5` files, Lambda layers, subclassed models), and a few Keras 3 models with the same
habits. Small (few units), but with weights that behave as trained ones do where it matters:
the cuDNN-style LSTM's forget gate is held open and its input drives the cell far past 10,
as counting units of text models do.

Each builder returns a model; `saved(name, dir)` saves it as its users did (.h5) and loads it
back the way tflstm.convert does (tflstm.converter.load_keras)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

T, F, U, C = 12, 5, 8, 3  # timesteps, features, units, classes
VOCAB = 30


def tf_keras():
    import tf_keras

    return tf_keras


def keras3():
    import keras

    return keras


def randomize(model, seed: int, scale: float = 0.5) -> None:
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=scale, size=w.shape).astype(np.float32) for w in model.get_weights()])


def name_classifier():
    """A char-level name classifier as Keras 2.2 wrote it: the default float32 Input holds the
    character ids, and the LSTM has Keras 2's default hard_sigmoid gates."""
    k = tf_keras()
    L = k.layers
    x = k.Input((T,), name="chars")
    h = L.Embedding(VOCAB, 6, name="embed")(x)
    h = L.LSTM(U, recurrent_activation="hard_sigmoid", implementation=1, name="lstm")(h)
    return k.Model(x, L.Dense(C, activation="softmax", name="language")(h), name="name_classifier")


def gru_reset_before():
    """Keras 2's default GRU: reset gate before the recurrent matmul, hard_sigmoid gates."""
    k = tf_keras()
    L = k.layers
    x = k.Input((T, F), name="imu")
    h = L.GRU(U, reset_after=False, recurrent_activation="hard_sigmoid", return_sequences=True, name="gru_a")(x)
    h = L.GRU(U, reset_after=False, name="gru_b")(h)
    return k.Model(x, L.Dense(1, name="phase")(h), name="gru_reset_before")


def cudnn_text_lstm():
    """A text generator's LSTM as CuDNNLSTM trained it (tanh, sigmoid gates, unit forget bias, no
    recurrent dropout: the configuration whose weights load from CuDNNLSTM), with counting units:
    forget gates held open and a cell input that pushes the cell state past 20."""
    k = tf_keras()
    L = k.layers
    x = k.Input((T * 3,), name="text")
    h = L.Embedding(VOCAB, 6, name="embed")(x)
    h = L.LSTM(U, return_sequences=True, name="lstm_1")(h)
    h = L.LSTM(U, name="lstm_2")(h)
    return k.Model(x, L.Dense(VOCAB, activation="softmax", name="next_char")(h), name="cudnn_text_lstm")


def counting_weights(model, seed: int) -> None:
    """Trained-like weights for cudnn_text_lstm: random, then each LSTM's forget and input
    gates biased open and its cell input driven hard by the embedding's first feature."""
    randomize(model, seed)
    for layer in model.layers:
        if type(layer).__name__ != "LSTM":
            continue
        kernel, recurrent, bias = layer.get_weights()
        u = layer.units
        bias[: 2 * u] += 6.0  # input and forget gates open
        bias[3 * u :] += 3.0  # output gate open
        kernel[:, 2 * u : 3 * u] *= 8.0  # the cell input saturates: tanh = +-1 each step
        layer.set_weights([kernel, recurrent * 0.3, bias])


def bidirectional_gru_stack():
    """A gait-phase estimator: two Bidirectional GRU layers over IMU windows, per-step output."""
    k = tf_keras()
    L = k.layers
    x = k.Input((T, F), name="imu")
    h = L.Bidirectional(L.GRU(U, return_sequences=True), name="bigru_1")(x)
    h = L.Bidirectional(L.GRU(U, return_sequences=True), name="bigru_2")(h)
    return k.Model(x, L.TimeDistributed(L.Dense(2), name="phase")(h), name="bidirectional_gru_stack")


def lstm_attention():
    """Attention over LSTM outputs as Keras 2 tutorials wrote it: a score per step, softmax over
    time, the weighted sum in a Lambda."""
    k = tf_keras()
    L = k.layers
    x = k.Input((T, F), name="series")
    h = L.LSTM(U, return_sequences=True, name="encoder")(x)
    score = L.Flatten()(L.Dense(1, activation="tanh", name="score")(h))
    weights = L.Permute((2, 1))(L.RepeatVector(U)(L.Activation("softmax", name="attention")(score)))
    context = L.Lambda(lambda t: tf.reduce_sum(t, axis=1), name="context")(L.Multiply()([h, weights]))
    return k.Model(x, L.Dense(C, activation="softmax", name="label")(context), name="lstm_attention")


def _subclassed_class(keras):
    class TwoLstms(keras.Model):
        """A researcher's model: layers made in __init__, the graph in call()."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.first = keras.layers.LSTM(U, return_sequences=True)
            self.second = keras.layers.LSTM(U)
            self.head = keras.layers.Dense(C)

        def features(self, x):
            return self.second(self.first(x))

        def call(self, x, training=None):
            return self.head(self.features(x))

    return TwoLstms


def subclassed_wrapped():
    """A tf_keras subclassed model called on an Input inside a functional model."""
    k = tf_keras()
    x = k.Input((T, F), name="series")
    return k.Model(x, _subclassed_class(k)(name="two_lstms")(x), name="subclassed_wrapped")


def subclassed_keras3_built():
    """A Keras 3 subclassed model, built by calling it once, not wrapped."""
    k = keras3()
    model = _subclassed_class(k)(name="two_lstms_k3")
    model(np.zeros((1, T, F), np.float32))
    return model


def encoder_decoder():
    """Inputs [encoder_in, decoder_in], two heads [token, stop]: neither in alphabetical order."""
    k = tf_keras()
    L = k.layers
    enc, dec = k.Input((T, F), name="encoder_in"), k.Input((T // 2, 3), name="decoder_in")
    summary = L.RepeatVector(T // 2)(L.LSTM(U, name="encoder")(enc))
    h = L.LSTM(U, return_sequences=True, name="decoder")(L.Concatenate()([dec, summary]))
    token = L.TimeDistributed(L.Dense(4), name="token")(h)
    stop = L.Dense(1, activation="sigmoid", name="stop")(L.GlobalAveragePooling1D()(h))
    return k.Model([enc, dec], [token, stop], name="encoder_decoder")


def keras3_hard_sigmoid():
    """Keras 3 layers with hard_sigmoid gates: Keras 3's definition, relu6(x + 3) / 6."""
    k = keras3()
    L = k.layers
    x = k.Input((T, F), name="series")
    h = L.LSTM(U, recurrent_activation="hard_sigmoid", return_sequences=True, name="lstm")(x)
    h = L.GRU(U, recurrent_activation="hard_sigmoid", name="gru")(h)
    return k.Model(x, L.Dense(C, name="out")(h), name="keras3_hard_sigmoid")


BUILDERS = {
    f.__name__: f
    for f in (
        name_classifier,
        gru_reset_before,
        cudnn_text_lstm,
        bidirectional_gru_stack,
        lstm_attention,
        subclassed_wrapped,
        subclassed_keras3_built,
        encoder_decoder,
        keras3_hard_sigmoid,
    )
}
# Models their users saved as .h5 (tf_keras): the test converts the reloaded file.
H5 = ("name_classifier", "gru_reset_before", "cudnn_text_lstm", "bidirectional_gru_stack", "lstm_attention")
# TFLSTM_GRU ops each conversion holds (one per GRU direction; none in int8, nor portable).
GRU_OPS = {"gru_reset_before": 2, "bidirectional_gru_stack": 4, "keras3_hard_sigmoid": 1}
# TFLSTM_LSTM ops each conversion holds (hard_sigmoid LSTMs; none in int8, nor portable: unrolled).
LSTM_OPS = {"name_classifier": 1, "keras3_hard_sigmoid": 1}
# Fused UNIDIRECTIONAL_SEQUENCE_LSTM ops each conversion holds (hard_sigmoid LSTMs are not: none).
FUSED = {
    "name_classifier": 0,
    "gru_reset_before": 0,
    "cudnn_text_lstm": 2,
    "bidirectional_gru_stack": 0,
    "lstm_attention": 1,
    "subclassed_wrapped": 2,
    "subclassed_keras3_built": 2,
    "encoder_decoder": 2,
    "keras3_hard_sigmoid": 0,
}


def build(name: str, seed: int = 0):
    model = BUILDERS[name]()
    if name == "cudnn_text_lstm":
        counting_weights(model, seed)
    else:
        randomize(model, seed)
    return model


def saved(model, directory) -> object:
    """The model written to .h5 as Keras 2 users did, and loaded back as tflstm.convert loads a path."""
    import warnings

    from tflstm.converter import load_keras

    path = os.path.join(directory, f"{model.name}.h5")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="You are saving your model as an HDF5 file")
        model.save(path)
    return load_keras(path)


def sample(model, n: int, seed: int = 1, scale: float = 1.0) -> list[np.ndarray]:
    """n samples for each input of the model: ids for an input that feeds an Embedding (in the
    input's dtype, float32 for Keras 2 text models), normal floats otherwise."""
    rng = np.random.default_rng(seed)
    out = []
    inputs = model.inputs if getattr(model, "inputs", None) else None
    specs = [(tuple(t.shape)[1:], t.name) for t in inputs] if inputs else [((T, F), "series")]
    for shape, name in specs:
        shape = (n, *(T if d is None else int(d) for d in shape))
        if any(word in name for word in ("chars", "text", "tokens")):
            out.append(rng.integers(0, VOCAB, size=shape).astype(np.float32))
        else:
            out.append((scale * rng.normal(size=shape)).astype(np.float32))
    return out
