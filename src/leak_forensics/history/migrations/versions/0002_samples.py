"""The RSS samples of a run made by ``leak-forensics run``.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "samples",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("time", sa.Float, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("process", sa.String(64), nullable=False),
        sa.Column("rss", sa.BigInteger, nullable=False),
        sa.Column("nodeid", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("samples")
