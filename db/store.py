"""Synchronous operations on the result-log database. Thread-safe: each call has its own
connection. The bot goes through db.log.ResultLog; the palsy-db CLI uses this directly.

Every write can be repeated (spool replay is exactly-once) and is safe with several replicas:
rows are inserted if absent; an onset answer is applied only to a row of the same person, from
the row's stored tier, and waits in `pending_onsets` when its row is not there yet; /forget
leaves a tombstone, and a row of that person made before it is dropped whenever it is written
(on PostgreSQL, writes and /forget of one pseudonym also take an advisory lock, so neither can
slip between the other's check and commit); exam states, rate-limit windows and "once" marks
change by compare-and-set.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Table, delete, exists, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, RowMapping
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError, StatementError

from db.models import (
    DbMeta,
    Exam,
    ExamStateRow,
    OnceMark,
    PendingOnset,
    RateLimitRow,
    Screening,
    Tombstone,
    UserPref,
)
from db.records import (
    EXAM_TTL,
    LOCALE_LEN,
    ExamEnd,
    ExamRecord,
    ExamState,
    OnsetAnswer,
    ScreeningRecord,
    utc_now,
)
from db.spool import Op, Spool

log = logging.getLogger(__name__)

REPLAY_BATCH = 500
CAS_TRIES = 20  # compare-and-set rounds before a write is called contended (never in practice)
# Advisory locks of one pseudonym's writes against its erasure: (class, key) pairs, a key space
# apart from the migration's single-number lock.
_PERSON_LOCK_CLASS = 0x7041_4C59
FINGERPRINT_KEY = "pepper_fingerprint"
# A pending onset answer whose row has not come in this long never will (it was erased, or
# the answer was about nothing): dropped by the sweep.
PENDING_KEEP = timedelta(days=1)
T = TypeVar("T")


class StoreUnavailable(Exception):
    """The database cannot be reached now; what was asked was not done."""


def is_permanent(exc: BaseException) -> bool:
    """True for errors that retrying cannot fix: the data itself is refused."""
    if isinstance(exc, DataError | IntegrityError):
        return True
    # A StatementError that is not a DBAPIError failed while binding our values.
    return isinstance(exc, StatementError) and not isinstance(exc, DBAPIError)


def describe_error(exc: BaseException) -> str:
    """One line for logs and admins: the error type and its first line, no traceback (and no
    values: engines hide parameters, see db.engine)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


@dataclass(frozen=True)
class WeekCount:
    week: str  # ISO week, e.g. 2026-W48
    tier: str
    label: str  # "" for rejected photos
    count: int


@dataclass(frozen=True)
class Owned:
    """Who a screening or exam row belongs to, and its tier now."""

    pseudonym: str | None
    tier: str | None


@dataclass(frozen=True)
class Kept:
    """What the log keeps of a checked photo that its "Details" shows, and whose it is."""

    pseudonym: str | None
    probabilities: dict[str, float]
    asymmetry: dict[str, float]


