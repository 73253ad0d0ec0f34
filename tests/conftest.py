import gzip
import os
import struct

import numpy as np
import pytest

from core import data


def write_idx(path, array, compress=True, magic=None):
    """Write an unsigned-byte IDX file (the format of MNIST and Fashion-MNIST)."""
    array = np.asarray(array, dtype=np.uint8)
    magic = magic if magic is not None else 0x0800 + array.ndim
    raw = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape) + array.tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return raw


def fake_idx_dataset(folder, n_train=200, n_test=60, compress=True, seed=0):
    """A small 10-class image set with class-dependent pixels, saved as the four IDX files."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if compress else ""
    arrays = {}
    for part, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n) % 10
        images = rng.integers(0, 60, size=(n, 6, 6))
        images[np.arange(n), labels // 6, labels % 6] = 250  # one bright pixel per class
        write_idx(folder / f"{part}-images-idx3-ubyte{suffix}", images, compress)
        write_idx(folder / f"{part}-labels-idx1-ubyte{suffix}", labels, compress)
        arrays[part] = (images, labels)
    return arrays


@pytest.fixture(autouse=True, scope="session")
def _splits_folder(tmp_path_factory):
    """The suite's prepared splits (core.shared_splits) in a folder of its own, for every process it starts."""
    previous = os.environ.get("EXPLORER_SPLITS_DIR")
    os.environ["EXPLORER_SPLITS_DIR"] = str(tmp_path_factory.mktemp("splits"))
    yield
    if previous is None:
        os.environ.pop("EXPLORER_SPLITS_DIR")
    else:
        os.environ["EXPLORER_SPLITS_DIR"] = previous


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """EXPLORER_DATA_DIR pointing at an empty folder, with the per-process caches cleared."""
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path))
    for cache in (data.load_dataset, data.prepare, data._idx_sizes):
        cache.cache_clear()
    yield tmp_path
    for cache in (data.load_dataset, data.prepare, data._idx_sizes):
        cache.cache_clear()
