"""Alembic's entry: migrations run on the connection Causerie hands over (store/migrate.py), or,
from the `alembic` command line, on DATABASE_URL."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import context

from causerie.history.store.schema import metadata

# Several replicas may start at once on one PostgreSQL: one migrates, the others wait for it.
MIGRATION_LOCK = 7_271_846_512


def _run(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


def _from_command_line() -> None:
    import os

    from sqlalchemy.ext.asyncio import create_async_engine

    from causerie.config.store_urls import async_url

    async def run() -> None:
        engine = create_async_engine(async_url(os.environ["DATABASE_URL"]))
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
        await engine.dispose()

    asyncio.run(run())


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    _from_command_line()
