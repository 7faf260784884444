"""The store's tables, as SQLAlchemy Core metadata (Alembic migrations create them)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

conversations = sa.Table(
    "conversations", metadata,
    # Keyed by owner first: one person's ids never meet another's, even when an import reuses one.
    sa.Column("owner", sa.String(200), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("title", sa.Text, nullable=False, default=""),
    sa.Column("shown_title", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("messages", sa.JSON, nullable=False),
    # What a search looks through (title, prompt, messages), case-folded.
    sa.Column("body", sa.Text, nullable=False),
    sa.Index("conversations_by_owner_recent", "owner", "updated_at"),
)
