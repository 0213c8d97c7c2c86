"""Everyday Keras 3 sequence models, tiny (few units, few steps) so that converting each in four
modes stays cheap. Weights are random, not trained: parity needs no training, and random
moving statistics and biases make BatchNormalization and the biases really count."""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

T, F, U, C = 6, 3, 4, 3  # timesteps, features, LSTM units, classes
VOCAB = 20


def _keras():
    import keras

    return keras


def randomize(model, seed: int) -> None:
    """Random weights everywhere; variances stay positive."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        shape = tuple(w.shape)
        if "variance" in w.path:
            w.assign(rng.uniform(0.5, 1.5, shape).astype(np.float32))
        elif np.issubdtype(np.dtype(w.dtype), np.floating):
            w.assign(rng.normal(scale=0.5, size=shape).astype(np.float32))


def seq(name="series"):
    return _keras().Input((T, F), name=name)


def head(h, classes=C):
    return _keras().layers.Dense(classes, activation="softmax", name="probs")(h)


def conv1d_lstm():
    L = _keras().layers
    x = seq()
    h = L.Conv1D(4, 3, padding="same", activation="relu")(x)
    h = L.MaxPooling1D(2)(h)
    return x, head(L.LSTM(U)(h))


def embedding_lstm():
    L = _keras().layers
    x = _keras().Input((T,), dtype="int32", name="tokens")
    h = L.Embedding(VOCAB, 4)(x)
    return x, head(L.LSTM(U)(h))


def static_features():
    L = _keras().layers
    x, s = seq(), _keras().Input((2,), name="static")
    h = L.Concatenate()([L.LSTM(U)(x), L.Dense(3, activation="relu")(s)])
    return [x, s], head(h)


def autoencoder():
    L = _keras().layers
    x = seq()
    h = L.RepeatVector(T)(L.LSTM(U)(x))
    h = L.LSTM(U, return_sequences=True)(h)
    return x, L.TimeDistributed(L.Dense(F))(h)


def layernorm():
    L = _keras().layers
    x = seq()
    h = L.LayerNormalization()(L.LSTM(U, return_sequences=True)(x))
    return x, head(L.LSTM(U)(h))


def pooling():
    L = _keras().layers
    x = seq()
    h = L.LSTM(U, return_sequences=True)(x)
    h = L.Concatenate()(
        [L.GlobalAveragePooling1D()(h), L.GlobalMaxPooling1D()(h), L.Flatten()(L.AveragePooling1D(3)(h))]
    )
    return x, head(h)


def attention():
    L = _keras().layers
    x = seq()
    h = L.LSTM(U, return_sequences=True)(x)
    a = L.Attention()([h, h])
    return x, head(L.GlobalAveragePooling1D()(a))


def multi_head_attention():
    """MultiHeadAttention's Keras 3 config differs from tf_keras's: the Keras 3 layer itself runs."""
    L = _keras().layers
    x = seq()
    h = L.LSTM(U, return_sequences=True)(x)
    a = L.MultiHeadAttention(num_heads=2, key_dim=2)(h, h)
    return x, head(L.GlobalAveragePooling1D()(L.Add()([h, a])))


def rnn_lstm_cell():
    L = _keras().layers
    x = seq()
    return x, head(L.RNN(L.LSTMCell(U))(x))


def gru():
    L = _keras().layers
    x = seq()
    h = L.GRU(U, return_sequences=True)(x)
    return x, head(L.LSTM(U)(h))


def simple_rnn():
    L = _keras().layers
    x = seq()
    return x, head(L.SimpleRNN(U)(L.LSTM(U, return_sequences=True)(x)))


def relu_lstm():
    L = _keras().layers
    x = seq()
    return x, head(L.LSTM(U, activation="relu")(x))


def no_bias_backwards():
    L = _keras().layers
    x = seq()
    h = L.LSTM(U, use_bias=False, go_backwards=True, return_sequences=True)(x)
    return x, head(L.LSTM(U, unit_forget_bias=False)(h))


def conv2d():
    L = _keras().layers
    x = seq()
    h = L.Reshape((T, F, 1))(x)
    h = L.Conv2D(2, (3, 1), activation="relu")(h)  # (T-2, F, 2)
    h = L.Reshape((T - 2, F * 2))(h)
    return x, head(L.LSTM(U)(h))


def batchnorm_dropout():
    L = _keras().layers
    x = seq()
    h = L.BatchNormalization()(L.Conv1D(4, 2, padding="causal")(x))
    h = L.SpatialDropout1D(0.3)(h)
    h = L.Dropout(0.2)(L.LSTM(U, dropout=0.1, recurrent_dropout=0.1)(h))
    return x, head(h)


def reshape_permute_flatten():
    L = _keras().layers
    x = seq()
    h = L.Permute((2, 1))(x)  # (F, T): the LSTM runs over features
    h = L.LSTM(U, return_sequences=True)(h)
    return x, head(L.Flatten()(h))


def merge():
    L = _keras().layers
    x = seq()
    a = L.LSTM(U, return_sequences=True)(x)
    b = L.LSTM(U, return_sequences=True, go_backwards=True)(x)
    h = L.Multiply()([L.Add()([a, b]), L.Subtract()([a, b])])
    return x, head(L.GlobalMaxPooling1D()(h))


def two_outputs():
    L = _keras().layers
    x = seq()
    h = L.LSTM(U)(x)
    return x, [head(h), L.Dense(1, name="value")(h)]


def nested_sequential():
    keras = _keras()
    L = keras.layers
    inner = keras.Sequential(
        [keras.Input((T, F)), L.LSTM(U, return_sequences=True), L.Dense(3, activation="tanh")], name="encoder"
    )
    x = seq()
    return x, head(L.LSTM(U)(inner(x)))


def shared_lstm():
    L = _keras().layers
    a, b = seq("left"), seq("right")
    lstm = L.LSTM(U, name="shared")
    return [a, b], head(L.Concatenate()([lstm(a), lstm(b)]))


def stacked_bidirectional():
    L = _keras().layers
    x = seq()
    h = L.Bidirectional(L.LSTM(U, return_sequences=True))(x)
    h = L.Bidirectional(L.LSTM(U, return_sequences=True), merge_mode="sum")(h)
    return x, L.TimeDistributed(L.Dense(2))(h)


def keras_ops():
    """Plain Keras 3 ops on tensors and a Lambda: they trace to builtin TensorFlow ops."""
    keras = _keras()
    L = keras.layers
    x = seq()
    h = L.LSTM(U, return_sequences=True)(x)
    h = keras.ops.mean(h * 2.0 + 1.0, axis=1)
    h = L.Lambda(lambda t: keras.ops.relu(t) - 0.5)(h)
    return x, head(h)


def sliced_steps():
    """Steps taken by indexing a tensor, as Keras 3 code writes it: h[:, -1, :] is the last step
    (GetItem with slices and an index), h[..., ::2] every other unit."""
    keras = _keras()
    L = keras.layers
    x = seq()
    h = L.LSTM(U, return_sequences=True)(x)
    return x, head(L.Concatenate()([h[:, -1, :], keras.ops.mean(h[..., ::2], axis=1)]))


def sequential_seed():
    """The seed's model as written: Sequential, input_shape on the LSTM."""
    keras = _keras()
    return keras.Sequential([keras.layers.LSTM(U, input_shape=(T, F)), keras.layers.Dense(C, activation="softmax")])


