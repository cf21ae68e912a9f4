"""Measuring a run: cheap counters, the collector's window, resources left open, threads,
the caller's stack, the type census and the time allowed for repetitions. Nothing here
decides what a leak is (``verdict``) or why (``analysis``)."""
