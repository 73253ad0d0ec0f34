"""Data sets, tasks, splits and the normalisations of lecture 3.2.2.

``digits`` (scikit-learn's 8x8 "MNIST light") is embedded and always available. ``fashion-mnist``
and ``mnist`` are read from the standard IDX files in ``$EXPLORER_DATA_DIR/<name>/``, else in
``/usr/share/datasets/<name>/`` (Debian's ``dataset-fashion-mnist`` installs there); nothing is
downloaded. Loaded arrays and prepared splits are cached per process, so parallel trials that run
in the same worker read each file once.
"""
from __future__ import annotations

import functools
import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

NORMALISATIONS = ("none", "rescale", "minmax", "z")
DIGITS_TEST_FRACTION = 0.25  # digits has no official test split; the IDX data sets do

CLASS_NAMES = {
    "digits": [str(i) for i in range(10)],
    "mnist": [str(i) for i in range(10)],
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
}
DATASETS = tuple(CLASS_NAMES)
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class DataError(Exception):
    """A data set cannot be read; the message says which folder and files, and what to do."""


@dataclass(frozen=True)
class Dataset:
    """Raw images as rows. X_* : (n, n_pixels) uint8 or float, y_* : (n,) int class indices.

    ``X_test`` is None when the data set has no official test split (digits).
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    class_names: list[str]


@dataclass(frozen=True)
class Split:
    """A prepared task: normalised float arrays, labels re-indexed 0..n_classes-1.

    X_* : (n, n_features), y_* : (n,). For a pair of classes, label 1 is the second class named.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


# -- reading ----------------------------------------------------------------------------------
def data_folder(name: str) -> Path:
    root = os.environ.get("EXPLORER_DATA_DIR")
    return Path(root) / name if root else Path("/usr/share/datasets") / name


def _open_idx(folder: Path, stem: str) -> bytes:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            try:
                return gzip.decompress(candidate.read_bytes()) if candidate.suffix == ".gz" else candidate.read_bytes()
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                raise DataError(f"{candidate} is not a readable gzip file ({exc}); replace it with the "
                                f"original {stem}.gz or the uncompressed {stem}.") from exc
    raise FileNotFoundError(stem)


def parse_idx(raw: bytes, expected_dims: int, source: str) -> np.ndarray:
    """Decode an IDX file of unsigned bytes (magic 0x0000080N) into an array with N dimensions."""
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08" or raw[3] != expected_dims:
        raise DataError(f"{source}: bad magic number {raw[:4].hex() or '(empty file)'}; expected "
                        f"0000080{expected_dims} (unsigned bytes, {expected_dims} dimensions). "
                        "Is this the right file?")
    header = 4 + 4 * expected_dims
    if len(raw) < header:
        raise DataError(f"{source}: truncated header ({len(raw)} bytes); the file is incomplete, copy it again.")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(expected_dims))
    size = int(np.prod(shape))
    if len(raw) - header != size:
        raise DataError(f"{source}: header announces shape {shape} = {size} bytes of data but the file "
                        f"holds {len(raw) - header}; the file is truncated or corrupt, copy it again.")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _read_idx_pair(folder: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    images_stem, labels_stem = IDX_FILES[part]
    images = parse_idx(_open_idx(folder, images_stem), 3, str(folder / images_stem))
    labels = parse_idx(_open_idx(folder, labels_stem), 1, str(folder / labels_stem))
    if len(images) != len(labels):
        raise DataError(f"{folder}: {images_stem} holds {len(images)} images but {labels_stem} holds "
                        f"{len(labels)} labels; the two files do not belong together.")
    return images.reshape(len(images), -1), labels.astype(np.int64)


def _expected_files() -> str:
    return ", ".join(f"{stem}[.gz]" for pair in IDX_FILES.values() for stem in pair)


@functools.lru_cache(maxsize=4)
def load_dataset(name: str) -> Dataset:
    """Read a data set once per process; raises DataError with what to do when it is missing."""
    if name not in DATASETS:
        raise DataError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}.")
    if name == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits()
        return Dataset(name, bunch.data.astype(np.uint8), bunch.target.astype(np.int64), None, None,
                       CLASS_NAMES[name])
    folder = data_folder(name)
    try:
        X, y = _read_idx_pair(folder, "train")
        X_test, y_test = _read_idx_pair(folder, "test")
    except FileNotFoundError as missing:
        hint = "apt-get install dataset-fashion-mnist" if name == "fashion-mnist" else "copy the IDX files there"
        raise DataError(f"data set {name!r}: file {missing.args[0]}[.gz] not found in {folder}. Expected "
                        f"{_expected_files()}. Set EXPLORER_DATA_DIR to a folder holding {name}/, or {hint}."
                        ) from None
    return Dataset(name, X, y, X_test, y_test, CLASS_NAMES[name])


