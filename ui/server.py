"""What every session of this server process shares: the run engine and the result store."""
from __future__ import annotations

import os
import uuid

import streamlit as st

from service import engine as engines
from service.claims import ServerClaims, server_name
from service.pools import ClusterProblem
from service.store import ResultStore, default_folder
from studies.common import cost
from studies.common.training import WORKER_PRELOAD


@st.cache_resource
def _store_at(folder: str) -> ResultStore:
    return ResultStore(folder)


def result_store() -> ResultStore:
    return _store_at(str(default_folder()))


SERVER = server_name()  # this server process, in the store


@st.cache_resource
def _claims_at(folder: str) -> ServerClaims:
    return ServerClaims(_store_at(folder), SERVER, lambda: engines.shared() if engines.started() else None)


def claims() -> ServerClaims:
    """This server's claims on runs in the store that other server processes may share."""
    return _claims_at(str(default_folder()))


def engine() -> engines.Engine:
    cost.calibration()  # first, once: workers starting up beside it made it measure 2-3x too slow
    return engines.shared(WORKER_PRELOAD)


def engine_ready() -> bool:
    """Whether the engine is up; if its Dask cluster cannot run trials (unreachable, lost since,
    no workers, workers without this project's code or of another version), say so on the page
    instead of failing later. The next page load tries the cluster again (a lost scheduler's client
    is rebuilt then: ``DaskPool.ready``)."""
    try:
        engine().pool.ready()
        return True
    except ClusterProblem as exc:
        st.error(f"The trials of this server run on a Dask cluster that is not ready: {exc}",
                 icon=":material/cloud_off:")
        return False


def max_run_minutes() -> float:
    return float(os.environ.get("EXPLORER_MAX_RUN_MINUTES") or 30)


def max_runs_per_session() -> int:
    """Runs one browser session may have going at once (``EXPLORER_MAX_RUNS_PER_SESSION``, default 3)."""
    return max(1, int(os.environ.get("EXPLORER_MAX_RUNS_PER_SESSION") or 3))


def who() -> str:
    """This browser session, as the engine knows its interest in runs."""
    return st.session_state.setdefault("explorer:session", uuid.uuid4().hex)
