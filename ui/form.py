"""The sidebar form, generated from a study's schema, and its mirror in the address bar.

Values arrive from the link (``st.query_params``, untrusted: read leniently, every change
reported) or from the form (read strictly on Run). The address bar always holds the values
the page shows, so it is the share link.
"""
from __future__ import annotations

import re

import streamlit as st

from studies.schema import Param, ParamError, Schema

GROUPS = {"data": "Data", "model": "Model", "optimisation": "Optimisation", "study": "Study"}


def plain(text: str) -> str:
    """Escape Markdown, so text from a link is shown as written and never as a link or markup."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!<>|~$])", r"\\\1", text)


def values_from_link(schema: Schema) -> tuple[dict, list[str]]:
    """Typed values from the address bar (defaults where absent) and a warning per change made."""
    raw = {str(k): v for k, v in st.query_params.to_dict().items()}
    values, warnings = schema.parse_lenient(raw)
    if warnings:  # rewrite the link so that what it says is what the page shows
        st.query_params.from_dict(schema.to_texts(values))
    return values, warnings


def _widget(param: Param, value, key: str):
    help_text = f"{param.help}  \nAllowed: {param.allowed()}."
    label = param.name.replace("_", " ")
    if param.kind == "choice":
        return st.selectbox(label, param.choices, index=param.choices.index(value), key=key, help=help_text)
    if param.kind == "int":
        return st.number_input(label, int(param.low), int(param.high), int(value), step=1, key=key, help=help_text)
    if param.kind == "float":
        return st.number_input(label, float(param.low), float(param.high), float(value), key=key, help=help_text,
                               format="%g", step=None)
    return st.text_input(label, param.to_text(value), key=key, help=help_text)


def _key(study, param: Param) -> str:
    return f"{study.NAME}:{param.name}"


def forget_form(study) -> None:
    """Drop the widgets' remembered values, so the form shows the values it is given next."""
    for param in study.SCHEMA:
        st.session_state.pop(_key(study, param), None)


def sidebar_form(study, initial: dict) -> dict | None:
    """Draw the form; on Run return the validated values (and put them in the link), else None."""
    schema = study.SCHEMA
    with st.sidebar.form(f"{study.NAME}:form"):
        st.subheader(study.TITLE)
        raw = {}
        for group, title in GROUPS.items():
            params = [p for p in schema if p.group == group]
            if params:
                st.markdown(f"**{title}**")
                for p in params:
                    raw[p.name] = _widget(p, initial[p.name], _key(study, p))
        submitted = st.form_submit_button("Run", type="primary", width="stretch")
    if not submitted:
        return None
    try:
        values = schema.parse(raw)
    except ParamError as exc:
        st.sidebar.error(plain(str(exc)))
        return None
    st.query_params.from_dict(schema.to_texts(values))
    return values
