"""Shared conversations, read-only at /s/<id> (history/shares.py).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shares",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("conversation", sa.String(64), nullable=False),
        sa.Column("visitor", sa.String(16), nullable=False, server_default=""),
        sa.Column("revoke_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("snapshot", sa.JSON, nullable=False),
    )
    op.create_index("shares_by_owner", "shares", ["owner", "conversation"])
    op.create_index("shares_by_visitor", "shares", ["visitor"])


def downgrade() -> None:
    op.drop_index("shares_by_visitor", table_name="shares")
    op.drop_index("shares_by_owner", table_name="shares")
    op.drop_table("shares")
