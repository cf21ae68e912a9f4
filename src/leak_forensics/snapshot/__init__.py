"""Memory snapshots held as columns: the model, the file format (never a pickle), the
diff with ``tracemalloc``'s numbers, and the import of ``tracemalloc`` pickles."""
