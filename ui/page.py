"""One layout for every study page: form -> run (followed live) or stored results -> charts, tables,
downloads, share link. A page file only names its study.

Runs belong to the engine (``service.engine``), not to the page: Run submits a run (or joins the one
its parameters name, holding it too), a page opened on a running link only watches it; either way
the page polls it from a fragment, so the script thread never trains and a run goes on when its tab
closes.
"""
from __future__ import annotations

import logging
import time

import streamlit as st

from core.data import DataError
from studies.common import cost, execution, launch
from ui import exercise as exercises
from ui.form import fill_form, form_error, link_texts, plain, preset_picker, sidebar_form, values_from_link
from ui.results import draw_charts, show
from service.engine import TooManyRuns
from service.store import STALE_SECONDS
from ui.server import claims, engine, engine_ready, max_run_minutes, max_runs_per_session, result_store, who

POLL_SECONDS = 0.7      # a running study's page looks at its run this often ...
SLOW_AFTER_SECONDS = 10  # ... until it has run this long, then every SLOW_POLL_SECONDS: each look reruns
SLOW_POLL_SECONDS = 2.0  # the fragment on the server and redraws it in the browser, CPU the workers lack
                         # (a 50 s Fashion-MNIST run: 4.4 s of the server's and 13 of the browser's, now 2.6 and 8.8)
log = logging.getLogger(__name__)


def study_page(study) -> None:
    st.title(study.TITLE)
    st.caption(f"Lecture {study.FIGURES} · {study.SUMMARY}")
    if not engine_ready():
        return
    link_values, warnings = values_from_link(study)
    for warning in warnings:
        st.warning(f"Share link: {plain(warning)}", icon=":material/link_off:")
    active_key = f"{study.NAME}:active"
    active = st.session_state.get(active_key)
    if active is None or (st.query_params and link_values != active):
        active = link_values  # first visit, or another link opened in this session: the link wins
        fill_form(study, active)
    if st.query_params.to_dict() != link_texts(study, active):
        st.query_params.from_dict(link_texts(study, active))  # the address bar is always the share link
    exercises.question_box(study)
    preset_picker(study)
    submitted = sidebar_form(study, active, lambda values: _estimate(study, values))
    values = submitted or active
    st.session_state[active_key] = values
    if form_error(study):
        st.error(f"The form was not run: {plain(form_error(study))}. Fix it in the sidebar; the results below are "
                 "those of the last run, not of the form.", icon=":material/error:")
    key = execution.run_key(study, values)
    if submitted is not None:
        exercises.pressed_run(study, key)
    if exercises.held_back(study, key):
        st.info("This exercise shows its results once you press **Run**: think about what you expect first.",
                icon=":material/school:")
        return
    run = engine().get(key)
    live = run is not None and not run.ended
    stored = None if live else execution.load_result(result_store(), study, values)
    elsewhere = not live and (stored is None or stored.state != "done") and _elsewhere(key)
    if submitted is not None and not live and not elsewhere and (stored is None or stored.state != "done"):
        run = _start(study, values, key)
        elsewhere = run == launch.ELSEWHERE
    if elsewhere:
        _follow_elsewhere(key)
        return
    if run is not None and not run.ended:
        (_follow_slowly if time.time() - run.submitted > SLOW_AFTER_SECONDS else _follow)(study, values, key)
        return
    result = stored
    if run is not None and run.outcome is not None and (result is None or result.state != "done"):
        result = run.outcome  # finished here but not (yet) readable from the store
        if run.save_error:
            st.warning(f"These results could not be saved on the server ({plain(run.save_error)}); they stay on "
                       "this page until you close it: download them now.", icon=":material/save:")
    if result is not None:
        if result.state == "cancelled":
            st.warning(f"Stopped: {result.trials_done} of {result.trials_total} trials finished; the others were "
                       "cancelled or never started. "
                       f"{execution.coverage_note(study, result)} The results so far are shown below and can be "
                       "downloaded; press Run to compute them all.", icon=":material/stop_circle:")
        _show_guarded(study, result, values, key if result is stored else None)
    elif submitted is None and st.query_params and result_store().abandoned(key):
        st.warning("Another server of this class was computing this link's run and stopped (no word from it for "
                   f"{STALE_SECONDS} s), so its results were never stored: press **Run** to compute them here.",
                   icon=":material/sync_problem:")
    elif submitted is None and st.query_params:
        st.info("The form holds this link's parameters, but their results are not stored on this server yet: "
                "press **Run** to compute them.", icon=":material/play_arrow:")
    elif submitted is None:
        st.info("Set the parameters in the sidebar and press **Run**. The defaults finish in seconds on the "
                "embedded digits data.", icon=":material/play_arrow:")


