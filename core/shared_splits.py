"""Prepared splits of the IDX data sets, kept on disk once per machine and memory-mapped by every worker.

Decoding Fashion-MNIST and normalising it costs each worker about a second and 220 MB of its own
memory (float32). Instead the first worker to need a split builds it and saves its arrays as ``.npy``
files; every worker then maps those files read-only, so the operating system keeps one copy in its
page cache for all of them, and a later run (or a restarted server) skips the decoding altogether.

- The folder is ``$EXPLORER_SPLITS_DIR``, else ``~/.cache/mlp-study-explorer/splits``. It must be
  this user's own and writable by nobody else; any other folder is not used (splits are then built
  in memory, as before), since another user could plant arrays there.
- An entry is named by a hash of everything the split depends on: the ``prepare`` arguments, the
  data files' size, modification time and inode, and ``FORMAT``. A changed file is a new entry.
- Files are read with ``allow_pickle=False`` and checked (shapes, types, labels); an entry that
  fails the checks is removed and built again. Nothing read from the folder is ever executed.
- ``$EXPLORER_SPLITS_MB`` (default 2048) bounds the folder: after a new entry is written, the least
  recently used others are removed until the folder fits.
- A lock file per entry makes workers that miss together wait for one build instead of each
  building its own.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Callable

import numpy as np

FORMAT = 1  # bump when the saved layout or the preparation changes
ARRAYS = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")
ABANDONED_SECONDS = 3600  # a split is saved in seconds: a half-written folder this old has no writer left
log = logging.getLogger(__name__)


def folder() -> Path:
    root = os.environ.get("EXPLORER_SPLITS_DIR")
    if root:
        return Path(root)
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "mlp-study-explorer" / "splits"


def limit_bytes() -> int:
    return int(float(os.environ.get("EXPLORER_SPLITS_MB", 2048)) * 2 ** 20)


def private_folder() -> Path | None:
    """The folder, created if need be, or None when it is not safe to read arrays from it."""
    path = folder()
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.stat()
    except OSError as exc:
        log.warning("prepared splits are not shared: %s cannot be created (%s)", path, exc)
        return None
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        log.warning("prepared splits are not shared: %s belongs to another user or others may write to it; "
                    "use a folder of your own (EXPLORER_SPLITS_DIR)", path)
        return None
    return path


def key(arguments: dict, files: list[Path]) -> str:
    stats = [(str(f), s.st_size, s.st_mtime_ns, s.st_ino) for f, s in ((f, f.stat()) for f in files)]
    text = json.dumps([FORMAT, sorted(arguments.items()), stats], default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def load_or_build(name: str, build: Callable[[], object], make: Callable[..., object]):
    """The split saved as ``name``, memory-mapped; else ``build()`` it, save it and map the saved
    copy. ``make(**arrays, class_names=...)`` turns loaded arrays into a split. Without a usable
    folder, or when saving fails (a full disk), the built split is returned as it is."""
    root = private_folder()
    if root is None:
        return build()
    entry = root / name
    try:
        lock = open(root / f"{name}.lock", "a")
    except OSError as exc:  # a read-only or full disk
        log.warning("prepared splits are not shared: %s cannot be locked (%s)", entry, exc)
        return build()
    with lock:  # closing the file releases the lock
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = _load(entry, make)
        if found is not None:
            return found
        split = build()
        try:
            _save(split, entry)
        except OSError as exc:
            log.warning("prepared split not saved to %s (%s); it stays in this worker's memory", entry, exc)
            return split
    _bound(root, keep=entry)
    return _load(entry, make) or split


def _load(entry: Path, make: Callable[..., object]):
    if not entry.is_dir():
        return None
    try:
        arrays = {a: np.asarray(np.load(entry / f"{a}.npy", mmap_mode="r", allow_pickle=False)) for a in ARRAYS}
        names = json.loads((entry / "class_names.json").read_text())
        _check(arrays, names)
    except (OSError, ValueError, TypeError) as exc:
        log.warning("prepared split %s is unreadable (%s); building it again", entry, exc)
        shutil.rmtree(entry, ignore_errors=True)
        return None
    with contextlib.suppress(OSError):
        os.utime(entry)  # recently used: the bound removes the others first
    return make(**arrays, class_names=names)


def _check(arrays: dict, names) -> None:
    """What a split's users rely on; a file changed by anything but ``_save`` fails here."""
    if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
        raise ValueError("class names are not a list of strings")
    width = arrays["X_train"].shape[1:]
    for part in ("train", "val", "test"):
        X, y = arrays[f"X_{part}"], arrays[f"y_{part}"]
        if X.ndim != 2 or X.shape[1:] != width or X.dtype.kind != "f" or y.shape != (len(X),) or y.dtype != np.int64:
            raise ValueError(f"{part} arrays have shapes {X.shape}, {y.shape} and types {X.dtype}, {y.dtype}")
        if len(y) and (y.min() < 0 or y.max() >= len(names)):
            raise ValueError(f"{part} labels lie outside 0..{len(names) - 1}")


def _save(split, entry: Path) -> None:
    """Written into a fresh folder, then renamed: a reader sees a whole entry or none."""
    temporary = entry.with_name(f"{entry.name}.{uuid.uuid4().hex}.tmp")
    temporary.mkdir(mode=0o700)
    try:
        for a in ARRAYS:
            np.save(temporary / f"{a}.npy", np.ascontiguousarray(getattr(split, a)), allow_pickle=False)
        (temporary / "class_names.json").write_text(json.dumps(list(split.class_names)))
        temporary.rename(entry)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def _size(entry: Path) -> int:
    return sum(f.stat().st_size for f in entry.iterdir())


def _bound(root: Path, keep: Path) -> None:
    """Least recently used entries removed until the folder fits ``limit_bytes`` (``keep`` stays),
    and half-written ones that a killed worker left over ``ABANDONED_SECONDS`` ago. A worker still
    mapping a removed entry keeps reading it: the files live on until unmapped."""
    try:
        for left in root.glob("*.tmp"):
            if time.time() - left.stat().st_mtime > ABANDONED_SECONDS:
                shutil.rmtree(left, ignore_errors=True)
        entries = sorted((e for e in root.iterdir() if e.is_dir() and e != keep and e.suffix != ".tmp"),
                         key=lambda e: e.stat().st_mtime)
        total = _size(keep) + sum(_size(e) for e in entries)
        for entry in entries:
            if total <= limit_bytes():
                break
            total -= _size(entry)
            shutil.rmtree(entry, ignore_errors=True)
            Path(f"{entry}.lock").unlink(missing_ok=True)
    except OSError as exc:  # another worker removed an entry first
        log.info("bounding %s: %s", root, exc)