BUILDERS = {
    f.__name__: f
    for f in (
        conv1d_lstm,
        embedding_lstm,
        static_features,
        autoencoder,
        layernorm,
        pooling,
        attention,
        multi_head_attention,
        rnn_lstm_cell,
        gru,
        simple_rnn,
        relu_lstm,
        no_bias_backwards,
        conv2d,
        batchnorm_dropout,
        reshape_permute_flatten,
        merge,
        two_outputs,
        nested_sequential,
        shared_lstm,
        stacked_bidirectional,
        keras_ops,
        sliced_steps,
        sequential_seed,
    )
}
# Fused LSTM ops each model's conversion must hold: one per LSTM direction and call.
FUSED = {
    "conv1d_lstm": 1,
    "embedding_lstm": 1,
    "static_features": 1,
    "autoencoder": 2,
    "layernorm": 2,
    "pooling": 1,
    "attention": 1,
    "multi_head_attention": 1,
    "rnn_lstm_cell": 1,
    "gru": 1,
    "simple_rnn": 1,
    "relu_lstm": 1,
    "no_bias_backwards": 2,
    "conv2d": 1,
    "batchnorm_dropout": 1,
    "reshape_permute_flatten": 1,
    "merge": 2,
    "two_outputs": 1,
    "nested_sequential": 2,
    "shared_lstm": 2,
    "stacked_bidirectional": 4,
    "keras_ops": 1,
    "sliced_steps": 1,
    "sequential_seed": 1,
}


def build(name: str, seed: int = 0):
    keras = _keras()
    keras.utils.set_random_seed(seed)
    made = BUILDERS[name]()
    model = made if isinstance(made, keras.Model) else keras.Model(*made, name=name)
    randomize(model, seed)
    return model


def sample(model, n: int, seed: int = 1) -> list[np.ndarray]:
    """n random samples for each of the model's inputs (token ids for integer inputs)."""
    rng = np.random.default_rng(seed)
    out = []
    for t in model.inputs:
        shape = (n, *tuple(t.shape)[1:])
        if "int" in str(t.dtype):
            out.append(rng.integers(0, VOCAB, size=shape).astype(np.int32))
        else:
            out.append(rng.normal(size=shape).astype(np.float32))
    return out
