"""Synchronous operations on the result-log database. Thread-safe: each call has its own
connection. The bot goes through db.log.ResultLog; the palsy-db CLI uses this directly."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, RowMapping
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError, StatementError

from db.models import Exam, ExamStateRow, Screening, UserPref
from db.records import (
    EXAM_TTL,
    LOCALE_LEN,
    ExamRecord,
    ExamState,
    OnsetAnswer,
    ScreeningRecord,
    utc_now,
)
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
EXAMS = cast(Table, Exam.__table__)
EXAM_STATES = cast(Table, ExamStateRow.__table__)
EXPORT_COLUMNS: tuple[str, ...] = tuple(
    column.name for column in SCREENINGS.columns if column.name != "pseudonym"
)
EXAM_EXPORT_COLUMNS: tuple[str, ...] = tuple(
    column.name for column in EXAMS.columns if column.name != "pseudonym"
)


@dataclass(frozen=True)
class ExamWeekCount:
    week: str
    status: str
    tier: str  # "" for an exam that ended without a result
    pattern: str
    count: int


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
        # The answer is about a single photo or a whole exam: ids are UUIDs, unique across both.
        for table in (SCREENINGS, EXAMS):
            connection.execute(
                update(table)
                .where(table.c.id == answer.screening_id)
                .values(sudden_onset=answer.sudden, tier=answer.tier)
            )

    # --- exams in progress (blocking; each call one transaction) ---

    def exam_state(self, key: str) -> ExamState | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(EXAM_STATES).where(EXAM_STATES.c.key == key)).first()
        return None if row is None else _state_of(row._mapping)

    def put_exam_state(self, state: ExamState, expect: str | None = None) -> bool:
        """Store `state`. With `expect` (the step it was waiting for) only if the stored state is
        still that exam at that step: False when another replica or message moved it on.
        Without `expect`, replaces whatever was there (a new exam)."""
        values = _state_row(state)
        with self.engine.begin() as connection:
            if expect is not None:
                changed = connection.execute(
                    update(EXAM_STATES)
                    .where(EXAM_STATES.c.key == state.key)
                    .where(EXAM_STATES.c.exam_id == state.exam_id)
                    .where(EXAM_STATES.c.waiting == expect)
                    .values(values)
                )
                return changed.rowcount == 1
            connection.execute(delete(EXAM_STATES).where(EXAM_STATES.c.key == state.key))
            connection.execute(insert(EXAM_STATES), [values])
            return True

    def end_exam(self, state: ExamState, exam: ExamRecord | None) -> bool:
        """Delete the state and, with `exam`, write the exam row and its steps (screenings
        linked by exam_id) in the same transaction. False: the exam was already ended (by
        another replica, or a second message), nothing written."""
        with self.engine.begin() as connection:
            gone = connection.execute(
                delete(EXAM_STATES)
                .where(EXAM_STATES.c.key == state.key)
                .where(EXAM_STATES.c.exam_id == state.exam_id)
            )
            if gone.rowcount != 1:
                return False
            if exam is not None:
                connection.execute(insert(EXAMS), [_exam_row(exam)])
                steps = [replace(s.record, exam_id=exam.id) for s in state.steps.values()]
                self._insert_absent(connection, [_row(step) for step in steps])
                # A step logged earlier as a single photo (the offer) is linked now.
                connection.execute(
                    update(Screening)
                    .where(Screening.id.in_([step.id for step in steps]))
                    .values(exam_id=exam.id)
                )
            return True

    def expire_exams(self, now: datetime) -> int:
        """End every exam left unfinished for EXAM_TTL (logged as "expired" with the steps it
        had); drop stale offers. Returns exams expired."""
        query = select(EXAM_STATES).where(EXAM_STATES.c.updated_at <= now - EXAM_TTL)
        with self.engine.connect() as connection:
            states = [_state_of(row._mapping) for row in connection.execute(query)]
        expired = 0
        for state in states:
            if not state.expired(now):
                continue
            record = expired_record(state, now)
            expired += self.end_exam(state, record) and record is not None
        return expired

    # --- erasure and retention ---

    def forget(self, pseudonym: str) -> int:
        """Delete every screening and preference of one pseudonym; returns screenings deleted."""
        with self.engine.begin() as connection:
            deleted = connection.execute(delete(Screening).where(Screening.pseudonym == pseudonym))
            connection.execute(delete(Exam).where(Exam.pseudonym == pseudonym))
            connection.execute(delete(EXAM_STATES).where(EXAM_STATES.c.pseudonym == pseudonym))
            connection.execute(delete(UserPref).where(UserPref.pseudonym == pseudonym))
            return deleted.rowcount

    def purge(self, before: datetime) -> int:
        """Delete screenings and exams created before `before` (aware UTC); returns screenings
        deleted."""
        with self.engine.begin() as connection:
            deleted = connection.execute(delete(Screening).where(Screening.created_at < before))
            connection.execute(delete(Exam).where(Exam.created_at < before))
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

    def exam_week_counts(self) -> list[ExamWeekCount]:
        """Exams per ISO week (UTC) x status x tier x pattern, sorted."""
        counts: Counter[tuple[str, str, str, str]] = Counter()
        query = select(Exam.created_at, Exam.status, Exam.tier, Exam.pattern)
        with self.engine.connect() as connection:
            for created_at, status, tier, pattern in connection.execute(query).yield_per(1000):
                year, week, _ = created_at.isocalendar()
                counts[(f"{year}-W{week:02d}", status, tier or "", pattern or "")] += 1
        return [ExamWeekCount(*key, count) for key, count in sorted(counts.items())]

    def export_rows(self, exams: bool = False) -> Iterator[dict[str, Any]]:
        """Every screening (or exam), oldest first, without the pseudonym."""
        table, names = (EXAMS, EXAM_EXPORT_COLUMNS) if exams else (SCREENINGS, EXPORT_COLUMNS)
        query = select(*[table.c[name] for name in names])
        query = query.order_by(table.c.created_at, table.c.id)
        with self.engine.connect() as connection:
            for row in connection.execute(query).yield_per(1000):
                yield dict(row._mapping)


def _row(record: ScreeningRecord) -> dict[str, Any]:
    return {column.name: getattr(record, column.name) for column in SCREENINGS.columns}


def _exam_row(record: ExamRecord) -> dict[str, Any]:
    return {column.name: getattr(record, column.name) for column in EXAMS.columns}


def _state_row(state: ExamState) -> dict[str, Any]:
    values = {column.name: getattr(state, column.name) for column in EXAM_STATES.columns}
    return values | {"steps": state.steps_json()}


def _state_of(row: RowMapping) -> ExamState:
    values = dict(row)
    values["steps"] = ExamState.steps_from_json(values["steps"])
    return ExamState(**values)


def expired_record(
    state: ExamState, now: datetime | None = None, status: str = "expired"
) -> ExamRecord | None:
    """The row of an exam nobody finished (`status`: expired, or cancelled); None for an offer
    never taken up (no exam)."""
    if state.waiting == "offer":
        return None
    some_step = next(iter(state.steps.values()), None)
    return ExamRecord(
        id=state.exam_id,
        status=status,
        started_at=state.started_at,
        created_at=now or utc_now(),
        pseudonym=state.pseudonym,
        locale=some_step.record.locale if some_step else None,
    )
