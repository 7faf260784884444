"""Bring a database's schema up to date (Alembic), at start-up, before the app serves."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import create_async_engine

MIGRATIONS = Path(__file__).with_name("migrations")


def _upgrade(connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_upgrade)
            await connection.commit()
    finally:
        await engine.dispose()


def upgrade_now(url: str, timeout: float) -> None:
    """Run `upgrade` on a loop of its own (the caller may already be inside one, as under a test
    runner or hot reload). Raises what the upgrade raised, or TimeoutError."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            asyncio.run(asyncio.wait_for(upgrade(url), timeout))
            outcome.append(None)
        except BaseException as exc:  # handed to the caller's thread
            outcome.append(exc)

    worker = threading.Thread(target=run, name="causerie-migrate", daemon=True)
    worker.start()
    worker.join(timeout + 5)
    if not outcome:
        raise TimeoutError(f"the database did not answer within {timeout:g} s")
    if outcome[0] is not None:
        raise outcome[0]
