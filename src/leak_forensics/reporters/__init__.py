"""Reporters: what a run found, for people (terminal, ``text_table``) and machines (JSON).

Empty on purpose: the snapshot commands import ``snapshot_text`` from a fresh process each
call, and should not pay for the run's result types (``run`` holds those).
"""
