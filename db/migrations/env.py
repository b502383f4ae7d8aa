"""Alembic environment: db.migrate passes the engine in `config.attributes`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from db.models import Base

# Any constant: serialises migrations of replicas that start together on one PostgreSQL.
_PG_LOCK_KEY = 7_351_202_611


def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
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
