"""One layout for every study page: form -> run (followed live) or stored results -> charts, tables,
downloads, share link. A page file only names its study.

Runs belong to the engine (``core.engine``), not to the page: the page submits a run or attaches to
the one its parameters name, then polls it from a fragment, so the script thread never trains and
a run goes on when its tab closes.
"""
from __future__ import annotations

import os
import time
import uuid
from urllib.parse import urlencode

import streamlit as st

from core import engine as engines
from core.data import DataError
from core.store import ResultStore, default_folder
from studies import cost, execution
from studies.charts import vega_lite
from studies.report import html_report
from ui.form import forget_form, plain, sidebar_form, values_from_link

POLL_SECONDS = 0.7      # a running study's page looks at its run this often
WORKER_MODULES = ("studies.training",)  # imported by every worker at start, before the first trial


@st.cache_resource
def _store_at(folder: str) -> ResultStore:
    return ResultStore(folder)


def result_store() -> ResultStore:
    return _store_at(str(default_folder()))


def engine() -> engines.Engine:
    return engines.shared(WORKER_MODULES)


def max_run_minutes() -> float:
    return float(os.environ.get("EXPLORER_MAX_RUN_MINUTES") or 30)


def who() -> str:
    """This browser session, as the engine knows its interest in runs."""
    return st.session_state.setdefault("explorer:session", uuid.uuid4().hex)


def study_page(study) -> None:
    st.title(study.TITLE)
    st.caption(f"Lecture {study.FIGURES} · {study.SUMMARY}")
    link_values, warnings = values_from_link(study.SCHEMA)
    for warning in warnings:
        st.warning(f"Share link: {plain(warning)}", icon=":material/link_off:")
    active_key = f"{study.NAME}:active"
    active = st.session_state.get(active_key)
    if active is None or (st.query_params and link_values != active):
        active = link_values  # first visit, or another link opened in this session: the link wins
        forget_form(study)
    elif not st.query_params:  # back on the page by navigation: put the share link in the address bar again
        st.query_params.from_dict(study.SCHEMA.to_texts(active))
    submitted = sidebar_form(study, active)
    values = submitted or active
    st.session_state[active_key] = values
    _estimate(study, values)
    key = execution.run_key(study, values)
    stored = execution.load_result(result_store(), study, values)
    run = engine().get(key)
    if submitted is not None and (stored is None or stored.state != "done") and (run is None or run.ended):
        run = _start(study, values, key)
    if run is not None and not run.ended:
        engine().attach(key, who())
        _follow(study, values, key)
        return
    result = stored
    if run is not None and run.outcome is not None and (result is None or result.state != "done"):
        result = run.outcome  # finished here but not (yet) readable from the store
        if run.save_error:
            st.warning(f"These results could not be saved on the server ({plain(run.save_error)}); they stay on "
                       "this page until you close it: download them now.", icon=":material/save:")
    if result is not None:
        if result.state == "cancelled":
            st.warning(f"Stopped after {result.trials_done} of {result.trials_total} trials. "
                       f"{execution.coverage_note(study, result)} The results so far are shown below and can be "
                       "downloaded; press Run to compute them all.", icon=":material/stop_circle:")
        _show(study, result, values, key if result is stored else None)
    elif submitted is None and st.query_params:
        st.info("The form holds this link's parameters, but their results are not stored on this server yet: "
                "press **Run** to compute them.", icon=":material/play_arrow:")
    elif submitted is None:
        st.info("Set the parameters in the sidebar and press **Run**. The defaults finish in seconds on the "
                "embedded digits data.", icon=":material/play_arrow:")


def _estimate(study, values: dict) -> None:
    """The run's size and estimated time, under the Run button."""
    try:
        seconds = cost.estimate(study, study.plan(values), engine().pool.capacity())
    except (DataError, ValueError):
        return  # reported when Run is pressed
    trials = len(study.plan(values))
    st.sidebar.caption(f"{trials} trial{'s' if trials != 1 else ''}, {cost.describe(seconds)} on this server")


def _start(study, values: dict, key: str):
    """Submit the run (or attach to the same one under way); say so in the page when it cannot run."""
    try:
        cost.check_limit(study, values, engine().pool.capacity(), max_run_minutes())
        job = execution.job(study, values, key, on_end=execution.storing(study, values, result_store()))
    except cost.TooLarge as exc:
        st.sidebar.error(plain(str(exc)), icon=":material/hourglass_disabled:")
        st.error(plain(str(exc)), icon=":material/hourglass_disabled:")
        return None
    except DataError as exc:
        st.error(plain(str(exc)), icon=":material/folder_off:")
        return None
    except ValueError as exc:
        st.error(f"These parameters cannot run together: {plain(str(exc))}")
        return None
    return engine().submit(job, who())


