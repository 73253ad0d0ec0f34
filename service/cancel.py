"""Cooperative cancellation and progress: a running trial asks, at a bounded interval, whether its
run was stopped, and tells how far it has got (``stopper``), so a page's bar moves during a trial.

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
REPORT_SECONDS = 0.3  # a trial's progress is sent at most this often
PROGRESS_TOPIC = "explorer-progress"  # the Dask event topic progress travels on
_local = threading.local()  # the token and task index of the trial running in this thread


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
        for found in self._progress_files():
            found.unlink(missing_ok=True)

    def _progress_files(self):
        return Path(self.path).parent.glob(Path(self.path).name + ".*.progress")

    def report(self, index: int, done: float) -> None:
        """Keep task ``index``'s share done in a file beside the flag (replaced whole: never half read)."""
        target = f"{self.path}.{index}.progress"
        with contextlib.suppress(OSError):  # a pool closing removes the folder; progress is a nicety
            Path(target + ".tmp").write_text(f"{done:.4f}")
            os.replace(target + ".tmp", target)

    def progress(self) -> dict[int, float]:
        """Each running task's share done, by task index."""
        found = {}
        for path in self._progress_files():
            with contextlib.suppress(OSError, ValueError):
                found[int(path.name.rsplit(".", 2)[1])] = float(path.read_text())
        return found


class DaskEventToken(_RateLimited):
    """Set through a ``distributed.Event`` of this name, which reaches workers on other machines."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name

    def _ask(self) -> bool:
        from distributed import Event

        return Event(self.name).is_set()

    def report(self, index: int, done: float) -> None:
        """Send task ``index``'s share done to the client (``DaskPool`` listens on PROGRESS_TOPIC)."""
        from distributed import get_worker

        with contextlib.suppress(ValueError):  # not on a Dask worker
            get_worker().log_event(PROGRESS_TOPIC, {"token": self.name, "index": index, "done": done})


def requested() -> bool:
    """Whether the run of the trial running in this thread has been cancelled."""
    token = getattr(_local, "token", None)
    return token is not None and token.is_set()


def report(done: float) -> None:
    """Tell the run of the trial running in this thread that ``done`` (0 to 1) of it is done; at most
    every REPORT_SECONDS."""
    token, now = getattr(_local, "token", None), time.monotonic()
    if token is None or not hasattr(token, "report") or now < getattr(_local, "next_report", 0.0):
        return
    _local.next_report = now + REPORT_SECONDS
    token.report(_local.index, done)


def stopper(steps: int):
    """The ``stop`` callback of a training loop of ``steps`` batches: each call counts a batch (its
    progress, reported) and says whether the run was cancelled."""
    done = 0

    def stop() -> bool:
        nonlocal done
        report(done / max(steps, 1))
        done += 1
        return requested()

    return stop


@contextlib.contextmanager
def watching(token, index: int = 0):
    """Make ``token`` the one ``requested()`` consults (and ``report`` reports task ``index`` to) in this
    thread while the block runs."""
    previous = getattr(_local, "token", None), getattr(_local, "index", 0)
    _local.token, _local.index, _local.next_report = token, index, 0.0
    try:
        yield
    finally:
        _local.token, _local.index = previous