SCREENINGS = cast(Table, Screening.__table__)
USER_PREFS = cast(Table, UserPref.__table__)
EXAMS = cast(Table, Exam.__table__)
EXAM_STATES = cast(Table, ExamStateRow.__table__)
DB_META = cast(Table, DbMeta.__table__)
PENDING_ONSETS = cast(Table, PendingOnset.__table__)
TOMBSTONES = cast(Table, Tombstone.__table__)
RATE_LIMITS = cast(Table, RateLimitRow.__table__)
ONCE_MARKS = cast(Table, OnceMark.__table__)
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
        """Write ops in one transaction (screenings inserted if absent, onset answers applied
        or kept pending, finished exams written), then settle pending answers whose row came."""
        with self.engine.begin() as connection:
            touched = self._apply(connection, ops)
        if touched:
            self._settle(touched)

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

    def _apply(self, connection: Connection, ops: Sequence[Op]) -> set[str]:
        """Returns the ids whose pending onset answers may now be settled."""
        touched: set[str] = set()
        # In order: an onset answer may follow its screening in the same batch.
        pending: list[ScreeningRecord] = []
        for op in ops:
            if isinstance(op, ScreeningRecord):
                pending.append(op)
                continue
            self._insert_screenings(connection, pending)
            touched.update(record.id for record in pending)
            pending = []
            if isinstance(op, ExamEnd):
                connection.execute(
                    delete(EXAM_STATES)
                    .where(EXAM_STATES.c.key == op.key)
                    .where(EXAM_STATES.c.exam_id == op.exam.id)
                )
                self._write_exam(connection, op.exam, op.steps)
                touched.add(op.exam.id)
            elif not self._apply_onset(connection, op):
                self._keep_pending(connection, op)
                touched.add(op.screening_id)
        self._insert_screenings(connection, pending)
        touched.update(record.id for record in pending)
        return touched

    def _insert_screenings(
        self, connection: Connection, records: Sequence[ScreeningRecord]
    ) -> None:
        if not records:
            return
        _lock_people(connection, [r.pseudonym for r in records])
        _insert_absent(connection, SCREENINGS, ["id"], [_row(record) for record in records])
        _drop_forgotten(connection, SCREENINGS, SCREENINGS.c.created_at, [r.id for r in records])

    def _write_exam(
        self, connection: Connection, exam: ExamRecord, steps: Sequence[ScreeningRecord]
    ) -> None:
        """The exam row (over one that ended without a result, e.g. expired meanwhile on another
        replica), then its steps, inserted if absent and linked to it."""
        _lock_people(connection, [exam.pseudonym])
        status = connection.scalar(select(EXAMS.c.status).where(EXAMS.c.id == exam.id))
        if status is None:
            connection.execute(insert(EXAMS), [_exam_row(exam)])
        elif status != "ok" and exam.status == "ok":
            connection.execute(update(EXAMS).where(EXAMS.c.id == exam.id).values(_exam_row(exam)))
        _drop_forgotten(connection, EXAMS, EXAMS.c.started_at, [exam.id])
        linked = [replace(step, exam_id=exam.id) for step in steps]
        self._insert_screenings(connection, linked)
        # A step logged earlier as a single photo (the offer) is linked now.
        if connection.scalar(select(EXAMS.c.id).where(EXAMS.c.id == exam.id)) is not None:
            connection.execute(
                update(SCREENINGS)
                .where(SCREENINGS.c.id.in_([step.id for step in linked]))
                .values(exam_id=exam.id)
            )

    # --- onset answers ---

    @staticmethod
    def _apply_onset(connection: Connection, answer: OnsetAnswer) -> bool:
        """Apply the answer to its row: True when done (or refused: another person's row);
        False when the row is not written yet."""
        # The answer is about a single photo or a whole exam: ids are UUIDs, unique across both.
        for table in (SCREENINGS, EXAMS):
            for _ in range(CAS_TRIES):
                row = connection.execute(
                    select(table.c.pseudonym, table.c.tier).where(table.c.id == answer.screening_id)
                ).first()
                if row is None:
                    break
                if row.pseudonym != answer.pseudonym:
                    log.warning("onset answer about another person's record: not applied")
                    return True
                tier = row.tier if row.tier is None else answer.tier_after(row.tier)
                # Compare-and-set on the tier read: two answers at once each escalate it.
                changed = connection.execute(
                    update(table)
                    .where(table.c.id == answer.screening_id)
                    .where(table.c.tier.is_(None) if row.tier is None else table.c.tier == row.tier)
                    .values(sudden_onset=answer.sudden, tier=tier)
                )
                if changed.rowcount == 1:
                    return True
            else:
                raise StoreUnavailable("onset answer: the record kept changing")
        return False

    @staticmethod
    def _keep_pending(connection: Connection, answer: OnsetAnswer) -> None:
        _lock_people(connection, [answer.pseudonym])
        values: dict[str, Any] = {
            "id": answer.screening_id,
            "pseudonym": answer.pseudonym,
            "sudden": answer.sudden,
            "tiers": answer.tiers,
            "answered_at": answer.answered_at,
        }
        _upsert(connection, PENDING_ONSETS, ["id"], values)
        made = PENDING_ONSETS.c.answered_at
        _drop_forgotten(connection, PENDING_ONSETS, made, [answer.screening_id])

    def _settle(self, ids: Iterable[str] | None = None) -> int:
        """Apply pending answers whose row is there now (`ids`, or all); returns how many.

        Its own transactions, after the writes they follow were committed: of two replicas,
        one writing the row and one the answer, at least one sees the other's commit here.
        Best effort: whatever is left is settled by the next write of it or the sweep."""
        settled = 0
        query = select(PENDING_ONSETS)
        if ids is not None:
            query = query.where(PENDING_ONSETS.c.id.in_(list(ids)))
        try:
            with self.engine.connect() as connection:
                waiting = [dict(row._mapping) for row in connection.execute(query)]
            for row in waiting:
                answer = OnsetAnswer(row["id"], row["pseudonym"], row["sudden"], row["tiers"],
                                     row["answered_at"])  # fmt: skip
                with self.engine.begin() as connection:
                    if self._apply_onset(connection, answer):
                        connection.execute(
                            delete(PENDING_ONSETS)
                            .where(PENDING_ONSETS.c.id == answer.screening_id)
                            .where(PENDING_ONSETS.c.answered_at == answer.answered_at)
                        )
                        settled += 1
        except (SQLAlchemyError, StoreUnavailable) as exc:
            log.warning("pending onset answers left for later: %s", describe_error(exc))
        return settled

    def owner_of(self, record_id: str) -> Owned | None:
        """Whose screening or exam `record_id` is, and its tier now; None: not written (yet)."""
        with self.engine.connect() as connection:
            for table in (SCREENINGS, EXAMS):
                row = connection.execute(
                    select(table.c.pseudonym, table.c.tier).where(table.c.id == record_id)
                ).first()
                if row is not None:
                    return Owned(row.pseudonym, row.tier)
        return None

    def kept(self, record_id: str) -> Kept | None:
        """A screening's calibrated probabilities and measures; None: not written (yet), or
        erased."""
        columns = (SCREENINGS.c.pseudonym, SCREENINGS.c.probabilities, SCREENINGS.c.asymmetry)
        with self.engine.connect() as connection:
            row = connection.execute(select(*columns).where(SCREENINGS.c.id == record_id)).first()
        if row is None:
            return None
        return Kept(row.pseudonym, dict(row.probabilities or {}), dict(row.asymmetry or {}))

    # --- exams in progress (blocking; each call one transaction) ---

    def exam_state(self, key: str) -> ExamState | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(EXAM_STATES).where(EXAM_STATES.c.key == key)).first()
        return None if row is None else _state_of(row._mapping)

    def put_exam_state(self, state: ExamState, expect: str | None = None) -> bool:
        """Store `state` by compare-and-set; False when another replica or message got there
        first. With `expect` (the step it was waiting for): only if the stored state is still
        that exam at that step. Without: a new exam or offer, only where no exam is in progress
        (an offer it replaces; an exam in progress must be ended first, see `end_exam`)."""
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
            connection.execute(
                delete(EXAM_STATES)
                .where(EXAM_STATES.c.key == state.key)
                .where(EXAM_STATES.c.waiting == "offer")
            )
            if not _insert_absent(connection, EXAM_STATES, ["key"], [values]):
                return False
            # Made before a /forget that another replica handled meanwhile: not kept.
            return not _drop_forgotten(
                connection, EXAM_STATES, EXAM_STATES.c.started_at, [state.key], id_column="key"
            )

    def end_exam(self, state: ExamState, exam: ExamRecord | None) -> bool:
        """Delete the state and, with `exam`, write the exam row and its steps (screenings
        linked by exam_id) in the same transaction. False: the exam was already ended (by
        another replica, or a second message), nothing written."""
        with self.engine.begin() as connection:
            _lock_people(connection, [state.pseudonym])
            gone = connection.execute(
                delete(EXAM_STATES)
                .where(EXAM_STATES.c.key == state.key)
                .where(EXAM_STATES.c.exam_id == state.exam_id)
            )
            if gone.rowcount != 1:
                return False
            if exam is not None:
                self._write_exam(connection, exam, ExamEnd.of(state, exam).steps)
        self._settle([state.exam_id])
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

    # --- erasure, retention and the sweep ---

    def forget(self, pseudonym: str, at: datetime | None = None) -> int:
        """Delete every screening, exam, pending answer and preference of one pseudonym, and
        leave a tombstone, so that rows of it made before now and written later by any replica
        are dropped; returns screenings deleted."""
        at = at or utc_now()
        with self.engine.begin() as connection:
            _lock_people(connection, [pseudonym], exclusive=True)
            deleted = connection.execute(delete(Screening).where(Screening.pseudonym == pseudonym))
            for table in (EXAMS, EXAM_STATES, USER_PREFS, PENDING_ONSETS):
                connection.execute(delete(table).where(table.c.pseudonym == pseudonym))
            values = {"pseudonym": pseudonym, "forgotten_at": at}
            _upsert(connection, TOMBSTONES, ["pseudonym"], values)
            return deleted.rowcount

    def purge(self, before: datetime) -> int:
        """Delete screenings and exams created before `before` (aware UTC), and preferences,
        tombstones and pending answers not touched since; returns screenings deleted."""
        with self.engine.begin() as connection:
            deleted = connection.execute(delete(Screening).where(Screening.created_at < before))
            connection.execute(delete(Exam).where(Exam.created_at < before))
            for column in (
                USER_PREFS.c.updated_at,
                TOMBSTONES.c.forgotten_at,
                PENDING_ONSETS.c.answered_at,
            ):
                connection.execute(delete(column.table).where(column < before))
            return deleted.rowcount

    def sweep(self, now: datetime, idle: timedelta) -> None:
        """Short-lived shared state: rate-limit windows idle for `idle`, ended "once" marks,
        pending answers older than PENDING_KEEP; settles pending answers whose row has come."""
        self._settle()
        with self.engine.begin() as connection:
            connection.execute(delete(RATE_LIMITS).where(RATE_LIMITS.c.updated_at < now - idle))
            connection.execute(delete(ONCE_MARKS).where(ONCE_MARKS.c.expires_at <= now))
            connection.execute(
                delete(PENDING_ONSETS).where(PENDING_ONSETS.c.answered_at < now - PENDING_KEEP)
            )

    # --- state shared by replicas ---

    def update_window(
        self, key: str, now: datetime, change: Callable[[dict[str, Any] | None], tuple[Any, T]]
    ) -> T:
        """Compare-and-set of one rate-limit window: `change(state or None)` returns the new
        state and the answer; run again if another replica changed it meanwhile."""
        for _ in range(CAS_TRIES):
            with self.engine.begin() as connection:
                # FOR UPDATE (PostgreSQL): concurrent changes of one window wait for each other
                # instead of retrying; the version check covers SQLite and the first insert.
                row = connection.execute(
                    select(RATE_LIMITS.c.state, RATE_LIMITS.c.version)
                    .where(RATE_LIMITS.c.key == key)
                    .with_for_update()
                ).first()
                state, answer = change(None if row is None else dict(row.state))
                values = {"state": state, "updated_at": now}
                if row is None:
                    done = _insert_absent(
                        connection, RATE_LIMITS, ["key"], [{"key": key, "version": 1, **values}]
                    )
                else:
                    done = (
                        connection.execute(
                            update(RATE_LIMITS)
                            .where(RATE_LIMITS.c.key == key)
                            .where(RATE_LIMITS.c.version == row.version)
                            .values(version=row.version + 1, **values)
                        ).rowcount
                        == 1
                    )
                if done:
                    return answer
        raise StoreUnavailable("rate limit: the window kept changing")

    def first_time(self, key: str, now: datetime, keep: timedelta) -> bool:
        """True for the first replica to ask about `key` until `keep` has passed."""
        values = {"key": key, "expires_at": now + keep}
        with self.engine.begin() as connection:
            if _insert_absent(connection, ONCE_MARKS, ["key"], [values]):
                return True
            renewed = connection.execute(
                update(ONCE_MARKS)
                .where(ONCE_MARKS.c.key == key)
                .where(ONCE_MARKS.c.expires_at <= now)
                .values(expires_at=values["expires_at"])
            )
            return renewed.rowcount == 1

    def pepper_fingerprint(self) -> str | None:
        with self.engine.connect() as connection:
            return connection.scalar(
                select(DB_META.c.value).where(DB_META.c.key == FINGERPRINT_KEY)
            )

    def record_fingerprint(self, fingerprint: str) -> str:
        """Store the pepper's fingerprint unless one is there; returns the one stored (of two
        replicas starting at once with different peppers, one wins and the other sees it)."""
        with self.engine.begin() as connection:
            values = {"key": FINGERPRINT_KEY, "value": fingerprint}
            _insert_absent(connection, DB_META, ["key"], [values])
            stored = connection.scalar(
                select(DB_META.c.value).where(DB_META.c.key == FINGERPRINT_KEY)
            )
        return str(stored)

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
            _upsert(connection, USER_PREFS, ["pseudonym"], values)

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


