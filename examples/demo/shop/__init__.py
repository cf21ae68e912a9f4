"""A small shop application whose test suite leaks in a few typical ways."""
