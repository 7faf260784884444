"""Dollar budgets' spending, per budget day and name (answering/budgets.py).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "budget_spending",
        sa.Column("day", sa.String(24), primary_key=True),
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("spent", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("budget_spending")
