"""What the pages show, shaped from plain data into plain data (lists of dicts,
dataclasses, DataFrames): no Streamlit, no store, no clock, so each can be tested alone.
One module per page; the page (``dashboard/views``) only lays the results out."""
