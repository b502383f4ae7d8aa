"""Alembic, run programmatically from the migrations inside the package (no alembic.ini).

A new revision, after changing db/models.py, against a database at the current head:

    python -c "from alembic import command; from db.engine import engine_for; \
      from db.migrate import alembic_config; from db.settings import DbSettings; \
      command.revision(alembic_config(engine_for(DbSettings.from_env())), 'what changed', \
      autogenerate=True)"

then review the generated file (types, constraint names) and run the drift test.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
_ALEMBIC_LOCK = threading.Lock()
# `revision = "0002"` / `down_revision = "0001"` (or None) at the top of a version file.
_REVISION = re.compile(r'^(down_)?revision\b[^=\n]*=\s*(?:"(\w+)"|None)', re.MULTILINE)


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic's configuration, without alembic.ini; without `engine` for offline questions."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`. Safe to call on every start: a database already at
    the head is seen without importing Alembic (about 0.13 s of the bot's start-up)."""
    head = script_head() if revision == "head" else None
    if head is not None and stamped_revision(engine) == head:
        return
    from alembic import command

    # Alembic keeps the running migration context in module globals: one at a time.
    with _ALEMBIC_LOCK:
        command.upgrade(alembic_config(engine), revision)


def script_head() -> str | None:
    """The head revision read from the version files themselves: the one revision that no
    other names as its down_revision (None unless the history is one line). Alembic's own
    answer is `head_revision`; a test holds the two equal."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for down, name in _REVISION.findall(path.read_text(encoding="utf-8")):
            if name:
                (downs if down else revisions).add(name)
    heads = revisions - downs
    return heads.pop() if len(heads) == 1 and len(revisions) == len(downs) + 1 else None


def stamped_revision(engine: Engine) -> str | None:
    """The revision recorded in the database's alembic_version table (None: none, or no
    table yet), read with SQLAlchemy alone."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