# -- normalisation (lecture 3.2.2) --------------------------------------------------------------
def normaliser(X_train: np.ndarray, method: str):
    """Fit a normalisation on the training split only and return it as a function of X.

    As the lecture prescribes for images, the statistics are taken over all pixels at once
    (one min, max, mean and standard deviation), since all pixels already share one scale.
    """
    if method not in NORMALISATIONS:
        raise ValueError(f"unknown normalisation {method!r}; choose one of {NORMALISATIONS}")
    X_train = np.asarray(X_train, dtype=np.float64)
    if method == "none":
        return lambda X: np.asarray(X, dtype=np.float64)
    if method == "z":
        mean, std = X_train.mean(), X_train.std()
        return lambda X: (np.asarray(X, dtype=np.float64) - mean) / (std or 1.0)
    low, high = X_train.min(), X_train.max()
    span = (high - low) or 1.0
    if method == "rescale":
        return lambda X: (np.asarray(X, dtype=np.float64) - low) / span          # -> [0, 1]
    return lambda X: 2 * (np.asarray(X, dtype=np.float64) - low) / span - 1      # -> [-1, 1]


# -- tasks and splits -------------------------------------------------------------------------
def _select(X: np.ndarray, y: np.ndarray, classes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Keep the named classes and number them 0, 1, ... in the order given."""
    if not classes:
        return X, y
    mask = np.isin(y, classes)
    relabel = np.zeros(int(y.max()) + 1, dtype=np.int64)
    relabel[list(classes)] = np.arange(len(classes))
    return X[mask], relabel[y[mask]]


def _stratified_cap(X, y, cap: int, seed: int):
    if not cap or cap >= len(y):
        return X, y
    X, _, y, _ = train_test_split(X, y, train_size=cap, stratify=y, random_state=seed)
    return X, y


@functools.lru_cache(maxsize=8)
def prepare(dataset: str, classes: tuple[int, ...] = (), normalisation: str = "z",
            val_fraction: float = 0.2, max_train: int = 0, seed: int = 0, dtype: str = "float32") -> Split:
    """Task (all classes, or a pair as a binary problem) -> stratified train/val/test split.

    The test split is the data set's own where it has one, else a stratified 25 % of digits.
    ``max_train`` (0 = all) caps the training samples for quick runs; validation is drawn from
    the training part. Normalisation statistics come from the (capped) training split only.
    """
    data = load_dataset(dataset)
    n_classes = len(data.class_names)
    bad = [c for c in classes if not 0 <= c < n_classes]
    if bad or (classes and len(set(classes)) != len(classes)):
        raise ValueError(f"classes {list(classes)} must be distinct indices between 0 and {n_classes - 1}")
    X, y = _select(data.X, data.y, classes)
    if data.X_test is None:
        X, X_test, y, y_test = train_test_split(X, y, test_size=DIGITS_TEST_FRACTION, stratify=y, random_state=seed)
    else:
        X_test, y_test = _select(data.X_test, data.y_test, classes)
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=val_fraction, stratify=y, random_state=seed)
    X_train, y_train = _stratified_cap(X_train, y_train, max_train, seed)
    norm = normaliser(X_train, normalisation)
    arrays = [norm(A).astype(dtype) for A in (X_train, X_val, X_test)]
    for A in arrays:
        A.flags.writeable = False  # shared by every trial of the process: nobody may change it
    names = [data.class_names[c] for c in classes] if classes else list(data.class_names)
    return Split(arrays[0], y_train, arrays[1], y_val, arrays[2], y_test, names)
