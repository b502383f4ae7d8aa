"""Alembic, run programmatically from the migrations inside the package (no alembic.ini).

A new revision, after changing db/models.py, against a database at the current head:

    python -c "from alembic import command; from db.engine import engine_for; \
      from db.migrate import alembic_config; from db.settings import DbSettings; \
      command.revision(alembic_config(engine_for(DbSettings.from_env())), 'what changed', \
      autogenerate=True)"

then review the generated file (types, constraint names) and run the drift test.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
_ALEMBIC_LOCK = threading.Lock()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`. Safe to call on every start (no-op at head)."""
    # Alembic keeps the running migration context in module globals: one at a time.
    with _ALEMBIC_LOCK:
        command.upgrade(alembic_config(engine), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_offline_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _offline_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config
