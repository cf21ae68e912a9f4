"""The cleanup pass before every measurement: what may be emptied so that only real
leaks remain, step by named step (``steps``)."""
