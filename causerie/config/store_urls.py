"""DATABASE_URL as people write it, turned into the async driver SQLAlchemy uses."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}


def async_url(url: str) -> str:
    """`sqlite:///file.db` or `postgresql://user:pw@host/db` (a driver already named is kept).
    Raises ValueError naming what is accepted; the message never repeats a password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError("DATABASE_URL must look like sqlite:///causerie.db or postgresql://user:password@host/db") from None
    backend = parsed.get_backend_name()
    if backend not in DRIVERS:
        raise ValueError(f"DATABASE_URL: {backend!r} is not supported; use sqlite:///path.db or postgresql://…")
    if parsed.drivername in DRIVERS:
        parsed = parsed.set(drivername=DRIVERS[parsed.drivername])
    if backend == "sqlite" and not parsed.database:
        raise ValueError("DATABASE_URL: give SQLite a file, as in sqlite:///causerie.db (an in-memory database would vanish)")
    return parsed.render_as_string(hide_password=False)


def sqlite_folder(url: str) -> Path | None:
    """The folder a SQLite URL's file goes in (to be made before SQLite opens it); None for
    another database."""
    return Path(url.split("///", 1)[-1]).parent if url.startswith("sqlite") else None


def shown_url(url: str) -> str:
    """For logs and messages: the URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unreadable URL)"
