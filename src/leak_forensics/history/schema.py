"""The tables, as the latest migration leaves them (``migrations/versions``).

Figures are plain columns, to be queried and plotted; lists that only get shown (top
sites, types, leak signatures) are JSON, which SQLite and PostgreSQL both store.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True), nullable=False),
    Column("exit_status", Integer, nullable=False),
    Column("outcomes", JSON, nullable=False),
    Column("git_commit", String(64)),
    Column("git_branch", String(255)),
    Column("git_dirty", Boolean),
    Column("ci_provider", String(64)),
    Column("ci_build", String(255)),
    Column("host", String(255), nullable=False),
    Column("python", String(32), nullable=False),
    Column("platform", String(255), nullable=False),
    Column("plugin_version", String(32), nullable=False),
    Column("options", JSON, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("peak_rss", BigInteger),
    Column("growth_rate", Float),
)

tests = Table(
    "tests", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("nodeid", Text, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("bytes_per_run", BigInteger, nullable=False),
    Column("blocks_per_run", BigInteger, nullable=False),
    Column("runs", Integer, nullable=False),
    Column("top_sites", JSON, nullable=False),
    Column("top_types", JSON, nullable=False),
    Column("signatures", JSON, nullable=False),
    Column("duration", Float),
    Column("rss_start", BigInteger),
    Column("rss_end", BigInteger),
)

#: RSS over a run (``leak-forensics run``): seconds since the run started, the process
#: read, and the test it was running (null between tests).
samples = Table(
    "samples", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("time", Float, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("process", String(64), nullable=False),
    Column("rss", BigInteger, nullable=False),
    Column("nodeid", Text),
)
