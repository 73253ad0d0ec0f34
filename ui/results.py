"""A study's results on its page: takeaway, charts (each with its line from the lecture), summary
table, downloads and share link."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from studies.common import execution
from studies.common.charts import vega_lite
from studies.common.protocol import ComparingStudy
from studies.common.report import html_report
from service.store import StoreError
from ui import exercise as exercises
from ui.form import pinned_key, plain, share_link
from ui.server import result_store


@st.cache_data(max_entries=64, show_spinner=False)
def _stored_specs(study_name: str, store_key: str, repeats: bool, _study, _result) -> list[dict]:
    """Building Altair charts and validating them costs a page 0.2-0.4 s; a stored result's charts
    never change, so a reopened share link reuses them."""
    return _specs(_study, _result, repeats)


def _specs(study, result, repeats: bool = False) -> list[dict]:
    return [vega_lite(chart) for chart in study.charts_for(result, repeats=repeats)]


def draw_charts(study, result, store_key: str | None = None, live_key: tuple | None = None,
                repeats: bool = False) -> None:
    """Two charts a row, each with its "what to look for" line under it. ``store_key`` names a
    finished, stored result, whose chart specifications are cached; ``live_key`` (run key, trials
    finished) a running one's, rebuilt only when a trial has finished."""
    if store_key:  # a key's stored result changes when a stopped run is computed in full
        specs = _stored_specs(study.NAME, f"{store_key}:{result.state}:{result.trials_done}", repeats, study, result)
    elif live_key:
        cached = st.session_state.get(f"{study.NAME}:live")
        if cached is None or cached[0] != live_key:
            cached = (live_key, _specs(study, result))
            st.session_state[f"{study.NAME}:live"] = cached
        specs = cached[1]
    else:
        specs = _specs(study, result, repeats)
    for row in range(0, len(specs), 2):
        for column, spec in zip(st.columns(2), specs[row:row + 2]):
            column.vega_lite_chart(spec, width="stretch")
            if spec.get("description"):
                column.caption(spec["description"])


def _against_others(study, result, values: dict) -> str:
    """A search's line on how the other samplers did with the same space and budget, from the
    runs of them stored on this server ("" for other studies, or when none has been run)."""
    if not isinstance(study, ComparingStudy):
        return ""
    others = [execution.load_result(result_store(), study, other) for other in study.related(values)]
    return study.against(result, [other for other in others if other is not None])


def show(study, result, values: dict, store_key: str | None = None) -> None:
    lines = [line for line in [*study.takeaway(result), _against_others(study, result, values)] if line]
    st.success("  \n".join(plain(line) for line in lines), icon=":material/lightbulb:")
    troubles = result.summary["status"].value_counts().drop("ok", errors="ignore") if "status" in result.summary else []
    if len(troubles):
        st.warning("Not every trial finished ok: " + ", ".join(f"{n} {status}" for status, n in troubles.items())
                   + ". Charts that draw single trials mark them by status (their legend says how; curves of "
                   "every repeat: switch on the toggle below), and the summary table lists them.",
                   icon=":material/warning:")
    repeats = "setting" in result.tidy.columns and "repeats" in result.params and st.toggle(
        "Show every repeat as its own line (default: mean ± 1 std over repeats)", key=f"{study.NAME}:show-repeats")
    draw_charts(study, result, store_key, repeats=repeats)
    compare_section(study, values, result)
    # the interactive grid loads a large script: drawn on request, so a share link opens fast
    if st.toggle("Show the summary table (one row per trial)", key=f"{study.NAME}:table"):
        st.dataframe(result.summary, hide_index=True)
    link = share_link(study, values)
    cols = st.columns(3)
    cols[0].download_button("Results CSV", lambda: execution.to_csv(execution.exported(study, values, result.tidy)),
                            execution.export_name(study, values), "text/csv", on_click="ignore",
                            icon=":material/download:", width="stretch")
    cols[1].download_button("Summary CSV",
                            lambda: execution.to_csv(execution.exported(study, values, result.summary)),
                            execution.export_name(study, values, "summary"), "text/csv", on_click="ignore",
                            icon=":material/download:", width="stretch")
    cols[2].download_button("HTML report", lambda: html_report(study, result, link),
                            execution.export_name(study, values, "report", "html"), "text/html", on_click="ignore",
                            icon=":material/description:", width="stretch")
    link_box("share", "**Share**: this link opens the page with these parameters and their results", link)
    if not exercises.exercise_of(study)["id"]:
        _exercise_box(study, values)


