"""The runs page (/runs): every stored run of every study, from the store's index alone (no result
is loaded to list it); the selected runs' curves overlaid, one line per trial in parallel
coordinates, two parameters against a metric, one CSV and a link that reopens the selection."""
from __future__ import annotations

import time
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from studies import STUDIES
from studies.common.charts import vega_lite
from studies.common.execution import load_by_key, to_csv
from studies.common.runs import overlay_chart, parallel_chart, scatter_chart, selection_table
from ui.form import plain
from ui.results import link_box
from ui.server import result_store

MAX_LISTED = 1000   # the newest runs listed; older ones stay stored and reachable by their links
MAX_SELECTED = 12   # runs drawn at once
MISSING = "—"       # drawn for a number a run does not have
NO_VALIDATION = "no validation split: a regression fit (open the run)"


def index_frame(runs: list[dict]) -> pd.DataFrame:
    """One row per run: what a person scans for (study, when, what differs from the defaults, state,
    trials, the two headline numbers); the key last, for selection."""
    rows = []
    for run in runs:
        study = STUDIES[run["study"]]
        defaults = study.SCHEMA.to_texts(study.SCHEMA.defaults())
        changed = ", ".join(f"{k}={v}" for k, v in run["params"].items() if defaults.get(k) != v) or "defaults"
        rows.append({"study": study.TITLE, "when": pd.Timestamp(run["created"], unit="s", tz="UTC"),
                     "parameters": changed, "state": "stopped" if run["state"] == "cancelled" else "done",
                     "trials": f"{run['trials_done']} / {run['trials_total']}",
                     "best validation error": run["best_val_error"], "test error (selected)": run["test_error"],
                     "selected setting": run["selected"] if run["best_val_error"] is not None else NO_VALIDATION,
                     "key": run["key"]})
    return pd.DataFrame(rows, columns=["study", "when", "parameters", "state", "trials", "best validation error",
                                       "test error (selected)", "selected setting", "key"])


def runs_page() -> None:
    st.title("Runs")
    st.caption("Every run stored on this server, newest first. Select rows to compare them: their curves, "
               "one line per trial across parameters and metrics, and one CSV.")
    runs = [r for r in result_store().index(MAX_LISTED) if r["study"] in STUDIES]
    if not runs:
        st.info("No run is stored on this server yet: open a study and press **Run**.", icon=":material/info:")
        return
    frame = index_frame(runs)
    studies = st.multiselect("Studies", sorted(set(frame["study"])), key="runs:studies",
                             placeholder="all studies")
    needle = st.text_input("Parameters contain", key="runs:filter", placeholder="e.g. epochs=50")
    shown = frame[(frame["study"].isin(studies) if studies else True)
                  & frame["parameters"].str.contains(needle.strip(), regex=False)].reset_index(drop=True)
    event = st.dataframe(shown.drop(columns="key"), hide_index=True, on_select="rerun", selection_mode="multi-row",
                         key="runs:table", placeholder=MISSING, column_config={
                             "when": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                             "best validation error": st.column_config.NumberColumn(format="percent"),
                             "test error (selected)": st.column_config.NumberColumn(format="percent")})
    keys = list(shown.loc[event.selection.rows, "key"]) if event.selection.rows else _linked_keys(frame)
    if not keys:
        st.info("Select runs in the table (tick their rows) to compare them.", icon=":material/checklist:")
        return
    if len(keys) > MAX_SELECTED:
        st.warning(f"{len(keys)} runs selected: the first {MAX_SELECTED} are drawn.", icon=":material/warning:")
        keys = keys[:MAX_SELECTED]
    st.query_params.from_dict({"runs": ",".join(keys)})
    _compare(keys, dict(zip(frame["key"], (run["study"] for run in runs))))


def _linked_keys(frame: pd.DataFrame) -> list[str]:
    """The selection a shared link names (``runs=key,key``), limited to runs this server holds."""
    asked = [k for k in str(st.query_params.get("runs", ""))[:2000].split(",") if k]
    known = [k for k in asked if k in set(frame["key"])]
    if len(known) < len(asked):
        st.warning("Share link: some runs it names are not stored on this server (evicted or from older code) "
                   "and are left out.", icon=":material/link_off:")
    return known


def _compare(keys: list[str], studies: dict[str, str]) -> None:
    """Draw the selected runs; ``studies`` names each key's study (from the index: each run is read once)."""
    started = time.perf_counter()
    loaded = []
    for key in keys:
        study = STUDIES.get(studies.get(key, ""))
        found = load_by_key(result_store(), study, key) if study else None
        if found:
            loaded.append((study, key, *found))
    if not loaded:
        st.warning("None of the selected runs could be read back.", icon=":material/warning:")
        return
    table = selection_table([(study, key, values, result) for study, key, values, result in loaded])
    st.subheader(f"{len(loaded)} run{'s' if len(loaded) != 1 else ''} selected")
    specs = [vega_lite(chart) for chart in (overlay_chart(table), parallel_chart(table))]
    for column, spec in zip(st.columns(2), specs):
        column.vega_lite_chart(spec, width="stretch")
        column.caption(spec.get("description", ""))
    numeric = [c for c in table["trials"].columns if c.startswith("p_")]
    if len(numeric) >= 2:
        cols = st.columns(3)
        x = cols[0].selectbox("x", numeric, index=0, key="runs:x", format_func=lambda c: c[2:])
        y = cols[1].selectbox("y", numeric, index=1, key="runs:y", format_func=lambda c: c[2:])
        metric = cols[2].selectbox("colour", ["final_val_error", "final_test_error"], key="runs:metric")
        spec = vega_lite(scatter_chart(table, x, y, metric))
        st.vega_lite_chart(spec, width="stretch")
        st.caption(spec.get("description", ""))
    link = f"{st.context.url or '/runs'}?{urlencode({'runs': ','.join(keys)})}"
    cols = st.columns([1, 2], vertical_alignment="bottom")
    cols[0].download_button("Selection CSV", lambda: to_csv(table["tidy"]), "runs-selection.csv",
                            "text/csv", on_click="ignore", icon=":material/download:", width="stretch")
    with cols[1]:
        link_box("runs-share", "**Share this selection:**", link)
    st.caption(plain(f"Loaded and drawn in {time.perf_counter() - started:.2f} s."))
