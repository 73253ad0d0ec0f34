"""Streamlit helpers shared by the pages: the parameter form, the study page layout, the home page."""