def link_box(key: str, heading: str, link: str) -> None:
    """A link with a copy button (a code block without highlighting: plain text, wrapped)."""
    with st.container(key=key):
        st.markdown(heading)
        st.code(link, language=None, wrap_lines=True)


def _exercise_box(study, values: dict) -> None:
    """A teacher's exercise: a question, parameters that show but cannot be changed, and parameters
    not shown, kept on the server and named by the link. The fields are one form, sent by its button:
    a choice made while a rerun was still under way (after the question) could otherwise be dropped."""
    with st.expander("Share as exercise", icon=":material/school:"):
        names = list(study.SCHEMA.params)
        with st.form(f"{study.NAME}:exercise-form", border=False):
            question = st.text_area("Question for the students (shown as plain text above the page)",
                                    max_chars=1000, key=f"{study.NAME}:question")
            locked = st.multiselect("Shown but locked", names, key=f"{study.NAME}:lock")
            hidden = st.multiselect("Hidden", names, key=f"{study.NAME}:hide")
            st.caption("Students see no results until they press Run. The locks hold after a reload or an edited "
                       "link; a teaching aid, not a security boundary.")
            made = st.form_submit_button("Make the exercise link", icon=":material/link:",
                                         key=f"{study.NAME}:make-exercise")
        if not made:
            return
        both = [name for name in locked if name in hidden]
        if both:
            st.error(f"{', '.join(both)}: choose shown but locked or hidden, not both.", icon=":material/error:")
            return
        try:
            exercise_id = exercises.make(study, question, values, locked, hidden)
        except StoreError as exc:
            st.error(f"The exercise could not be kept on this server ({plain(str(exc))}).", icon=":material/error:")
            return
        link_box("exercise", "Students who open this link can change every other parameter:",
                 share_link(study, values, exercise_id))


def compare_section(study, values: dict, result) -> None:
    """Pin this run, or pick a stored one, and see the other run's curves dashed on the same axes,
    with their own share link and CSV."""
    key, pin = execution.run_key(study, values), pinned_key(study)
    cols = st.columns([1, 2], vertical_alignment="bottom")
    cols[0].button("Pin this run to compare", icon=":material/push_pin:", key=f"{study.NAME}:pin-button",
                   disabled=pin == key or result.state != "done", width="stretch", on_click=_set_pin, args=(study, key))
    stored = [r for r in result_store().recent(10, study=study.NAME) if r["key"] != key]
    options = {r["key"]: execution.differences(study, values, study.SCHEMA.parse_lenient(r["params"])[0])
               for r in stored}
    picker = f"{study.NAME}:compare-with"
    cols[1].selectbox("Or compare with a stored run", [None, *options], key=picker,
                      format_func=lambda k: "(choose a run)" if k is None else options.get(k, k),
                      on_change=lambda: _set_pin(study, st.session_state[picker]))
    if not pin or pin == key:
        return
    found = execution.load_by_key(result_store(), study, pin)
    if found is None:
        st.warning("The pinned run is no longer stored on this server (evicted or from older code).",
                   icon=":material/push_pin:")
        return
    pinned_values, pinned = found
    label = f"pinned: {execution.differences(study, values, pinned_values)}"
    st.subheader("This run against the pinned one")
    specs = [vega_lite(chart) for chart in study.compare([("this run", result), (label, pinned)])]
    for spec in specs:
        st.vega_lite_chart(spec, width="stretch")
        st.caption(spec.get("description", ""))
    if not specs:
        st.info("This case has no comparison chart; the compare CSV holds both runs.")
    both = lambda: execution.to_csv(pd.concat([  # noqa: E731  built on click, not on every rerun
        execution.exported(study, values, result.tidy).assign(run="this run"),
        execution.exported(study, pinned_values, pinned.tidy).assign(run="pinned")], ignore_index=True))
    cols = st.columns([1, 2], vertical_alignment="center")
    cols[0].download_button("Compare CSV", both,
                            execution.export_name(study, values, f"vs-{pin[:8]}"), "text/csv", on_click="ignore",
                            icon=":material/download:", width="stretch", key=f"{study.NAME}:compare-csv")
    cols[1].button("Unpin", icon=":material/close:", key=f"{study.NAME}:unpin", on_click=_set_pin, args=(study, None))
    link_box("compare-share", "**Share this comparison:**", share_link(study, values, pin=pin))


def _set_pin(study, key: str | None) -> None:
    """A callback: the pin lives in the link (so the comparison can be shared) and this session."""
    st.session_state[f"{study.NAME}:pin"] = key
    if key:
        st.query_params["pin"] = key
    else:
        st.query_params.pop("pin", None)