@st.fragment(run_every=POLL_SECONDS)
def _follow(study, values: dict, key: str) -> None:
    """Progress, Stop and the charts of the trials finished so far; the whole page reruns once the
    run has ended, to show its stored results."""
    run = engine().get(key)
    if run is None or run.ended:
        st.rerun()
    results, state, total = run.snapshot()
    header = st.columns([5, 1], vertical_alignment="center")
    elapsed = time.time() - run.submitted
    text = (f"{len(results)} / {total} trials finished · {elapsed:.1f} s" if state != "queued"
            else f"Waiting for a free worker (other runs are using them) · {elapsed:.1f} s")
    header[0].progress(len(results) / max(total, 1), text=text)
    if header[1].button("Stop", key=f"{study.NAME}:stop", icon=":material/stop:", width="stretch"):
        if not engine().cancel(key, who()):
            st.toast("Others opened this run too: it goes on for them.", icon=":material/group:")
    if results:
        _charts(study, execution.result_of(study, values, results, total, "running"), live_key=(key, len(results)))


@st.cache_data(max_entries=64, show_spinner=False)
def _stored_specs(study_name: str, store_key: str, _study, _result) -> list[dict]:
    """Building Altair charts and validating them costs a page 0.2-0.4 s; a stored result's charts
    never change, so a reopened share link reuses them."""
    return _specs(_study, _result)


def _specs(study, result) -> list[dict]:
    return [vega_lite(chart) for chart in study.charts_for(result)]


def _charts(study, result, store_key: str | None = None, live_key: tuple | None = None) -> None:
    """``store_key`` names a finished, stored result, whose chart specifications are cached;
    ``live_key`` (run key, trials finished) a running one's, rebuilt only when a trial has finished."""
    if store_key:
        specs = _stored_specs(study.NAME, store_key, study, result)
    elif live_key:
        cached = st.session_state.get(f"{study.NAME}:live")
        if cached is None or cached[0] != live_key:
            cached = (live_key, _specs(study, result))
            st.session_state[f"{study.NAME}:live"] = cached
        specs = cached[1]
    else:
        specs = _specs(study, result)
    for row in range(0, len(specs), 2):
        for column, spec in zip(st.columns(2), specs[row:row + 2]):
            column.vega_lite_chart(spec, width="stretch")


def _share_link(study, values: dict) -> str:
    base = st.context.url or f"/{study.NAME}"
    return f"{base}?{urlencode(study.SCHEMA.to_texts(values))}"


def _show(study, result, values: dict, store_key: str | None = None) -> None:
    lines = [line for line in study.takeaway(result) if line]
    st.success("  \n".join(plain(line) for line in lines), icon=":material/lightbulb:")
    troubles = result.summary["status"].value_counts().drop("ok", errors="ignore") if "status" in result.summary else []
    if len(troubles):
        st.warning("Not every trial finished ok: " + ", ".join(f"{n} {status}" for status, n in troubles.items())
                   + ". They are marked in the charts (dashed lines, crosses) and listed in the table.", icon=":material/warning:")
    _charts(study, result, store_key)
    # the interactive grid loads a large script: drawn on request, so a share link opens fast
    if st.toggle("Show the summary table (one row per trial)", key=f"{study.NAME}:table"):
        st.dataframe(result.summary, hide_index=True)
    link = _share_link(study, values)
    cols = st.columns(3)
    cols[0].download_button("Results CSV", lambda: execution.exported(study, values, result.tidy).to_csv(index=False),
                            execution.export_name(study, values), "text/csv", on_click="ignore",
                            icon=":material/download:", width="stretch")
    cols[1].download_button("Summary CSV",
                            lambda: execution.exported(study, values, result.summary).to_csv(index=False),
                            execution.export_name(study, values, "summary"), "text/csv", on_click="ignore",
                            icon=":material/download:", width="stretch")
    cols[2].download_button("HTML report", lambda: html_report(study, result, link),
                            execution.export_name(study, values, "report", "html"), "text/html", on_click="ignore",
                            icon=":material/description:", width="stretch")
    # inline code, not st.code: the code block's syntax highlighter costs a share link 0.2 s to load
    st.container(key="share").markdown(f"**Share** — this link opens the page with these parameters and their "
                                       f"results:  \n`{link}`")
