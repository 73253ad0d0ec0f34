"""Streamlit entry point: `streamlit run app.py`. Routes between the home page and one page per study."""
import streamlit as st

from studies import CHAPTERS, STUDIES
from ui.home import home, page_file
from ui.runs import runs_page

st.set_page_config(page_title="MLP Study Explorer", page_icon="🧠", layout="wide")
pages = {"": [st.Page(home, title="Home", icon=":material/home:", default=True),
              st.Page(runs_page, title="Runs", icon=":material/table_rows:", url_path="runs")]}
for chapter, names in CHAPTERS.items():
    pages[chapter] = [st.Page(page_file(name), title=STUDIES[name].TITLE, url_path=name) for name in names]
st.navigation(pages).run()
