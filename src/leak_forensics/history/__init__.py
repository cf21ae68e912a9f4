"""The memory of earlier runs: one row per run and per test, in any database SQLAlchemy
reaches (a SQLite file by default), so that runs can be listed and compared."""
