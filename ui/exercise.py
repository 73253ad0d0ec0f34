"""A teacher's exercise on a study page: a question, parameters shown but locked, parameters not
shown, and results held back until the student presses Run (a stored result of the same run then
shows at once).

The exercise is kept on the server (the result store) and the link names it, ``exercise=<id>``. So
the locks hold wherever the link is opened, after an edit of a locked value in the address bar and
after a reload (each a new Streamlit session): the values come from the server, not from the link,
and a link that tried to change one gets a warning. A session keeps its exercise when a later link
drops ``exercise=``. A teaching aid, not a security boundary: a student who deletes ``exercise=``
from the link in a fresh browser has a free page.
"""
from __future__ import annotations

import streamlit as st

from ui.server import result_store

EMPTY = {"id": None, "question": "", "lock": {}, "hide": {}}


def exercise_of(study) -> dict:
    """This session's exercise on the page: id, question, and {name: value} locked and hidden."""
    return st.session_state.get(f"{study.NAME}:exercise") or EMPTY


def exercise_texts(study) -> dict[str, str]:
    """What the link carries of the exercise: its id."""
    exercise_id = exercise_of(study)["id"]
    return {"exercise": exercise_id} if exercise_id else {}


def fixed_values(study) -> dict:
    exercise = exercise_of(study)
    return {**exercise["lock"], **exercise["hide"]}


def from_link(study, asked: str, warnings: list[str]) -> None:
    """Open the exercise the link names (once per session and id); keep the session's one when the
    link names none."""
    key = f"{study.NAME}:exercise"
    if not asked or exercise_of(study)["id"] == asked:
        return
    found = result_store().load_exercise(asked)
    if found is None or found[0] != study.NAME:
        warnings.append("exercise: no such exercise on this server (ask your teacher for the link again) - "
                        "the page is not locked")
        return
    spec, schema = found[1], study.SCHEMA
    known = {kind: {n: t for n, t in spec[kind].items() if n in schema.params} for kind in ("lock", "hide")}
    values, problems = schema.parse_lenient({**known["lock"], **known["hide"]})
    warnings += [f"exercise: {problem}" for problem in problems]
    st.session_state[key] = {"id": asked, "question": spec["question"],
                             **{kind: {n: values[n] for n in names} for kind, names in known.items()}}
    st.session_state.pop(f"{study.NAME}:ran", None)


def make(study, question: str, values: dict, locked: list[str], hidden: list[str]) -> str:
    """Keep an exercise with these parameters fixed at ``values``; its id. StoreError if it cannot."""
    texts = study.SCHEMA.to_texts(values)
    return result_store().save_exercise(study.NAME, {
        "question": question.strip(), "lock": {n: texts[n] for n in locked}, "hide": {n: texts[n] for n in hidden}})


def held_back(study, run_key: str) -> bool:
    """In an exercise, a run's results show only once this session pressed Run on it."""
    return bool(exercise_of(study)["id"]) and run_key not in st.session_state.get(f"{study.NAME}:ran", ())


def pressed_run(study, run_key: str) -> None:
    st.session_state.setdefault(f"{study.NAME}:ran", set()).add(run_key)


def question_box(study) -> None:
    """The teacher's question, as plain text (never Markdown or HTML from a link's target)."""
    exercise = exercise_of(study)
    if exercise["id"]:
        with st.container(key="exercise-question", border=True):
            st.markdown(":material/school: **Exercise**")
            st.text(exercise["question"] or "Explore the parameters you can change, then press Run.")
            if exercise["lock"] or exercise["hide"]:
                st.caption("Locked by your teacher: " + ", ".join(n.replace("_", " ") for n in exercise["lock"])
                           + (f"; set but not shown: {len(exercise['hide'])}" if exercise["hide"] else ""))

