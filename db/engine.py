"""Engines for the result log: SQLite tuned for concurrent use, PostgreSQL with timeouts."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from db.settings import ConfigError, DbSettings

BUSY_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 5


def make_engine(url: URL, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and foreign keys on each connection."""
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        connect_args["timeout"] = busy_timeout_s
    elif url.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    try:
        # hide_parameters: a database error message never carries a value (a pseudonym) into
        # the log.
        engine = create_engine(
            url, connect_args=connect_args, pool_pre_ping=True, hide_parameters=True
        )
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ConfigError("DATABASE_URL", f"unusable database URL: {exc}") from None
    except ImportError as exc:
        raise ConfigError("DATABASE_URL", f"database driver not installed: {exc.name}") from None
    if engine.dialect.name == "sqlite":
        busy_ms = int(busy_timeout_s * 1000)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
                cursor.execute("PRAGMA foreign_keys=ON")
            finally:
                cursor.close()

    return engine


def engine_for(settings: DbSettings, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> Engine:
    """The engine `settings` select; creates the data directory for the default SQLite file."""
    if settings.database_url is None:
        try:
            # Private: the database holds pseudonyms and the pepper may live here too.
            settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            message = f"cannot create {settings.data_dir}: {exc.strerror}"
            raise ConfigError("PALSY_DATA_DIR", message) from None
    return make_engine(settings.url, busy_timeout_s=busy_timeout_s)
