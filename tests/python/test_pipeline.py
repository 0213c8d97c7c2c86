"""The whole pipeline on a real dataset: BasicMotions (from the aeon wheel), trained with
tflstm.train, profiled with tflstm.profile on the native runtime; and pruning."""

from __future__ import annotations

import json

import numpy as np
import pytest

import tflstm
from tflstm.datasets import basic_motions


@pytest.fixture(scope="module")
def data():
    return basic_motions()


@pytest.fixture(scope="module")
def trained(data):
    return tflstm.train(
        data.x_train,
        data.y_train,
        lstm_units=(64,),
        dropout=0.1,
        epochs=60,
        batch_size=8,
        learning_rate=2e-3,
        verbose=0,
    )


@pytest.fixture(scope="module")
def report(trained, data, tmp_path_factory):
    return tflstm.profile(trained, data.x_test, data.y_test, representative_data=data.x_train, runs=5, progress=None)


def test_dataset_is_the_real_one(data):
    assert data.x_train.shape == (40, 100, 6) and data.x_test.shape == (40, 100, 6)
    assert data.classes == ["badminton", "running", "standing", "walking"]
    assert np.bincount(data.y_test).tolist() == [10, 10, 10, 10]


def test_keras_model_learns(report):
    assert report.task == "classification"
    assert report.keras_score >= 0.8, report.keras_score


def test_accuracy_of_every_mode_on_the_native_runtime(report):
    rows = {r.mode: r for r in report.rows}
    assert set(rows) == set(tflstm.MODES)
    # float32: the same predicted class as Keras on every sample.
    assert rows["float32"].agreement == 1.0
    assert rows["float32"].score == pytest.approx(report.keras_score)
    for mode in ("int8", "dynamic"):
        assert rows[mode].score >= rows["float32"].score - 0.05, (mode, rows[mode].score)
    assert rows["float16"].score >= rows["float32"].score - 0.05


def test_report_figures_are_measured(report):
    for r in report.rows:
        assert 0 < r.gzip_bytes < r.size_bytes + 64
        assert 0 < r.latency_ms_median <= r.latency_ms_p90
        assert r.arena_bytes > 0 and r.tflite_bytes > 0
    rows = {r.mode: r for r in report.rows}
    assert rows["int8"].size_bytes < 0.35 * rows["float32"].size_bytes


def test_report_outputs(report, tmp_path):
    table = report.table()
    for mode in tflstm.MODES:
        assert mode in table
    assert "accuracy" in table and "median ms" in table
    doc = json.loads(report.to_json(str(tmp_path / "p.json")))
    assert doc == json.loads((tmp_path / "p.json").read_text())
    assert [row["mode"] for row in doc["rows"]] == list(tflstm.MODES)
    report.plot(str(tmp_path / "p.png"))
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_profile_refuses_data_of_the_wrong_shape(trained, data):
    with pytest.raises(
        tflstm.InputError, match=r"x_eval has shape \(40, 6, 100\); the model takes \(samples, 100, 6\)"
    ):
        tflstm.profile(trained, data.x_test.transpose(0, 2, 1), data.y_test, progress=None)


def test_training_refuses_bad_data(data):
    with pytest.raises(tflstm.TrainingError, match="x must have shape"):
        tflstm.train(data.x_train[:, :, 0], data.y_train)
    with pytest.raises(tflstm.TrainingError, match="x has 40 samples but y has 39"):
        tflstm.train(data.x_train, data.y_train[:-1])


def test_pruning_reaches_its_sparsity_and_compresses(trained, data):
    from tf_keras.models import clone_model

    from tflstm.training import sparsity

    pruned = clone_model(trained)
    pruned.set_weights(trained.get_weights())
    tflstm.magnitude_prune(pruned, data.x_train, data.y_train, 0.6, epochs=6, batch_size=8, verbose=0)
    assert sparsity(trained) < 0.01
    assert sparsity(pruned) == pytest.approx(0.6, abs=0.01)
    base = tflstm.profile(
        trained, data.x_test, data.y_test, ["int8"], representative_data=data.x_train, runs=3, progress=None
    )
    small = tflstm.profile(
        pruned, data.x_test, data.y_test, ["int8"], representative_data=data.x_train, runs=3, progress=None
    )
    assert small.rows[0].gzip_bytes < 0.85 * base.rows[0].gzip_bytes
    assert small.rows[0].score >= base.rows[0].score - 0.15
