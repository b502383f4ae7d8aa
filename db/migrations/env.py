"""Alembic environment: db.migrate passes the engine in `config.attributes`; without one
(plain `alembic` run) it uses the database the environment selects, as the bot does."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from db.engine import engine_for
from db.models import Base
from db.settings import DbSettings

# Any constant: serialises migrations of replicas that start together on one PostgreSQL.
_PG_LOCK_KEY = 7_351_202_611


def run_migrations_online() -> None:
    engine = context.config.attributes.get("engine") or engine_for(DbSettings.from_env())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})"))
            context.run_migrations()


run_migrations_online()
