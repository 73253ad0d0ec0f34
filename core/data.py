"""Data sets, tasks, splits and the normalisations of lecture 3.2.2.

``digits`` (scikit-learn's 8x8 "MNIST light") is embedded and always available. ``fashion-mnist``
and ``mnist`` are read from the standard IDX files in ``$EXPLORER_DATA_DIR/<name>/``, else in
``/usr/share/datasets/<name>/`` (Debian's ``dataset-fashion-mnist`` installs there); nothing is
downloaded. Loaded arrays and prepared splits are cached per process (splits bounded in bytes), so
parallel trials that run in the same worker read each file once; the IDX data sets' prepared splits
are also shared by every worker of a machine as memory-mapped files (``core.shared_splits``).
"""
from __future__ import annotations

import functools
import gzip
import math
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from core import shared_splits
from core.toy import TOY_CLASSES, make

NORMALISATIONS = ("none", "rescale", "minmax", "z")
DIGITS_TEST_FRACTION = 0.25  # digits has no official test split; the IDX data sets do

CLASS_NAMES = {
    "digits": [str(i) for i in range(10)],
    "mnist": [str(i) for i in range(10)],
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
}
CLASS_NAMES.update({name: [f"class {i}" for i in range(k)] for name, k in TOY_CLASSES.items()})
DATASETS = tuple(CLASS_NAMES)
IDX_DATASETS = ("mnist", "fashion-mnist")  # read from files on disk (every machine running trials needs them)
N_CLASSES = 10  # of the image data sets (an IDX label outside 0-9 is a broken file)
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

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.X_train, self.y_train, self.X_val, self.y_val, self.X_test, self.y_test))


# -- reading ----------------------------------------------------------------------------------
def data_folder(name: str) -> Path:
    root = os.environ.get("EXPLORER_DATA_DIR")
    return Path(root) / name if root else Path("/usr/share/datasets") / name


def _idx_path(folder: Path, stem: str) -> Path:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(stem)


def _open_idx(folder: Path, stem: str, limit: int | None = None) -> bytes:
    """The file's bytes (decompressed), or only its first ``limit`` bytes."""
    path = _idx_path(folder, stem)
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")) as handle:
            return handle.read(-1 if limit is None else limit)
    except PermissionError as exc:
        raise DataError(f"{path} cannot be read: permission denied. Let the user running the app read it "
                        f"(chmod a+r {path}).") from exc
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        kind = "gzip file" if path.suffix == ".gz" else "file"
        raise DataError(f"{path} is not a readable {kind} ({exc}); replace it with the original {stem}.gz "
                        f"or the uncompressed {stem}.") from exc


MAX_IDX_BYTES = 2 ** 32  # 4 GB: ten times the largest MNIST-style file; more is a broken header


def idx_shape(raw: bytes, expected_dims: int, source: str) -> tuple[int, ...]:
    """The shape an IDX header announces, checked for the magic number and a plausible size."""
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08" or raw[3] != expected_dims:
        raise DataError(f"{source}: bad magic number {raw[:4].hex() or '(empty file)'}; expected "
                        f"0000080{expected_dims} (unsigned bytes, {expected_dims} dimensions). "
                        "Is this the right file?")
    header = 4 + 4 * expected_dims
    if len(raw) < header:
        raise DataError(f"{source}: truncated header ({len(raw)} bytes); the file is incomplete, copy it again.")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(expected_dims))
    if math.prod(shape) > MAX_IDX_BYTES:
        raise DataError(f"{source}: header announces shape {shape}, {math.prod(shape):,} bytes, more than any "
                        "image data set of this kind; the header is corrupt, copy the file again.")
    return shape


def parse_idx(raw: bytes, expected_dims: int, source: str) -> np.ndarray:
    """Decode an IDX file of unsigned bytes (magic 0x0000080N) into an array with N dimensions."""
    shape = idx_shape(raw, expected_dims, source)
    header = 4 + 4 * expected_dims
    size = math.prod(shape)
    if len(raw) - header != size:
        raise DataError(f"{source}: header announces shape {shape} = {size} bytes of data but the file "
                        f"holds {len(raw) - header}; the file is truncated or corrupt, copy it again.")
    if expected_dims == 3 and (shape[0] == 0 or shape[1] * shape[2] == 0):
        raise DataError(f"{source}: header announces shape {shape}: no images or images without pixels; the "
                        "file is empty or corrupt, copy it again.")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _read_idx_pair(folder: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    images_stem, labels_stem = IDX_FILES[part]
    images = parse_idx(_open_idx(folder, images_stem), 3, str(folder / images_stem))
    labels = parse_idx(_open_idx(folder, labels_stem), 1, str(folder / labels_stem))
    _check_pair(folder, part, len(images), len(labels))
    if len(labels) and labels.max() >= N_CLASSES:
        raise DataError(f"{folder / labels_stem}: label {int(labels.max())} is outside the classes 0-{N_CLASSES - 1} "
                        "of this data set; the file is corrupt or from another data set.")
    return images.reshape(len(images), -1), labels.astype(np.int64)


def _check_pair(folder: Path, part: str, n_images: int, n_labels: int) -> None:
    images_stem, labels_stem = IDX_FILES[part]
    if n_images != n_labels:
        raise DataError(f"{folder}: {images_stem} holds {n_images} images but {labels_stem} holds "
                        f"{n_labels} labels; the two files do not belong together.")


def _expected_files() -> str:
    return ", ".join(f"{stem}[.gz]" for pair in IDX_FILES.values() for stem in pair)


@functools.lru_cache(maxsize=4)
def load_dataset(name: str) -> Dataset:
    """Read a data set once per process; raises DataError with what to do when it is missing."""
    if name in TOY_CLASSES:
        raise DataError(f"{name} is generated from its sample count, noise and seed: use prepare().")
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
        raise _missing(name, folder, missing.args[0]) from None
    return Dataset(name, X, y, X_test, y_test, CLASS_NAMES[name])


def _missing(name: str, folder: Path, stem: str) -> DataError:
    hint = "apt-get install dataset-fashion-mnist" if name == "fashion-mnist" else "copy the IDX files there"
    return DataError(f"data set {name!r}: file {stem}[.gz] not found in {folder}. Expected {_expected_files()}. "
                     f"Set EXPLORER_DATA_DIR to a folder holding {name}/, or {hint}.")


DIGITS_SHAPE = (1797, 0, 64)  # samples, official test samples, features


@functools.lru_cache(maxsize=8)
def _idx_sizes(name: str, folder: Path) -> tuple[int, int, int]:
    sizes = {}
    for part, (images_stem, labels_stem) in IDX_FILES.items():
        try:
            images = idx_shape(_open_idx(folder, images_stem, 16), 3, str(folder / images_stem))
            labels = idx_shape(_open_idx(folder, labels_stem, 8), 1, str(folder / labels_stem))
        except FileNotFoundError as missing:
            raise _missing(name, folder, missing.args[0]) from None
        _check_pair(folder, part, images[0], labels[0])
        sizes[part] = images
    return sizes["train"][0], sizes["test"][0], sizes["train"][1] * sizes["train"][2]


def dataset_shape(name: str, toy_samples: int = 0) -> tuple[int, int, int]:
    """(samples, official test samples, features) from the files' headers alone: what a server
    needs to check a run and estimate its cost without loading the data into its memory. Data sets
    without an official test split (digits, the toy sets) report 0 test samples."""
    if name not in DATASETS:
        raise DataError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}.")
    if name in TOY_CLASSES:
        return toy_samples, 0, 2
    return DIGITS_SHAPE if name == "digits" else _idx_sizes(name, data_folder(name))


