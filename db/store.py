"""Synchronous operations on the result-log database. Thread-safe: each call has its own
connection. The bot goes through db.log.ResultLog; the palsy-db CLI uses this directly."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError, StatementError

from db.models import Screening, UserPref
from db.records import LOCALE_LEN, OnsetAnswer, ScreeningRecord, utc_now
from db.spool import Op, Spool

REPLAY_BATCH = 500


class StoreUnavailable(Exception):
    """The database cannot be reached now; what was asked was not done."""


def is_permanent(exc: BaseException) -> bool:
    """True for errors that retrying cannot fix: the data itself is refused."""
    if isinstance(exc, DataError | IntegrityError):
        return True
    # A StatementError that is not a DBAPIError failed while binding our values.
    return isinstance(exc, StatementError) and not isinstance(exc, DBAPIError)


def describe_error(exc: BaseException) -> str:
    """One line for logs and admins: the error type and its first line, no traceback."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


@dataclass(frozen=True)
class WeekCount:
    week: str  # ISO week, e.g. 2026-W48
    tier: str
    label: str  # "" for rejected photos
    count: int


SCREENINGS = cast(Table, Screening.__table__)
USER_PREFS = cast(Table, UserPref.__table__)
EXPORT_COLUMNS: tuple[str, ...] = tuple(
    column.name for column in SCREENINGS.columns if column.name != "pseudonym"
)


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- writes (idempotent, so that spool replay is exactly-once) ---

    def apply(self, ops: Sequence[Op]) -> None:
        """Write ops in one transaction: screenings inserted if absent, onset answers set."""
        with self.engine.begin() as connection:
            self._apply(connection, ops)

    def apply_isolating(self, ops: Sequence[Op]) -> list[Op]:
        """`apply`, but ops the database refuses for good are skipped and returned.

        Transient errors (database down, locked) propagate: the caller spools and retries.
        """
        try:
            self.apply(ops)
            return []
        except SQLAlchemyError as exc:
            if not is_permanent(exc):
                raise
            if len(ops) == 1:
                return list(ops)
        refused: list[Op] = []
        for op in ops:
            try:
                self.apply([op])
            except SQLAlchemyError as exc:
                if not is_permanent(exc):
                    raise
                refused.append(op)
        return refused

    def replay(self, spool: Spool) -> int:
        """Write every spooled op, then empty the spool. Returns how many ops were replayed."""
        with spool.locked():
            ops = spool.read()
            for start in range(0, len(ops), REPLAY_BATCH):
                refused = self.apply_isolating(ops[start : start + REPLAY_BATCH])
                if refused:
                    spool.reject(refused, "on replay")
            if spool.has_ops():
                spool.clear()
            return len(ops)

    def _apply(self, connection: Connection, ops: Sequence[Op]) -> None:
        # In order: an onset answer may follow its screening in the same batch.
        pending: list[dict[str, Any]] = []
        for op in ops:
            if isinstance(op, ScreeningRecord):
                pending.append(_row(op))
                continue
            self._insert_absent(connection, pending)
            pending = []
            self._set_onset(connection, op)
        self._insert_absent(connection, pending)

    @staticmethod
    def _insert_absent(connection: Connection, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        name = connection.dialect.name
        if name in {"sqlite", "postgresql"}:
            dialect_insert = sqlite.insert if name == "sqlite" else postgresql.insert
            statement = dialect_insert(SCREENINGS).on_conflict_do_nothing(index_elements=["id"])
            connection.execute(statement, rows)
            return
        present = set(
            connection.scalars(
                select(Screening.id).where(Screening.id.in_([row["id"] for row in rows]))
            )
        )
        missing = [row for row in rows if row["id"] not in present]
        if missing:
            connection.execute(insert(SCREENINGS), missing)

    @staticmethod
    def _set_onset(connection: Connection, answer: OnsetAnswer) -> None:
        connection.execute(
            update(Screening)
            .where(Screening.id == answer.screening_id)
            .values(sudden_onset=answer.sudden, tier=answer.tier)
        )

    # --- erasure and retention ---

    def forget(self, pseudonym: str) -> int:
        """Delete every screening and preference of one pseudonym; returns screenings deleted."""
        with self.engine.begin() as connection:
            deleted = connection.execute(delete(Screening).where(Screening.pseudonym == pseudonym))
            connection.execute(delete(UserPref).where(UserPref.pseudonym == pseudonym))
            return deleted.rowcount

    def purge(self, before: datetime) -> int:
        """Delete screenings created before `before` (aware UTC); returns how many."""
        with self.engine.begin() as connection:
            deleted = connection.execute(delete(Screening).where(Screening.created_at < before))
            return deleted.rowcount

    # --- preferences ---

    def get_language(self, pseudonym: str) -> str | None:
        with self.engine.connect() as connection:
            return connection.scalar(
                select(UserPref.language).where(UserPref.pseudonym == pseudonym)
            )

    def set_language(self, pseudonym: str, language: str) -> None:
        if not language or len(language) > LOCALE_LEN:
            raise ValueError(f"language must be 1 to {LOCALE_LEN} characters")
        values = {"pseudonym": pseudonym, "language": language, "updated_at": utc_now()}
        with self.engine.begin() as connection:
            changed = connection.execute(
                update(UserPref)
                .where(UserPref.pseudonym == pseudonym)
                .values(language=language, updated_at=values["updated_at"])
            )
            if changed.rowcount == 0:
                connection.execute(insert(USER_PREFS), [values])

    # --- reports ---

    def count(self) -> int:
        with self.engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(SCREENINGS)) or 0

    def week_counts(self) -> list[WeekCount]:
        """Screenings per ISO week (UTC) x tier x label, sorted."""
        counts: Counter[tuple[str, str, str]] = Counter()
        query = select(Screening.created_at, Screening.tier, Screening.label)
        with self.engine.connect() as connection:
            for created_at, tier, label in connection.execute(query).yield_per(1000):
                year, week, _ = created_at.isocalendar()
                counts[(f"{year}-W{week:02d}", tier, label or "")] += 1
        return [WeekCount(*key, count) for key, count in sorted(counts.items())]

    def export_rows(self) -> Iterator[dict[str, Any]]:
        """Every screening, oldest first, without the pseudonym."""
        columns = [SCREENINGS.c[name] for name in EXPORT_COLUMNS]
        query = select(*columns).order_by(Screening.created_at, Screening.id)
        with self.engine.connect() as connection:
            for row in connection.execute(query).yield_per(1000):
                yield dict(row._mapping)


def _row(record: ScreeningRecord) -> dict[str, Any]:
    return {column.name: getattr(record, column.name) for column in SCREENINGS.columns}
