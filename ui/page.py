"""One layout for every study page: form -> run (live) or stored results -> charts, tables,
downloads, share link. A page file only names its study."""
from __future__ import annotations

import time
from urllib.parse import urlencode

import streamlit as st

from core.data import DataError
from core.store import ResultStore, default_folder
from studies.charts import vega_lite
from studies.report import html_report
from ui.form import forget_form, plain, sidebar_form, values_from_link

REDRAW_SECONDS = 0.7  # live charts are redrawn at most this often while trials finish


@st.cache_resource
def _store_at(folder: str) -> ResultStore:
    return ResultStore(folder)


def result_store() -> ResultStore:
    return _store_at(str(default_folder()))


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
    partial = st.session_state.get(f"{study.NAME}:partial")
    result = result_store().load(study.NAME, values)
    if result is None and submitted is not None:
        result = _run_live(study, values)
    if result is not None:
        _show(study, result, values, result_store().key(study.NAME, values))
    elif partial and partial["values"] == values and partial["results"]:
        st.warning(f"Stopped after {len(partial['results'])} of {partial['total']} trials. The results so far are "
                   "shown below and can be downloaded; press Run to compute them all.", icon=":material/stop_circle:")
        _show(study, study.assemble(values, partial["results"]), values)
    elif submitted is None and st.query_params:
        st.info("The form holds this link's parameters, but their results are not stored on this server yet: "
                "press **Run** to compute them.", icon=":material/play_arrow:")
    elif submitted is None:
        st.info("Set the parameters in the sidebar and press **Run**. The defaults finish in seconds on the "
                "embedded digits data.", icon=":material/play_arrow:")


def _run_live(study, values: dict):
    """Run the study, drawing progress and the charts of the trials finished so far. Stop (or any
    rerun) interrupts at the next finished trial; what finished stays in the session."""
    total = len(study.plan(values))
    partial = {"values": values, "results": [], "total": total}
    st.session_state[f"{study.NAME}:partial"] = partial
    status = st.empty()
    header = status.container().columns([5, 1], vertical_alignment="center")
    bar = header[0].progress(0.0, text=f"Starting {total} trials…")
    header[1].button("Stop", key=f"{study.NAME}:stop", icon=":material/stop:", width="stretch")
    live = st.empty()
    started, last_draw = time.perf_counter(), 0.0

    def progress(result, done: int, phase_total: int) -> None:
        nonlocal last_draw
        if len(partial["results"]) < total:
            partial["results"].append(result)
        elapsed = time.perf_counter() - started
        bar.progress(done / phase_total, text=f"{done} / {phase_total} trials finished · {elapsed:.1f} s")
        if time.perf_counter() - last_draw > REDRAW_SECONDS or done == phase_total:
            with live.container():
                _charts(study, study.assemble(values, partial["results"]))
            last_draw = time.perf_counter()

    try:
        result = study.run(values, n_jobs=-1, progress=progress)
    except DataError as exc:
        st.error(plain(str(exc)), icon=":material/folder_off:")
        return None
    except ValueError as exc:
        st.error(f"These parameters cannot run together: {plain(str(exc))}")
        return None
    finally:
        status.empty()
        live.empty()
    result_store().save(study.NAME, values, result)
    st.session_state.pop(f"{study.NAME}:partial", None)
    st.toast(f"{study.TITLE}: {total} trials in {time.perf_counter() - started:.1f} s", icon=":material/check_circle:")
    return result


@st.cache_data(max_entries=64, show_spinner=False)
def _stored_specs(study_name: str, store_key: str, _study, _result) -> list[dict]:
    """Building Altair charts and validating them costs a page 0.2-0.4 s; a stored result's charts
    never change, so a reopened share link reuses them."""
    return _specs(_study, _result)


def _specs(study, result) -> list[dict]:
    return [vega_lite(chart) for chart in study.charts_for(result)]


def _charts(study, result, store_key: str | None = None) -> None:
    """``store_key`` names a finished, stored result, whose chart specifications are cached."""
    specs = _stored_specs(study.NAME, store_key, study, result) if store_key else _specs(study, result)
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
    cols[0].download_button("Results CSV", lambda: result.tidy.to_csv(index=False), f"{study.NAME}.csv",
                            "text/csv", on_click="ignore", icon=":material/download:", width="stretch")
    cols[1].download_button("Summary CSV", lambda: result.summary.to_csv(index=False), f"{study.NAME}-summary.csv",
                            "text/csv", on_click="ignore", icon=":material/download:", width="stretch")
    cols[2].download_button("HTML report", lambda: html_report(study, result, link), f"{study.NAME}-report.html",
                            "text/html", on_click="ignore", icon=":material/description:", width="stretch")
    # inline code, not st.code: the code block's syntax highlighter costs a share link 0.2 s to load
    st.container(key="share").markdown(f"**Share** — this link opens the page with these parameters and their "
                                       f"results:  \n`{link}`")
