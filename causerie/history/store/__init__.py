"""The server store (SQLAlchemy 2, async; Alembic migrations): conversations of signed-in people."""
