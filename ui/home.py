"""The home page: a card per study with what it shows and where it is in the lecture."""
from __future__ import annotations

import time

import streamlit as st

from studies import CHAPTERS, STUDIES
from ui.server import engine, engine_ready, result_store

PAGE_FOLDER = "app_pages"


def page_file(name: str) -> str:
    """A study's page script, relative to app.py. The folder is not ``pages/``: Streamlit serves that
    folder as a legacy multipage app until some session has called ``st.navigation``, so the first
    share link opened on a freshly started server lost the app's navigation and layout."""
    return f"{PAGE_FOLDER}/{name}.py"


def home() -> None:
    st.title("MLP Study Explorer")
    st.write("See how a neural network's hyperparameters shape its learning. Every page runs one study of the "
             "lecture as many trials of a hand-written NumPy multi-layer perceptron, in parallel on every core, "
             "and charts the results. The embedded digits data (8×8, the lecture's *MNIST light*) makes each "
             "default run finish in seconds.")
    running_runs()
    recent_runs()
    for chapter, names in CHAPTERS.items():
        st.subheader(f"Chapter {chapter}")
        columns = st.columns(3)
        for i, name in enumerate(names):
            study = STUDIES[name]
            with columns[i % 3].container(border=True, height="stretch"):
                st.markdown(f"#### {study.TITLE}")
                st.caption(f"Lecture {study.FIGURES}")
                st.write(study.SUMMARY)
                st.page_link(page_file(name), label="Open the study", icon=":material/arrow_forward:")
    st.divider()
    st.caption("Share a study by copying its address: the link carries the parameters and opens the stored "
               "results. Every page exports its results as CSV and as a self-contained HTML report. The same "
               "studies run headless: `python -m studies list`.")


def running_runs() -> None:
    """Runs under way on this server (anyone's), with their progress; each link opens it live."""
    if not engine_ready():
        return
    runs = [run for run in engine().active() if run.job.meta.get("study") in STUDIES]
    if not runs:
        return
    st.subheader("Running now")
    for run in runs:
        results, state, total = run.snapshot()
        study = STUDIES[run.job.meta["study"]]
        cols = st.columns([3, 2], vertical_alignment="center")
        cols[0].page_link(page_file(study.NAME), query_params=run.job.meta["params"], icon=":material/pending:",
                          label=f"{study.TITLE} · {'queued' if state == 'queued' else 'running'}, "
                                f"{time.time() - run.submitted:.0f} s")
        cols[1].progress(len(results) / max(total, 1), text=f"{len(results)} / {total} trials")


def recent_runs() -> None:
    """Links to the studies this server ran last, with the parameters that differ from the defaults;
    read from the store's index alone, so no stored result is loaded to list it."""
    runs = [run for run in result_store().recent(5) if run["study"] in STUDIES]
    if not runs:
        return
    st.subheader("Recent runs")
    for run in runs:
        study = STUDIES[run["study"]]
        defaults = study.SCHEMA.to_texts(study.SCHEMA.defaults())
        changed = {k: v for k, v in run["params"].items() if k in defaults and v != defaults[k]}
        detail = ", ".join(f"{k}={v}" for k, v in changed.items()) or "defaults"
        minutes = max(0, int((time.time() - run["created"]) // 60))
        stopped = ", stopped" if run["state"] == "cancelled" else ""
        cols = st.columns([2, 3], vertical_alignment="center")
        cols[0].page_link(page_file(study.NAME), query_params=run["params"], icon=":material/history:",
                          label=f"{study.TITLE} · {minutes} min ago{stopped}")
        cols[1].caption(detail)  # wraps: a page link's label is cut at its width
