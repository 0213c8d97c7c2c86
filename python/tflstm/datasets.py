"""Real sequence datasets that ship inside PyPI packages, as (samples, timesteps, features)."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass
class SequenceDataset:
    name: str
    x_train: np.ndarray  # float32 (samples, timesteps, features), standardized per feature
    y_train: np.ndarray  # int64 class ids
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]
    features: list[str]


def basic_motions() -> SequenceDataset:
    """BasicMotions (bundled in the ``aeon`` wheel): 80 recordings of 100 steps of a smartwatch's
    3-axis accelerometer and gyroscope, people standing, walking, running or playing badminton.
    Features are standardized with the training split's mean and deviation."""
    try:
        from aeon.datasets import load_basic_motions
    except ImportError as e:
        raise ImportError("the BasicMotions dataset comes with aeon: pip install 'tflstm[convert]'") from e
    x_train, labels_train = load_basic_motions(split="train")
    x_test, labels_test = load_basic_motions(split="test")
    # aeon gives (samples, channels, timesteps); LSTMs take (samples, timesteps, features).
    x_train = np.transpose(x_train, (0, 2, 1)).astype(np.float32)
    x_test = np.transpose(x_test, (0, 2, 1)).astype(np.float32)
    mean = x_train.mean(axis=(0, 1))
    std = x_train.std(axis=(0, 1)) + 1e-6
    classes = sorted(set(labels_train) | set(labels_test))
    index = {c: i for i, c in enumerate(classes)}
    return SequenceDataset(
        name="BasicMotions",
        x_train=(x_train - mean) / std,
        y_train=np.array([index[c] for c in labels_train], np.int64),
        x_test=(x_test - mean) / std,
        y_test=np.array([index[c] for c in labels_test], np.int64),
        classes=[str(c) for c in classes],
        features=["accel_x", "accel_y", "accel_z", "gyro_x", "gyro_y", "gyro_z"],
    )


@dataclasses.dataclass
class VariableLengthDataset:
    name: str
    x_train: list[np.ndarray]  # float32 (timesteps_i, features) each, lengths differ
    y_train: np.ndarray
    x_test: list[np.ndarray]
    y_test: np.ndarray
    classes: list[str]


def japanese_vowels() -> VariableLengthDataset:
    """JapaneseVowels (bundled in the ``aeon`` wheel): 640 utterances of /ae/ by nine speakers,
    12 LPC cepstrum coefficients per frame, 7 to 29 frames long. Features are standardized with
    the training split's statistics; sequences keep their own lengths."""
    try:
        from aeon.datasets import load_japanese_vowels
    except ImportError as e:
        raise ImportError("the JapaneseVowels dataset comes with aeon: pip install 'tflstm[convert]'") from e
    x_train, labels_train = load_japanese_vowels(split="train")
    x_test, labels_test = load_japanese_vowels(split="test")
    # aeon gives a list of (channels, timesteps) arrays.
    train = [np.asarray(x, np.float32).T for x in x_train]
    test = [np.asarray(x, np.float32).T for x in x_test]
    frames = np.concatenate(train)
    mean, std = frames.mean(axis=0), frames.std(axis=0) + 1e-6
    classes = sorted(set(labels_train) | set(labels_test), key=str)
    index = {c: i for i, c in enumerate(classes)}
    return VariableLengthDataset(
        name="JapaneseVowels",
        x_train=[(x - mean) / std for x in train],
        y_train=np.array([index[c] for c in labels_train], np.int64),
        x_test=[(x - mean) / std for x in test],
        y_test=np.array([index[c] for c in labels_test], np.int64),
        classes=[str(c) for c in classes],
    )
