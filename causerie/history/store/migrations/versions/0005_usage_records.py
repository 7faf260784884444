"""The cockpit's answer records (answering/answer_log.py AnswerRecord.row).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_records",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("model", sa.String(256), nullable=False),
        sa.Column("key", sa.String(16), nullable=False),
        sa.Column("owner_pays", sa.Boolean, nullable=False),
        sa.Column("visitor", sa.String(16), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("why", sa.String(40), nullable=True),
        sa.Column("ttft_s", sa.Float, nullable=True),
        sa.Column("total_s", sa.Float, nullable=False),
        sa.Column("prompt_tokens", sa.Integer, nullable=True),
        sa.Column("completion_tokens", sa.Integer, nullable=True),
        sa.Column("cached_tokens", sa.Integer, nullable=True),
        sa.Column("cost_usd", sa.Float, nullable=True),
        sa.Column("cost_source", sa.String(16), nullable=True),
        sa.Column("tools", sa.String(200), nullable=False),
        sa.Column("pictures", sa.Integer, nullable=False),
    )
    op.create_index("usage_records_by_time", "usage_records", ["at"])


def downgrade() -> None:
    op.drop_index("usage_records_by_time", table_name="usage_records")
    op.drop_table("usage_records")
