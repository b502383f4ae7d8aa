"""Migrations build exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import String, inspect, make_url
from sqlalchemy.exc import IntegrityError

from db.engine import make_engine
from db.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    script_head,
    stamped_revision,
    upgrade,
)
from db.models import Base, Screening
from db.store import Store
from tests.support.db_backends import Backend, record

# Nothing that identifies a person may ever become a column.
FORBIDDEN = ("photo", "image", "name", "username", "telegram", "user_id", "chat", "phone")


def test_migrations_alone_match_the_models(db_backend: Backend) -> None:
    engine = make_engine(db_backend.url)
    try:
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        upgrade(engine)  # at head: a no-op, as on every bot start
        command.downgrade(alembic_config(engine), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_a_database_at_head_starts_without_alembic(tmp_path: Path) -> None:
    """The start-up check reads the head from the version files and the stamp with SQLAlchemy;
    Alembic is imported only when there is something to migrate."""
    assert script_head() == head_revision() is not None
    url = f"sqlite:///{tmp_path / 'at_head.sqlite3'}"
    engine = make_engine(make_url(url))
    try:
        assert stamped_revision(engine) is None  # no table yet
        command.upgrade(alembic_config(engine), "0001")
        assert stamped_revision(engine) == "0001"
        upgrade(engine)  # behind the head: Alembic migrates
        assert stamped_revision(engine) == current_revision(engine) == head_revision()
    finally:
        engine.dispose()
    probe = (
        "import sys; from sqlalchemy import make_url; from db.engine import make_engine; "
        "from db.migrate import upgrade; "
        f"upgrade(make_engine(make_url({url!r}))); print('alembic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", done.stderr


def test_migrated_schema_refuses_bad_status(db_backend: Backend) -> None:
    engine = make_engine(db_backend.url)
    try:
        upgrade(engine)
        bad = record()
        object.__setattr__(bad, "status", "maybe")  # slip past the dataclass check
        with pytest.raises(IntegrityError):
            Store(engine).apply([bad])
    finally:
        engine.dispose()


def test_no_column_can_hold_a_photo_or_an_identity() -> None:
    columns = {column.name for table in Base.metadata.tables.values() for column in table.columns}
    assert "pseudonym" in columns
    model_columns = {"model_name", "model_version"}
    for column in columns - model_columns:
        assert not any(word in column for word in FORBIDDEN), column
    pseudonym_type = Screening.__table__.c.pseudonym.type
    assert isinstance(pseudonym_type, String) and pseudonym_type.length == 64  # an HMAC
