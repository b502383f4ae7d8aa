"""Migrations build exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import String, inspect
from sqlalchemy.exc import IntegrityError

from db.engine import make_engine
from db.migrate import alembic_config, current_revision, head_revision, upgrade
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
