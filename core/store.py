"""Finished study results kept on disk, so a shared link shows its results at once.

An entry is keyed by the study, its parameters and the code version (a hash of the sources of
``core/`` and ``studies/``): changing the maths invalidates old results instead of serving them.
Entries are written atomically (temporary file, then rename); an entry that cannot be read is
removed and treated as missing, so the study is simply computed again. The folder is
``$EXPLORER_STORE_DIR``, else ``.store/`` beside the code; it holds only what this server wrote.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    digest = hashlib.sha256()
    for path in sorted([*ROOT.glob("core/*.py"), *ROOT.glob("studies/*.py")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def default_folder() -> Path:
    return Path(os.environ.get("EXPLORER_STORE_DIR") or ROOT / ".store")


class ResultStore:
    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder else default_folder()

    def key(self, study: str, values: dict) -> str:
        text = json.dumps({"study": study, "values": values, "code": code_version()}, sort_keys=True, default=list)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def _path(self, study: str, values: dict) -> Path:
        return self.folder / study / f"{self.key(study, values)}.pickle"

    def load(self, study: str, values: dict) -> Any | None:
        path = self._path(study, values)
        try:
            with path.open("rb") as handle:
                return pickle.load(handle)
        except FileNotFoundError:
            return None
        except Exception:  # truncated or corrupt entry: drop it, the caller recomputes
            path.unlink(missing_ok=True)
            return None

    def save(self, study: str, values: dict, result: Any) -> None:
        path = self._path(study, values)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def recent(self, count: int = 5) -> list[tuple[str, float, Any]]:
        """The newest readable entries as (study, modification time, result), newest first."""
        entries = sorted(self.folder.glob("*/*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        found = []
        for path in entries:
            if len(found) == count:
                break
            try:
                with path.open("rb") as handle:
                    found.append((path.parent.name, path.stat().st_mtime, pickle.load(handle)))
            except Exception:  # unreadable or vanished meanwhile: not worth listing
                continue
        return found
