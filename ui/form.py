"""The sidebar form, generated from a study's schema, and its mirror in the address bar.

Values arrive from the link (``st.query_params``, untrusted: read leniently, every change
reported) or from the form (read strictly on Run). The address bar always holds the values
the page shows, so it is the share link.

A teacher's exercise link adds ``exercise=<id>`` (``ui.exercise``): the parameters it fixes are
reset to the exercise's values, with a warning, whatever the rest of the link says.
"""
from __future__ import annotations

import re
from typing import Callable
from urllib.parse import urlencode

import streamlit as st

from core.data import DataError, check_task
from studies.common.schema import Param, ParamError
from ui import exercise as exercises

GROUPS = {"data": "Data", "model": "Model", "optimisation": "Optimisation", "study": "Study"}


def plain(text: str) -> str:
    """Escape Markdown, so text from a link is shown as written and never as a link or markup."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!<>|~$])", r"\\\1", text)


def pinned_key(study) -> str | None:
    """The run pinned for comparison on this page (``pin=`` in the link), if any."""
    return st.session_state.get(f"{study.NAME}:pin")


def link_texts(study, values: dict) -> dict[str, str]:
    """What the address bar and the share box carry: the values, the exercise's id and the pin."""
    pin = {"pin": pinned_key(study)} if pinned_key(study) else {}
    return {**study.SCHEMA.to_texts(values), **exercises.exercise_texts(study), **pin}


def share_link(study, values: dict, exercise_id: str | None = None, pin: str | None = None) -> str:
    """A link to this page with ``values``: in this session's exercise, or in ``exercise_id``'s."""
    texts = {**study.SCHEMA.to_texts(values), **exercises.exercise_texts(study)}
    if exercise_id:
        texts["exercise"] = exercise_id
    if pin:
        texts["pin"] = pin
    return f"{st.context.url or '/' + study.NAME}?{urlencode(texts)}"


def values_from_link(study) -> tuple[dict, list[str]]:
    """Typed values from the address bar (defaults where absent) and a warning per change made,
    the exercise's fixed values applied."""
    schema = study.SCHEMA
    raw = {str(k): v for k, v in st.query_params.to_dict().items()}
    asked = str(raw.pop("exercise", ""))[:40]
    pin = str(raw.pop("pin", ""))
    values, warnings = schema.parse_lenient(raw)
    if pin and not re.fullmatch(r"[0-9a-f]{32}", pin):
        warnings.append("pin: not a run key - ignored")
        pin = ""
    st.session_state[f"{study.NAME}:pin"] = pin or None
    exercises.from_link(study, asked, warnings)
    for name, value in exercises.fixed_values(study).items():
        if values[name] != value:
            warnings.append(f"{name} is fixed by this exercise - kept {schema.params[name].to_text(value)}")
            values[name] = value
    if warnings:
        st.query_params.from_dict(link_texts(study, values))  # what the link says is what the page shows
    return values, warnings


def _widget(param: Param, key: str, disabled: bool):
    """The widget of one parameter. Its value lives in ``st.session_state[key]`` (``fill_form``):
    passing a value too would make Streamlit warn, and a browser keeps showing its own old value.
    Number fields carry no limits and may be emptied: a browser held back a value outside the limits
    without a word (the field went red below the fold, Run did nothing) and turned an emptied field
    into the lower limit; the schema now answers both when Run is pressed."""
    help_text = f"{param.help}  \nAllowed: {param.allowed()}." + ("  \nFixed by this exercise." if disabled else "")
    label = param.name.replace("_", " ") + (" 🔒" if disabled else "")
    common = {"key": key, "help": help_text, "disabled": disabled}
    if param.kind == "choice":
        return st.selectbox(label, param.choices, **common)
    if param.kind == "int":
        return st.number_input(label, value=None, step=1, **common)
    if param.kind == "float":
        return st.number_input(label, value=None, format="%g", step=None, **common)
    return st.text_input(label, **common)


def _widget_value(param: Param, value):
    """A typed value as its widget holds it: the choice, the number, or the text of a list."""
    if param.kind == "int":
        return int(value)
    if param.kind == "float":
        return float(value)
    return value if param.kind == "choice" else param.to_text(value)


def _key(study, param: Param) -> str:
    return f"{study.NAME}:{param.name}"


