"""Compare mode's votes.

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
        "votes",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("models", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("preset", sa.String(100), nullable=False),
    )
    op.create_index("votes_by_preset", "votes", ["preset"])


def downgrade() -> None:
    op.drop_index("votes_by_preset", table_name="votes")
    op.drop_table("votes")
