"""Cooperative cancellation: a running trial asks, at a bounded interval, whether its run was stopped.

A trial cannot be killed from outside without killing its worker, and with it whatever another run
would schedule there next, so the training loop polls a token instead (every batch; the token itself
looks at most every ``CHECK_SECONDS``). Tokens are small picklable objects that travel with the
trial to any worker: a flag file for local processes, a ``distributed.Event`` on a Dask cluster.
"""
from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

CHECK_SECONDS = 0.2
_local = threading.local()  # the token of the trial running in this thread


class _RateLimited:
    """Remembers a "set" answer for good and asks the source at most every CHECK_SECONDS."""

    def __init__(self):
        self._seen, self._next = False, 0.0

    def is_set(self) -> bool:
        now = time.monotonic()
        if not self._seen and now >= self._next:
            self._next = now + CHECK_SECONDS
            self._seen = self._ask()
        return self._seen

    def __getstate__(self):  # a copy sent to a worker asks afresh
        return {k: v for k, v in self.__dict__.items() if k not in ("_seen", "_next")}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._seen, self._next = False, 0.0

    def _ask(self) -> bool:
        raise NotImplementedError


class FlagFileToken(_RateLimited):
    """Set when a file exists: one ``stat`` every CHECK_SECONDS, visible to every local process."""

    def __init__(self, path: str | Path):
        super().__init__()
        self.path = str(path)

    def _ask(self) -> bool:
        return os.path.exists(self.path)

    def set(self) -> None:
        Path(self.path).touch()

    def discard(self) -> None:
        Path(self.path).unlink(missing_ok=True)


class DaskEventToken(_RateLimited):
    """Set through a ``distributed.Event`` of this name, which reaches workers on other machines."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name

    def _ask(self) -> bool:
        from distributed import Event

        return Event(self.name).is_set()


def requested() -> bool:
    """Whether the run of the trial running in this thread has been cancelled."""
    token = getattr(_local, "token", None)
    return token is not None and token.is_set()


@contextlib.contextmanager
def watching(token):
    """Make ``token`` the one ``requested()`` consults in this thread while the block runs."""
    previous, _local.token = getattr(_local, "token", None), token
    try:
        yield
    finally:
        _local.token = previous
