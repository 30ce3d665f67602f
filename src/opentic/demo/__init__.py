"""The demo data set: the top floor, which may import every app (DESIGN.md). Each app keeps its own
generator (`registry/demo.py`, `lims/demo.py` …); the `demo-data` command here runs them in order."""