# --- statements that differ by dialect --------------------------------------------------------


def _insert_absent(
    connection: Connection, table: Table, keys: list[str], rows: list[dict[str, Any]]
) -> int:
    """Insert the rows whose key is not taken; returns how many were inserted."""
    if not rows:
        return 0
    name = connection.dialect.name
    if name in {"sqlite", "postgresql"}:
        dialect_insert = sqlite.insert if name == "sqlite" else postgresql.insert
        statement = dialect_insert(table).on_conflict_do_nothing(index_elements=keys)
        if len(rows) == 1:
            # RETURNING gives the inserted row only: SQLAlchemy reports no rowcount of an
            # INSERT on PostgreSQL (-1).
            returning = statement.returning(*[table.c[key] for key in keys])
            return len(connection.execute(returning, rows[0]).all())
        connection.execute(statement, rows)
        return len(rows)  # executemany: no reliable count; callers of many need none
    (key,) = keys
    present = set(
        connection.scalars(select(table.c[key]).where(table.c[key].in_([r[key] for r in rows])))
    )
    missing = [row for row in rows if row[key] not in present]
    if missing:
        connection.execute(insert(table), missing)
    return len(missing)


def _upsert(connection: Connection, table: Table, keys: list[str], values: dict[str, Any]) -> None:
    """Insert `values`, or overwrite the row with the same key."""
    name = connection.dialect.name
    changes = {k: v for k, v in values.items() if k not in keys}
    if name in {"sqlite", "postgresql"}:
        dialect_insert = sqlite.insert if name == "sqlite" else postgresql.insert
        statement = dialect_insert(table).values(values)
        connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=changes))
        return
    match = [table.c[k] == values[k] for k in keys]
    if connection.execute(update(table).where(*match).values(changes)).rowcount == 0:
        connection.execute(insert(table), [values])


