"""`ResultLog`: the bot's handle on the result log. Never blocks, never loses.

`submit` and `record_onset` only enqueue. One worker thread writes in batches, retrying a
failed write; while the database stays unavailable, ops go to the fsync'd spool (db.spool)
and are replayed, in order and exactly once, when it is back. The other methods block: the
bot calls them through `asyncio.to_thread`; all are thread-safe.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from db.engine import engine_for
from db.migrate import upgrade
from db.pseudonym import create_pepper, fingerprint, load_pepper, mismatch
from db.records import ExamEnd, ExamRecord, ExamState, OnsetAnswer, ScreeningRecord, utc_now
from db.settings import ConfigError, DbSettings
from db.spool import Op, Spool
from db.store import Kept, Owned, Store, StoreUnavailable, describe_error, is_permanent

log = logging.getLogger(__name__)

RETRY_DELAYS_S: Final = (0.2, 1.0, 3.0)
REPLAY_INTERVAL_S: Final = 10.0
BATCH_SIZE: Final = 200


class _Signal:
    def __init__(self, name: str) -> None:
        self.name = name


_STOP: Final = _Signal("stop")
_WAKE: Final = _Signal("wake")  # flush(): try the database now, even while it is down

_Item = Op | _Signal
T = TypeVar("T")


class ResultLog:
    def __init__(
        self,
        settings: DbSettings,
        *,
        engine: Engine | None = None,
        migrate: bool = True,
        retry_delays_s: Sequence[float] = RETRY_DELAYS_S,
        replay_interval_s: float = REPLAY_INTERVAL_S,
    ) -> None:
        """Raises ConfigError for an unusable DATABASE_URL; touches no database yet."""
        self.settings = settings
        self.engine = engine if engine is not None else engine_for(settings)
        self.store = Store(self.engine)
        self.spool = Spool(settings.spool_path)
        self._migrate = migrate
        self._schema_ready = False
        self._retry_delays = tuple(retry_delays_s)
        self._replay_interval = replay_interval_s
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        # Serialises database writes, replay and erasure between the worker and callers.
        self._db_lock = threading.RLock()
        self._state = threading.Condition()
        self._pending = 0  # ops submitted but not yet durable (in the database or the spool)
        self._stopping = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        # The pepper's fingerprint this log writes under (None: not checked, e.g. anonymous),
        # and whether to record it in a database that has none yet.
        self._fingerprint: str | None = None
        self._record_fingerprint = False
        self._pepper_checked = False

    # --- lifecycle ---

    def start(self) -> None:
        """Start the writer thread; it applies migrations and replays the spool first."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="result-log", daemon=True)
        self._thread.start()
        self._queue.put(_WAKE)

    def close(self, timeout: float = 30.0) -> None:
        """Write or spool everything submitted so far, then stop the thread."""
        self._closed = True
        if self._thread is not None:
            self._queue.put(_STOP)
            self._stopping.set()
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("result log: writer still busy after %.0f s at close", timeout)
            self._thread = None
        self.engine.dispose()

    def __enter__(self) -> ResultLog:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- never-blocking writes ---

    def submit(self, record: ScreeningRecord) -> None:
        """Queue one screening for writing; returns at once."""
        self._enqueue(record)

    def record_onset(self, answer: OnsetAnswer) -> None:
        """Queue a person's onset answer about their screening or exam (applied to the row's
        stored tier, only if the row is theirs; kept pending until the row is written)."""
        self._enqueue(answer)

    def submit_exam_end(self, state: ExamState, exam: ExamRecord) -> None:
        """Queue a finished exam that `end_exam` could not write (database down): it is
        written, with its steps, like any queued row."""
        self._enqueue(ExamEnd.of(state, exam))

    def _enqueue(self, op: Op) -> None:
        if self._closed:
            # Late arrivals during shutdown: no writer any more, so straight to the spool.
            self.spool.append([op])
            return
        with self._state:
            self._pending += 1
        self._queue.put(op)

    # --- waiting (tests, shutdown) ---

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every op submitted so far is durable: in the database or the spool."""
        with self._state:
            return self._state.wait_for(lambda: self._pending == 0, timeout)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every op submitted so far is in the database (spool replayed).

        Returns False when that did not happen within `timeout` (database still down).
        """
        deadline = time.monotonic() + timeout
        self._queue.put(_WAKE)
        if not self.drain(timeout):
            return False
        while self.spool.has_ops():
            # The worker replays at its next attempt; ask for one now and wait for it.
            self._queue.put(_WAKE)
            with self._state:
                self._state.wait(max(0.0, min(0.5, deadline - time.monotonic())))
            if time.monotonic() >= deadline:
                return not self.spool.has_ops()
        return True

    # --- blocking calls (thread-safe; call through asyncio.to_thread) ---

    def forget(self, pseudonym: str | None, timeout: float = 10.0) -> int:
        """Erase all screenings and preferences of `pseudonym`; returns screenings erased.

        Anonymous mode (pseudonym None) stores no user link: nothing to erase, returns 0.
        Ops still queued or spooled here are written first; what other replicas still hold
        is dropped when they write it (the tombstone, see Store.forget).
        Raises StoreUnavailable when the database is down.
        """
        if pseudonym is None:
            return 0
        if not self.drain(timeout):
            raise StoreUnavailable("earlier records are still being written; try again later")
        with self._database():
            return self.store.forget(pseudonym)

    def purge(self, older_than: timedelta | None = None) -> int:
        """Delete screenings, exams, preferences, tombstones and refused spool lines older than
        `older_than` (default: the retention setting), and end exams left unfinished
        (db.records.EXAM_TTL)."""
        age = older_than if older_than is not None else timedelta(self.settings.retention_days)
        with self._database():
            self.store.expire_exams(utc_now())
            purged = self.store.purge(utc_now() - age)
        try:
            self.spool.purge_rejected(utc_now() - age)
        except OSError as exc:
            log.warning("result log: cannot purge %s: %s", self.spool.rejected_path, exc)
        return purged

    def sweep(self, idle: timedelta) -> None:
        """Drop rate-limit windows idle for `idle` and ended "once" marks; settle pending
        onset answers. Raises StoreUnavailable when the database is down."""
        with self._database():
            self.store.sweep(utc_now(), idle)

    # State shared by replicas (each raises StoreUnavailable when the database is down).

    def owner_of(self, record_id: str) -> Owned | None:
        """See Store.owner_of."""
        with self._database():
            return self.store.owner_of(record_id)

    def kept(self, record_id: str) -> Kept | None:
        """See Store.kept."""
        with self._database():
            return self.store.kept(record_id)

    def update_window(
        self, key: str, now: datetime, change: Callable[[dict[str, Any] | None], tuple[Any, T]]
    ) -> T:
        """See Store.update_window."""
        with self._database():
            return self.store.update_window(key, now, change)

    def first_time(self, key: str, keep: timedelta) -> bool:
        """See Store.first_time."""
        with self._database():
            return self.store.first_time(key, utc_now(), keep)

    # Exams in progress: read and written at once (not queued), so that any replica sees the
    # step a person is at. Each raises StoreUnavailable when the database is down.

    def exam_state(self, key: str) -> ExamState | None:
        with self._database():
            return self.store.exam_state(key)

    def put_exam_state(self, state: ExamState, expect: str | None = None) -> bool:
        """See Store.put_exam_state."""
        with self._database():
            return self.store.put_exam_state(state, expect)

    def end_exam(self, state: ExamState, exam: ExamRecord | None) -> bool:
        """See Store.end_exam."""
        with self._database():
            return self.store.end_exam(state, exam)

    def get_language(self, pseudonym: str | None) -> str | None:
        """The stored language, or None (never chosen, or anonymous). Raises StoreUnavailable
        when the database is down."""
        if pseudonym is None:
            return None
        # A plain read: no write lock, so a slow write never delays a reply's language.
        try:
            self._ensure_schema()
            return self.store.get_language(pseudonym)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(describe_error(exc)) from exc

    def set_language(self, pseudonym: str | None, language: str) -> None:
        """Store the language; no-op when anonymous. Raises StoreUnavailable when down."""
        if pseudonym is not None:
            with self._database():
                self.store.set_language(pseudonym, language)

    def replay(self) -> int:
        """Replay the spool now; returns ops replayed. Raises StoreUnavailable when down."""
        with self._database() as replayed:
            return replayed

    @contextmanager
    def _database(self) -> Iterator[int]:
        """Hold the write lock, migrate and replay the spool first (so erasure and reads see
        everything submitted); yields ops replayed. Database errors become StoreUnavailable."""
        with self._db_lock:
            try:
                yield self._prepare()
            except SQLAlchemyError as exc:
                if is_permanent(exc):
                    raise
                raise StoreUnavailable(describe_error(exc)) from exc

    def _prepare(self) -> int:
        """Apply migrations once, check the pepper once, replay the spool; returns ops
        replayed. Raises PepperMismatch (a StoreUnavailable) for a database of another pepper:
        nothing is written to it, the spool keeps it all."""
        self._ensure_schema()
        if self._fingerprint is not None and not self._pepper_checked:
            if self._record_fingerprint:
                stored: str | None = self.store.record_fingerprint(self._fingerprint)
            else:
                stored = self.store.pepper_fingerprint()
                if stored is None:
                    log.warning("the database holds no pepper fingerprint yet: not checked")
            if stored is not None and stored != self._fingerprint:
                raise mismatch(stored, self._fingerprint, self._where())
            self._pepper_checked = True
        return self.store.replay(self.spool) if self.spool.has_ops() else 0

    def _ensure_schema(self) -> None:
        if not self._schema_ready:
            if self._migrate:
                upgrade(self.engine)
            self._schema_ready = True

    def _where(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    # --- the pepper ---

    def expect_pepper(self, pepper_fingerprint: str, *, record: bool) -> None:
        """Write only to a database of this pepper: checked before the first write or read,
        and recorded there when it has none yet (`record`; palsy-db only checks)."""
        self._fingerprint, self._record_fingerprint = pepper_fingerprint, record
        self._pepper_checked = False

    def open_pepper(self) -> bytes | None:
        """The bot's pepper (None: anonymous, and none set). Creates one only when the
        database has never had one; a missing pepper for a database that had one raises
        PepperMismatch, and so does another pepper (at the first database access)."""
        pepper = load_pepper(self.settings)
        if self.settings.anonymous:
            return pepper  # only signs buttons: no pseudonym, nothing to check
        if pepper is None:
            try:
                with self._db_lock:
                    self._ensure_schema()
                    stored = self.store.pepper_fingerprint()
            except SQLAlchemyError as exc:
                raise ConfigError(
                    "PALSY_PEPPER",
                    "no pepper yet, and the database cannot be reached to check that it never "
                    f"had one ({describe_error(exc)}); start again once it is up",
                ) from None
            if stored is not None:
                raise mismatch(stored, None, self._where())
            pepper = create_pepper(self.settings)
        self.expect_pepper(fingerprint(pepper), record=True)
        return pepper

    # --- the writer thread ---

    def _run(self) -> None:
        down = False  # the last attempt failed: spool at once until the next attempt
        next_attempt = 0.0
        held: list[Op] = []  # ops neither written nor spooled (disk refused): kept in memory
        while True:
            timeout = max(0.0, next_attempt - time.monotonic()) if down or held else None
            items = self._take(timeout)
            ops = held + [item for item in items if not isinstance(item, _Signal)]
            stop = _STOP in items
            due = not down or stop or _WAKE in items or time.monotonic() >= next_attempt
            if due and self._write(ops, retry=not down and not stop):
                down, held = False, []
            else:
                if due:
                    down, next_attempt = True, time.monotonic() + self._replay_interval
                held = self._spool(ops)
            self._done(len(ops) - len(held))
            if stop:
                if held:
                    log.error(
                        "result log: %d op(s) lost at close: disk and database both refused them",
                        len(held),
                    )
                return

    def _take(self, timeout: float | None) -> list[_Item]:
        try:
            items: list[_Item] = [self._queue.get(timeout=timeout)]
        except queue.Empty:
            return []
        while len(items) < BATCH_SIZE:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return items

    def _write(self, ops: list[Op], *, retry: bool) -> bool:
        delays = self._retry_delays if retry else ()
        for attempt, delay in enumerate((*delays, None), start=1):
            try:
                with self._db_lock:
                    self._prepare()
                    refused = self.store.apply_isolating(ops) if ops else []
                if refused:
                    self.spool.reject(refused, "bad data")
                return True
            except (SQLAlchemyError, OSError) as exc:
                log.warning("result log: write attempt %d failed: %s", attempt, describe_error(exc))
            except StoreUnavailable as exc:  # another pepper's database: never written to
                log.error("result log: not written: %s", exc)
                return False
            except Exception:
                # A bug must not kill the writer: the ops go to the spool, kept for replay.
                log.exception("result log: unexpected error while writing")
                return False
            if delay is None or self._stopping.wait(delay):
                return False
        return False

    def _spool(self, ops: list[Op]) -> list[Op]:
        """Spool ops; returns those the disk refused (kept in memory, tried again later)."""
        try:
            self.spool.append(ops)
        except OSError as exc:
            log.error("result log: cannot write spool %s: %s", self.spool.path, exc)
            return ops
        if ops:
            log.warning("result log: %d op(s) spooled to %s", len(ops), self.spool.path)
        return []

    def _done(self, count: int) -> None:
        with self._state:
            self._pending -= count
            self._state.notify_all()
