"""The Streamlit dashboard (the only package that imports streamlit): the shared sidebar, the
Overview and the ``pages/`` scripts' helpers, background encoding jobs, and the list of pages.
"""