def _show_guarded(study, result, values: dict, stored_key: str | None) -> None:
    """Draw the result; a stored one that still breaks the charts (damaged in a way its schema check
    did not see) is dropped, so Run computes it again, instead of failing every open of its link."""
    try:
        show(study, result, values, stored_key)
    except Exception:
        if stored_key is None:
            raise
        log.exception("stored run %s of %s cannot be drawn", stored_key, study.NAME)
        result_store().delete(stored_key)
        st.error("The stored result of this link was damaged and has been removed: press **Run** to compute it "
                 "again.", icon=":material/error:")


def _estimate(study, values: dict) -> str:
    """The run's size and estimated time, for under the Run button."""
    try:
        trials, seconds = execution.shown_estimate(study, values, engine())
    except (DataError, ValueError):
        return ""  # reported when Run is pressed
    going = len(engine().active())
    load = f", with the {going} run{'s' if going != 1 else ''} going now" if going else ""
    return (f"{trials} trial{'s' if trials != 1 else ''}, {cost.describe(seconds)} on this server"
            f"{load} (up to {max_runs_per_session()} runs at once per browser tab)")


def _elsewhere(key: str) -> bool:
    return claims().elsewhere(key) is not None


@st.fragment(run_every=POLL_SECONDS)
def _follow_elsewhere(key: str) -> None:
    """A run that another server process on this store computes: its progress from the store, and
    the page's stored results once it has saved them (never a second computation)."""
    found = claims().elsewhere(key)
    if found is None:
        st.rerun()
    total = max(found["total"], 1)
    st.progress(min(1.0, found["done"] / total),
                text=f"Running on another server of this class: {int(found['done'])} / {found['total'] or '?'} "
                     "trials finished. Its results show here when it ends.")


def _start(study, values: dict, key: str):
    """Start the run (``launch.start``); say so in the page when it cannot run. None then."""
    try:
        return launch.start(study, values, engine(), holder=who(), key=key, max_minutes=max_run_minutes(),
                            per_session=max_runs_per_session(), on_end=_storing(study, values, key), claims=claims())
    except cost.TooLarge as exc:
        st.sidebar.error(plain(str(exc)), icon=":material/hourglass_disabled:")
        st.error(plain(str(exc)), icon=":material/hourglass_disabled:")
    except DataError as exc:
        st.error(plain(str(exc)), icon=":material/folder_off:")
    except TooManyRuns as exc:
        st.error(plain(str(exc)), icon=":material/group:")
    except ValueError as exc:
        st.error(f"These parameters cannot run together: {plain(str(exc))}")
    return None


def progress_text(run, total: int, done: float) -> str:
    """Trials finished, and the estimated time left counting the other runs that share the workers;
    while no worker is free yet, the runs ahead of this one. ``done``: the run's progress."""
    elapsed, left = time.time() - run.submitted, cost.describe(engine().seconds_left(run, done))
    if run.state == "queued":
        ahead = engine().ahead(run)
        waiting = (f"{ahead} run{'s' if ahead != 1 else ''} ahead of this one" if ahead else
                   "every worker is finishing another run's trial")
        return f"Waiting for a free worker: {waiting} · {left} to go · {elapsed:.1f} s"
    return f"{len(run.results)} / {total} trials finished · {left} to go · {elapsed:.1f} s"


def _storing(study, values: dict, key: str):
    """Store the result, then free the key for other server processes (in the engine's thread: the
    store is captured here, in the page's)."""
    mine, save = claims(), execution.storing(study, values, result_store())

    def end(run) -> None:
        try:
            save(run)
        finally:
            mine.release(key)

    return end


@st.fragment(run_every=POLL_SECONDS)
def _follow(study, values: dict, key: str) -> None:
    _following(study, values, key, slow_after=SLOW_AFTER_SECONDS)


@st.fragment(run_every=SLOW_POLL_SECONDS)
def _follow_slowly(study, values: dict, key: str) -> None:
    _following(study, values, key)


def _following(study, values: dict, key: str, slow_after: float | None = None) -> None:
    """Progress, Stop and the charts of the trials finished so far; the whole page reruns once the
    run has ended, to show its stored results, or once it has run ``slow_after`` seconds, to follow
    it less often from then on."""
    run = engine().get(key)
    if run is None or run.ended or (slow_after is not None and time.time() - run.submitted > slow_after):
        st.rerun()
    results, state, total = run.snapshot()
    header = st.columns([5, 1], vertical_alignment="center")
    done = engine().progress(run)
    header[0].progress(min(1.0, done / max(total, 1)), text=progress_text(run, total, done))
    if who() not in run.holders:
        header[1].caption("Started by someone else: only those who pressed Run can stop it.")
    elif header[1].button("Stop", key=f"{study.NAME}:stop", icon=":material/stop:", width="stretch"):
        if not engine().cancel(key, who()):
            st.toast("Others pressed Run on this run too: it goes on for them.", icon=":material/group:")
    if results:
        draw_charts(study, execution.result_of(study, values, results, total, "running"), live_key=(key, len(results)))