def check_task(name: str, classes: tuple[int, ...] = ()) -> None:
    """Raise DataError when the data set's files are missing or broken, ValueError for a bad pair."""
    dataset_shape(name)
    n_classes = len(CLASS_NAMES[name])
    bad = [c for c in classes if not 0 <= c < n_classes]
    if bad or len(set(classes)) != len(classes):
        raise ValueError(f"classes {list(classes)} must be distinct indices between 0 and {n_classes - 1} "
                         f"for {name}")


def task_class_names(name: str, classes: tuple[int, ...] = ()) -> list[str]:
    return [CLASS_NAMES[name][c] for c in classes] if classes else list(CLASS_NAMES[name])


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


class _BytesCache:
    """Least-recently-used cache of prepared splits bounded by their size in bytes, not their count:
    one Fashion-MNIST split is about 200 MB, a digits split 0.4 MB. ``$EXPLORER_CACHE_MB`` (default
    512) bounds each process; the split in use is returned even when it alone exceeds the bound."""

    def __init__(self, function):
        self.function, self.entries, self.lock = function, OrderedDict(), threading.Lock()
        functools.update_wrapper(self, function)

    @staticmethod
    def limit() -> int:
        return int(float(os.environ.get("EXPLORER_CACHE_MB", 512)) * 2 ** 20)

    def nbytes(self) -> int:
        with self.lock:
            return sum(split.nbytes for split in self.entries.values())

    def __call__(self, *args, **kwargs):
        key = (args, tuple(sorted(kwargs.items())))
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        value = self.function(*args, **kwargs)
        with self.lock:
            self.entries[key] = value
            while len(self.entries) > 1 and sum(s.nbytes for s in self.entries.values()) > self.limit():
                self.entries.popitem(last=False)
        return value

    def cache_clear(self) -> None:
        with self.lock:
            self.entries.clear()


@_BytesCache
def prepare(dataset: str, classes: tuple[int, ...] = (), normalisation: str = "z",
            val_fraction: float = 0.2, max_train: int = 0, seed: int = 0, dtype: str = "float32",
            toy_samples: int = 400, toy_noise: float = 0.2) -> Split:
    """Task (all classes, or a pair as a binary problem) -> stratified train/val/test split.

    The test split is the data set's own where it has one, else a stratified 25 % (digits and the
    two-dimensional toy sets, which are generated from ``toy_samples``, ``toy_noise`` and the seed).
    ``max_train`` (0 = all) caps the training samples for quick runs; validation is drawn from
    the training part. Normalisation statistics come from the (capped) training split only.
    The IDX data sets' splits are built once per machine and memory-mapped (``core.shared_splits``);
    the others take milliseconds to build.
    """
    check_task(dataset, classes)
    arguments = dict(dataset=dataset, classes=classes, normalisation=normalisation, val_fraction=val_fraction,
                     max_train=max_train, seed=seed, dtype=dtype, toy_samples=toy_samples, toy_noise=toy_noise)
    if dataset not in IDX_DATASETS:
        return _prepare(**arguments)
    folder = data_folder(dataset)
    try:
        files = [_idx_path(folder, stem) for pair in IDX_FILES.values() for stem in pair]
    except FileNotFoundError as missing:  # removed since its header was checked (and cached)
        raise _missing(dataset, folder, missing.args[0]) from None
    return shared_splits.load_or_build(shared_splits.key(arguments, files), lambda: _prepare(**arguments), Split)


def _prepare(dataset: str, classes: tuple[int, ...], normalisation: str, val_fraction: float, max_train: int,
             seed: int, dtype: str, toy_samples: int, toy_noise: float) -> Split:
    if dataset in TOY_CLASSES:
        X, y = make(dataset, toy_samples, toy_noise, seed)
        data = Dataset(dataset, X, y, None, None, CLASS_NAMES[dataset])
    else:
        data = load_dataset(dataset)
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
