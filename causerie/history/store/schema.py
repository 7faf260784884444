"""The store's tables, as SQLAlchemy Core metadata (Alembic migrations create them)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

conversations = sa.Table(
    "conversations",
    metadata,
    # Keyed by owner first: one person's ids never meet another's, even when an import reuses one.
    sa.Column("owner", sa.String(200), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("title", sa.Text, nullable=False, default=""),
    sa.Column("shown_title", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    # Pinned to the top of the list (migration 0003).
    sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("messages", sa.JSON, nullable=False),
    # What a search looks through (title, prompt, messages), case-folded.
    sa.Column("body", sa.Text, nullable=False),
    sa.Index("conversations_by_owner_recent", "owner", "updated_at"),
)

votes = sa.Table(
    "votes",
    metadata,
    # Votes are taken blind only (before the names show). One vote per compared question: the id is the question's (made by the server when it asked).
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.Float, nullable=False),
    # The models as they were shown (A, B, ...), "provider:model" each, one per line: votes on the
    # same models in the same order are counted together (GROUP BY).
    sa.Column("models", sa.Text, nullable=False),
    # "tie", "bad" (all were bad), or the shown position of the best ("0" for A).
    sa.Column("outcome", sa.String(8), nullable=False),
    # The preset's kind (letters, science, code...: its id without the language), "" for none.
    sa.Column("preset", sa.String(100), nullable=False),
    sa.Index("votes_by_preset", "preset"),
)

budget_spending = sa.Table(
    "budget_spending",
    metadata,
    # What the owner's keys paid for, in dollars, per budget day (its first date) and name: a
    # visitor's (session:…, ip:…, user:…) or "app" (answering/budgets.py); also the questions and
    # tokens every process counts, per window ("q<minute>", "t<hour>": answering/shared_limits.py).
    # Migration 0004.
    sa.Column("day", sa.String(24), primary_key=True),
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("spent", sa.Float, nullable=False),
)

usage_records = sa.Table(
    "usage_records",
    metadata,
    # One row per answer, for the owner's cockpit: who answered, how it went, what it cost; never
    # a question, an answer, a key, a name or an address (visitors are stable hashes). Kept
    # USAGE_KEEP_DAYS. Migration 0005.
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
    sa.Index("usage_records_by_time", "at"),
)

shares = sa.Table(
    "shares",
    metadata,
    # A read-only copy of a conversation's path on screen, at /s/<id> (history/shares.py). Migration 0006.
    sa.Column("id", sa.String(32), primary_key=True),
    # Who may update or revoke it: a browser, an account, or (the API) whoever holds the revoke token.
    sa.Column("owner", sa.String(200), nullable=False),
    # The conversation it copies, for its owner's page ("" from the API).
    sa.Column("conversation", sa.String(64), nullable=False),
    # Who asked for it, as the limits count visitors (a stable hash): a cap holds per visitor too.
    sa.Column("visitor", sa.String(16), nullable=False, server_default=""),
    # SHA-256 of the revoke token (the token itself is given once, never kept).
    sa.Column("revoke_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("snapshot", sa.JSON, nullable=False),
    sa.Index("shares_by_owner", "owner", "conversation"),
    sa.Index("shares_by_visitor", "visitor"),
)
