"""Prepared splits of the IDX data sets, kept on disk once per machine and memory-mapped by every worker.

Decoding Fashion-MNIST and normalising it costs each worker about a second and 220 MB of its own
memory (float32). Instead the first worker to need a split builds it and saves its arrays as ``.npy``
files; every worker then maps those files read-only, so the operating system keeps one copy in its
page cache for all of them, and a later run (or a restarted server) skips the decoding altogether.

- The folder is ``$EXPLORER_SPLITS_DIR``, else ``~/.cache/mlp-study-explorer/splits``. It must be
  this user's own and writable by nobody else; any other folder is not used (splits are then built
  in memory, as before), since another user could plant arrays there.
- Only what this module writes is ever removed: entries, their locks and half-written copies, each
  recognised by its name and (folders) by the ``MARKER`` file written first into it. A folder that
  holds anything else, or that is a symbolic link, is not used at all: pointed at an existing folder
  (``results-2025/``) or through a link (to ``~/``), the bound below deleted other people's work.
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
import re
import shutil
import stat
import time
import uuid
from pathlib import Path
from typing import Callable

import numpy as np

FORMAT = 1  # bump when the saved layout or the preparation changes
ARRAYS = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")
ABANDONED_SECONDS = 3600  # a split is saved in seconds: a half-written folder this old has no writer left
MARKER = ".mlp-study-explorer-split"  # written first into every entry: what makes a folder ours to remove
ENTRY = re.compile(r"[0-9a-f]{32}")
OURS = re.compile(r"[0-9a-f]{32}(\.lock|\.[0-9a-f]{32}\.tmp)?")
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
        info = path.lstat()  # not stat: a link's target is somebody's folder, not ours
        foreign = [e.name for e in os.scandir(path) if not _ours(e)] if stat.S_ISDIR(info.st_mode) else []
    except OSError as exc:
        log.warning("prepared splits are not shared: %s cannot be created (%s)", path, exc)
        return None
    if not stat.S_ISDIR(info.st_mode):
        log.warning("prepared splits are not shared: %s is a symbolic link (or not a folder); give a folder of "
                    "its own (EXPLORER_SPLITS_DIR)", path)
        return None
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        log.warning("prepared splits are not shared: %s belongs to another user or others may write to it; "
                    "use a folder of your own (EXPLORER_SPLITS_DIR)", path)
        return None
    if foreign:
        log.warning("prepared splits are not shared: %s holds %d things this program did not write (%s); give "
                    "it an empty folder of its own (EXPLORER_SPLITS_DIR), nothing there is touched", path,
                    len(foreign), ", ".join(sorted(foreign)[:3]))
        return None
    return path


def _ours(entry: os.DirEntry) -> bool:
    """Whether this module wrote ``entry``: its name, its kind (never a link) and, for a folder, the marker."""
    if not OURS.fullmatch(entry.name) or entry.is_symlink():
        return False
    if entry.name.endswith(".lock"):
        return entry.is_file(follow_symlinks=False)
    return entry.is_dir(follow_symlinks=False) and _marked(Path(entry.path))


def _marked(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path / MARKER).st_mode)
    except OSError:
        return False


def _remove(path: Path) -> None:
    """Remove an entry or half-written copy, only if it is a folder this module marked."""
    if _marked(path) and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)


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
        _remove(entry)
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
    (temporary / MARKER).touch()
    try:
        for a in ARRAYS:
            np.save(temporary / f"{a}.npy", np.ascontiguousarray(getattr(split, a)), allow_pickle=False)
        (temporary / "class_names.json").write_text(json.dumps(list(split.class_names)))
        temporary.rename(entry)
    finally:
        _remove(temporary)


def _size(entry: Path) -> int:
    return sum(f.stat().st_size for f in entry.iterdir())


def _bound(root: Path, keep: Path) -> None:
    """Least recently used entries removed until the folder fits ``limit_bytes`` (``keep`` stays),
    and half-written ones that a killed worker left over ``ABANDONED_SECONDS`` ago. A worker still
    mapping a removed entry keeps reading it: the files live on until unmapped."""
    try:
        for left in root.glob("*.tmp"):
            if time.time() - left.lstat().st_mtime > ABANDONED_SECONDS:
                _remove(left)
        entries = sorted((e for e in root.iterdir() if ENTRY.fullmatch(e.name) and e != keep and _marked(e)),
                         key=lambda e: e.lstat().st_mtime)
        total = _size(keep) + sum(_size(e) for e in entries)
        for entry in entries:
            if total <= limit_bytes():
                break
            total -= _size(entry)
            _remove(entry)
            Path(f"{entry}.lock").unlink(missing_ok=True)
    except OSError as exc:  # another worker removed an entry first
        log.info("bounding %s: %s", root, exc)