def _lock_people(
    connection: Connection, pseudonyms: Iterable[str | None], *, exclusive: bool = False
) -> None:
    """PostgreSQL: hold each pseudonym's advisory lock until the transaction ends (shared for
    writes, exclusive for /forget), sorted so that writers never deadlock. SQLite has one
    writer at a time, which orders them already."""
    if connection.dialect.name != "postgresql":
        return
    lock = func.pg_advisory_xact_lock if exclusive else func.pg_advisory_xact_lock_shared
    keys = {_lock_key(p) for p in pseudonyms if p is not None}
    for key in sorted(keys):
        connection.execute(select(lock(_PERSON_LOCK_CLASS, key)))


def _lock_key(pseudonym: str) -> int:
    """A 31-bit key of any string (a pseudonym is hex, but erasure takes what it is given)."""
    return int.from_bytes(hashlib.sha256(pseudonym.encode()).digest()[:4], "big") >> 1


def _drop_forgotten(
    connection: Connection, table: Table, made: Any, ids: Sequence[str], id_column: str = "id"
) -> int:
    """Delete those of the rows just written (`ids`) that a tombstone covers: the person used
    /forget after the row was `made`. After the insert, so that on SQLite the check runs inside
    the write transaction. Returns rows dropped."""
    if not ids:
        return 0
    covered = exists().where(
        TOMBSTONES.c.pseudonym == table.c.pseudonym, TOMBSTONES.c.forgotten_at >= made
    )
    dropped = connection.execute(
        delete(table).where(table.c[id_column].in_(list(ids))).where(covered)
    )
    if dropped.rowcount:
        log.info("dropped %d %s row(s) made before a /forget", dropped.rowcount, table.name)
    return dropped.rowcount


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
