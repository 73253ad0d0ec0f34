"""Which server process computes a run, when several share one result store (a class on two
servers, or a server restarted beside its old one): a server claims a run before computing it, tells
the store every few seconds how far its runs have got, and releases the claim once the result is
stored; another server that finds the claim fresh follows that run instead of computing it again.
The rows live in the store (``ResultStore.claim``, ``beat``, ``release``, ``in_flight``); this is
the one place that speaks for this server process.
"""
from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from typing import Callable

from service.engine import Engine
from service.store import ResultStore

BEAT_SECONDS = 5  # how often a server tells the store its runs are alive (``service.store.STALE_SECONDS``: 20)


def server_name() -> str:
    """A name for this server process that no other process, here or on another machine, shares."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class ServerClaims:
    """The claims of the server process ``server`` in ``store``. Its heartbeat starts with the first
    claim and reports the runs of the engine ``engine()`` gives (None: no engine yet)."""

    def __init__(self, store: ResultStore, server: str, engine: Callable[[], Engine | None]):
        self.store, self.server, self._engine = store, server, engine
        self._beating = threading.Lock()
        self._thread: threading.Thread | None = None

    def take(self, key: str) -> str | None:
        """Claim ``key`` for this server: None when it is ours now, else the server computing it."""
        self._beat()
        return self.store.claim(key, self.server)

    def release(self, key: str) -> None:
        self.store.release(key, self.server)

    def elsewhere(self, key: str) -> dict | None:
        """The store's row of ``key`` (server, trials done and planned) when another server is computing it."""
        found = self.store.in_flight(key)
        return found if found is not None and found["server"] != self.server else None

    def _beat(self) -> None:
        with self._beating:
            if self._thread is None:
                self._thread = threading.Thread(target=self._beats, name="explorer-beacon", daemon=True)
                self._thread.start()

    def _beats(self) -> None:
        while True:
            time.sleep(BEAT_SECONDS)
            engine = self._engine()
            if engine is not None:
                self.store.beat(self.server, {run.key: (engine.progress(run), run.total) for run in engine.active()})
