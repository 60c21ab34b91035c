"""Building, checking and reconciling Fiscal Data Packages: plain Python, no Django (an import-linter contract).

The Django side (conversion/runs.py, conversion/plan.py) reads the database and the settings and hands these
functions paths, plans and limits.
"""
