"""The settings of saved conversations: the secret that seals them in browsers (and the earlier
ones that still open what they sealed), the caps, the server store's URL and who may sign in.
Read once at start, like every other setting."""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .setting_values import SettingsError, number

log = logging.getLogger(__name__)
MIN_SECRET_CHARS = 16
MAKE_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
USER_NAME = re.compile(r"^[A-Za-z0-9_.@+-]{1,100}$")


@dataclass(frozen=True)
class HistoryLimits:
    """How much one person may keep: conversations, and characters of text all together."""

    max_conversations: int = 200
    max_bytes: int = 2_000_000
    """Characters of text, all conversations together: a browser keeps about 5 million per site."""


@dataclass(frozen=True)
class HistorySettings:
    secret: str = field(repr=False)
    secret_kept: str
    """Where the secret comes from: "environment", "file" (made once, kept locally) or "this run"
    (a Space without HISTORY_SECRET: browsers' chats become unreadable when it restarts)."""
    old_secrets: tuple[str, ...] = field(default=(), repr=False)
    """HISTORY_OLD_SECRETS: earlier secrets, which still open what they sealed (never seal)."""
    limits: HistoryLimits = HistoryLimits()
    database_url: str | None = field(default=None, repr=False)
    """The async SQLAlchemy URL (it may hold a password)."""
    auth_users: Mapping[str, str] = field(default_factory=dict, repr=False)
    """User name → password, from AUTH_USERS."""
    votes_url: str = field(default="", repr=False)
    """Where compare mode's votes go: DATABASE_URL, else a SQLite file in the data folder."""

    @property
    def warn_secret(self) -> bool:
        return self.secret_kept == "this run"


def data_dir(env: Mapping[str, str]) -> Path:
    if raw := env.get("CAUSERIE_DATA_DIR", "").strip():
        return Path(raw).expanduser()
    base = env.get("XDG_DATA_HOME", "").strip() or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "causerie"


def _kept_secret(folder: Path) -> str | None:
    """The secret made on an earlier start, or a new one written (owner-only) for the next."""
    path = folder / "history-secret"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: of several processes starting at once, one makes it and the others read it.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            for _ in range(50):  # the maker may not have written it yet
                kept = path.read_text().strip()
                if len(kept) >= MIN_SECRET_CHARS:
                    return kept
                time.sleep(0.02)
            raise OSError(0, f"{path} holds no usable secret: delete it or set HISTORY_SECRET") from None
        made = secrets.token_urlsafe(32)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(made + "\n")
        return made
    except OSError as exc:
        log.warning(
            "could not keep a history secret in %s (%s): set HISTORY_SECRET so chats survive restarts", folder, exc.strerror
        )
        return None


def _secret(env: Mapping[str, str], on_space: bool) -> tuple[str, str]:
    raw = env.get("HISTORY_SECRET", "").strip()
    if raw:
        if len(raw) < MIN_SECRET_CHARS:
            raise SettingsError(f"HISTORY_SECRET must be at least {MIN_SECRET_CHARS} characters; make one with {MAKE_SECRET}.")
        return raw, "environment"
    if not on_space and (kept := _kept_secret(data_dir(env))):
        return kept, "file"
    return secrets.token_urlsafe(32), "this run"


def _old_secrets(env: Mapping[str, str]) -> tuple[str, ...]:
    entries = [e.strip() for e in env.get("HISTORY_OLD_SECRETS", "").split(",")]
    for position, entry in enumerate(filter(None, entries), start=1):
        if len(entry) < MIN_SECRET_CHARS:  # (not repeated: it is a secret)
            raise SettingsError(
                f"HISTORY_OLD_SECRETS entry {position} must be at least {MIN_SECRET_CHARS} characters: "
                "list earlier values of HISTORY_SECRET, comma-separated, most recent first."
            )
    return tuple(dict.fromkeys(filter(None, entries)))


def _auth_users(env: Mapping[str, str]) -> dict[str, str]:
    raw = env.get("AUTH_USERS", "").strip()
    users: dict[str, str] = {}
    for position, entry in enumerate(filter(None, (e.strip() for e in raw.split(","))), start=1):
        name, colon, password = entry.partition(":")
        if not colon or not USER_NAME.match(name.strip()) or not password:
            # The entry is not repeated: it holds a password.
            raise SettingsError(
                f"AUTH_USERS entry {position} must be name:password (names use letters, digits and . _ @ + -), as in alice:long-password,bob:another."
            )
        users[name.strip()] = password
    return users


def _default_database(env: Mapping[str, str]) -> str:
    """A SQLite file beside the secret (made when first used)."""
    return "sqlite+aiosqlite:///" + str(data_dir(env) / "causerie.db")


def _database_url(env: Mapping[str, str], on_space: bool, signing_in: bool) -> str | None:
    raw = env.get("DATABASE_URL", "").strip()
    if not raw and signing_in and not on_space:
        # People sign in on this machine: keep their chats in a SQLite file beside the secret.
        raw = _default_database(env)
    if not raw:
        return None
    from .store_urls import async_url, sqlite_folder  # SQLAlchemy is loaded only when a store is configured

    try:
        url = async_url(raw)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    if (folder := sqlite_folder(url)) and not folder.exists():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SettingsError(f"DATABASE_URL: cannot create the folder {folder} ({exc.strerror}).") from None
    return url


def load_history_settings(env: Mapping[str, str], *, on_space: bool, oauth: bool) -> HistorySettings:
    users = _auth_users(env)
    secret, kept = _secret(env, on_space)
    old_secrets = _old_secrets(env)
    limits = HistoryLimits(
        max_conversations=int(number(env, "CAUSERIE_HISTORY_MAX_CONVERSATIONS", 200, minimum=1)),
        max_bytes=int(number(env, "CAUSERIE_HISTORY_MAX_MB", 2, minimum=0.01) * 1_000_000),
    )
    database_url = _database_url(env, on_space, bool(users) or oauth)
    if on_space and not database_url and not env.get("CAUSERIE_DATA_DIR", "").strip():
        log.warning(
            "Compare's votes are kept in a SQLite file on the Space's own disk, which a restart empties: "
            "set DATABASE_URL, or CAUSERIE_DATA_DIR=/data with the Space's persistent storage"
        )
    return HistorySettings(
        secret=secret,
        secret_kept=kept,
        old_secrets=old_secrets,
        limits=limits,
        database_url=database_url,
        auth_users=users,
        votes_url=database_url or _default_database(env),
    )
