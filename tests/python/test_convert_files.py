"""Saved Keras models (.keras, legacy .h5, a tf_keras SavedModel directory) through
tflstm.convert and `tflstm convert`, and `tflstm inspect` naming a layer left unfused."""

from __future__ import annotations

import numpy as np
import pytest

import keras_zoo as zoo
import tflstm
from test_cli import tflstm_cmd
from test_zoo import keras_outputs, native_outputs
from tflstm.lstm_flatbuffer import count_fused_lstms


def _matches_keras(data: bytes, model) -> None:
    xs = zoo.sample(model, 3)
    want, got = keras_outputs(model, xs), native_outputs(data, model, xs)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], atol=1e-4, rtol=0)


def test_keras3_file_through_the_python_api(tmp_path):
    model = zoo.build("conv1d_lstm")
    path = tmp_path / "m.keras"
    model.save(path)
    data = tflstm.convert(str(path), "float32")
    assert count_fused_lstms(data) == 1
    _matches_keras(data, model)


def test_legacy_h5_through_the_command(tmp_path):
    model = zoo.build("gru")
    path, out = tmp_path / "m.h5", tmp_path / "m.tflite"
    model.save(path)
    done = tflstm_cmd("convert", path, "-m", "float32", "-o", out)
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert count_fused_lstms(data) == 1
    _matches_keras(data, model)
    shown = tflstm_cmd("inspect", out)
    # The GRU is tflstm's fused op, which stock TFLite does not have: inspect says so.
    assert "unfused:" not in shown.stdout, shown.stdout
    assert "needs tflstm's runtime: stock TFLite cannot run TFLSTM_GRU" in shown.stdout, shown.stdout
    done = tflstm_cmd("convert", path, "-m", "float32", "-o", out, "--portable")
    assert done.returncode == 0, done.stderr
    _matches_keras(out.read_bytes(), model)
    shown = tflstm_cmd("inspect", out)
    gru = model.get_layer(index=1).name  # the layer's name as saved
    assert f"unfused: {gru} (GRU, unrolled over 6 steps into builtin ops)" in shown.stdout, shown.stdout


def test_tf_keras_savedmodel_directory_through_the_command(tmp_path):
    import tf_keras as keras

    keras.utils.set_random_seed(7)
    x = keras.Input((zoo.T, zoo.F), name="series")
    h = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True, use_bias=False))(x)
    model = keras.Model(x, keras.layers.Dense(2, name="out")(keras.layers.LSTM(4, activation="relu")(h)))
    path, out = tmp_path / "saved", tmp_path / "m.tflite"
    model.save(path, save_format="tf")
    done = tflstm_cmd("convert", path, "-m", "float32", "-o", out)
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert count_fused_lstms(data) == 3
    _matches_keras(data, model)


def test_exported_savedmodel_without_keras_metadata_is_refused(tmp_path):
    model = zoo.build("rnn_lstm_cell")
    model.export(tmp_path / "exported", verbose=False)
    with pytest.raises(tflstm.ConversionError, match="SavedModel without Keras metadata"):
        tflstm.convert(str(tmp_path / "exported"))
