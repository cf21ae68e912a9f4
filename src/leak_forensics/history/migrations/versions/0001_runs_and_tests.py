"""Runs and their tests.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished", sa.DateTime(timezone=True), nullable=False),
        sa.Column("exit_status", sa.Integer, nullable=False),
        sa.Column("outcomes", sa.JSON, nullable=False),
        sa.Column("git_commit", sa.String(64)),
        sa.Column("git_branch", sa.String(255)),
        sa.Column("git_dirty", sa.Boolean),
        sa.Column("ci_provider", sa.String(64)),
        sa.Column("ci_build", sa.String(255)),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("python", sa.String(32), nullable=False),
        sa.Column("platform", sa.String(255), nullable=False),
        sa.Column("plugin_version", sa.String(32), nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("peak_rss", sa.BigInteger),
        sa.Column("growth_rate", sa.Float),
    )
    op.create_table(
        "tests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("nodeid", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("bytes_per_run", sa.BigInteger, nullable=False),
        sa.Column("blocks_per_run", sa.BigInteger, nullable=False),
        sa.Column("runs", sa.Integer, nullable=False),
        sa.Column("top_sites", sa.JSON, nullable=False),
        sa.Column("top_types", sa.JSON, nullable=False),
        sa.Column("signatures", sa.JSON, nullable=False),
        sa.Column("duration", sa.Float),
        sa.Column("rss_start", sa.BigInteger),
        sa.Column("rss_end", sa.BigInteger),
    )


def downgrade() -> None:
    op.drop_table("tests")
    op.drop_table("runs")