def fill_form(study, values: dict) -> None:
    """Put ``values`` into the form's widgets. Through the session state, the one way a rerun changes
    what a browser shows: dropping the widgets' state (as this did) let the browser keep its old
    values, so a preset changed the link but not the form (AppTest, which has no front end, saw the
    form filled)."""
    for param in study.SCHEMA:
        st.session_state[_key(study, param)] = _widget_value(param, values[param.name])


def sidebar_form(study, initial: dict, describe: Callable[[dict], str]) -> dict | None:
    """Draw the form, the Run button first with ``describe(values)`` under it (the run's size and time
    for the values the fields hold now); on Run return the validated values (and put them in the
    link), else None. A rejected form keeps its error, above the fields, beside each wrong field and
    on the page, until the next Run.

    The fields live in a fragment, not an ``st.form``: a changed field reruns the fragment alone, so
    the estimate follows the form as it stands (inside a form it described the last run: 'under a
    second' after epochs went from 20 to 2000). Run validates there and hands the values to the page
    through the session state, with one rerun of the whole page."""
    if any(_key(study, p) not in st.session_state for p in study.SCHEMA):
        fill_form(study, initial)
    with st.sidebar:
        _fields(study, describe)
    submitted = st.session_state.pop(f"{study.NAME}:submitted", None)
    if submitted is not None:
        st.query_params.from_dict(link_texts(study, submitted))
    return submitted


def _raw(study, exercise: dict) -> dict:
    """What the fields hold now (the hidden parameters at the exercise's values)."""
    return {**{p.name: st.session_state.get(_key(study, p)) for p in study.SCHEMA if p.name not in exercise["hide"]},
            **exercise["hide"]}


@st.fragment
def _fields(study, describe: Callable[[dict], str]) -> None:
    schema, exercise = study.SCHEMA, exercises.exercise_of(study)
    error_key, errors_key = f"{study.NAME}:form_error", f"{study.NAME}:field_errors"
    if st.button("Run", type="primary", width="stretch", icon=":material/play_arrow:", key=f"{study.NAME}:run"):
        raw = _raw(study, exercise)
        try:
            st.session_state[f"{study.NAME}:submitted"] = schema.parse(raw)
            st.session_state.pop(error_key, None)
            st.session_state.pop(errors_key, None)
        except ParamError as exc:
            st.session_state[error_key] = str(exc)
            st.session_state[errors_key] = schema.problems(raw)
        st.rerun(scope="app")  # the page runs the values, or says what is wrong at its top
    values, problems = schema.parse_lenient(_raw(study, exercise))
    st.caption("Fix the fields marked below to see this run's size." if problems else describe(values))
    if st.session_state.get(error_key):
        st.error(plain(st.session_state[error_key]), icon=":material/error:")
    field_errors = st.session_state.get(errors_key, {})
    for group, title in GROUPS.items():
        params = [p for p in schema if p.group == group and p.name not in exercise["hide"]]
        if params:
            st.markdown(f"**{title}**")
            for p in params:
                _widget(p, _key(study, p), p.name in exercise["lock"])
                if p.name in field_errors:
                    st.error(plain(field_errors[p.name]), icon=":material/error:")


def form_error(study) -> str | None:
    return st.session_state.get(f"{study.NAME}:form_error")


def preset_picker(study) -> None:
    """A "Lecture figure" choice that fills the form with the lecture's settings for that figure,
    on the embedded digits data when the figure's data set is not installed here."""
    presets = study.PRESETS
    if not presets:
        return
    key = f"{study.NAME}:preset"

    def apply() -> None:
        chosen = st.session_state[key]
        if chosen not in presets:
            return
        texts = {**study.SCHEMA.to_texts(study.SCHEMA.defaults()), **presets[chosen]}
        try:
            if "dataset" in texts:
                check_task(texts["dataset"])
            st.session_state.pop(f"{study.NAME}:preset_note", None)
        except DataError:
            st.session_state[f"{study.NAME}:preset_note"] = (
                f"{texts['dataset']} is not installed on this server, so this figure's settings run on the "
                "embedded digits data instead.")
            texts["dataset"] = "digits"
        st.query_params.from_dict({**texts, **exercises.exercise_texts(study)})  # the page fills the form

    st.sidebar.selectbox("Lecture figure", ["(your own settings)", *presets], key=key, on_change=apply,
                         help="Fill the form with the lecture's settings for one of its figures.")
    if st.session_state.get(f"{study.NAME}:preset_note"):
        st.sidebar.info(st.session_state[f"{study.NAME}:preset_note"], icon=":material/info:")
