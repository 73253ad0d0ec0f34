"""Streamlit entry point: `streamlit run app.py`. The study pages arrive with the app issue; for now
the home page lists the studies the command line can already run."""
import streamlit as st

from studies import STUDIES

st.set_page_config(page_title="MLP Study Explorer", layout="wide")
st.title("MLP Study Explorer")
st.write("Hyperparameter studies of a hand-written NumPy multi-layer perceptron, from the lecture.")
for name, study in STUDIES.items():
    st.markdown(f"**{study.TITLE}** ({study.FIGURES}) — {study.SUMMARY}  \n"
                f"`python -m studies run {name} --out {name}.csv`")
