"""Never block, never lose: database down then up, crash between spool and replay,
concurrent writers, a locked database, and records the database refuses."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from db.engine import make_engine
from db.migrate import upgrade
from db.spool import Spool, op_to_json
from db.store import Store, StoreUnavailable
from tests.support.db_backends import Backend, onset, record


def test_database_down_then_up_loses_nothing(db_backend: Backend) -> None:
    url, bring_up = db_backend.broken()
    log = db_backend.log(db_backend.settings(url))
    sent = [record() for _ in range(20)]
    for item in sent:
        log.submit(item)
    log.record_onset(onset(sent[0].id, None, sudden=True, to="emergency"))
    assert log.drain()  # durable: in the spool, since the database is down
    assert len(log.spool.read()) == 21
    assert not log.flush(timeout=0)

    bring_up()
    assert log.flush()
    assert not log.spool.has_ops()
    rows = {row["id"]: row for row in log.store.export_rows()}
    assert set(rows) == {item.id for item in sent}
    assert (rows[sent[0].id]["sudden_onset"], rows[sent[0].id]["tier"]) == (True, "emergency")


def test_crash_between_spool_and_replay_gives_exactly_once(db_backend: Backend) -> None:
    url, bring_up = db_backend.broken()
    down = db_backend.log(db_backend.settings(url))
    sent = [record() for _ in range(30)]
    for item in sent:
        down.submit(item)
    down.record_onset(onset(sent[-1].id, None, sudden=False, to="urgent"))
    down.close()  # the process ends with everything in the spool
    spooled = Spool(db_backend.settings(url).spool_path).read()
    assert len(spooled) == 31

    # A replay that wrote half of the spool, then crashed before emptying it.
    bring_up()
    engine = make_engine(url)
    upgrade(engine)
    Store(engine).apply(spooled[:15])
    engine.dispose()

    restarted = db_backend.log(db_backend.settings(url))
    assert restarted.flush()
    rows = list(restarted.store.export_rows())
    assert sorted(row["id"] for row in rows) == sorted(item.id for item in sent)
    last = next(row for row in rows if row["id"] == sent[-1].id)
    assert (last["sudden_onset"], last["tier"]) == (False, "urgent")
    assert not restarted.spool.has_ops()


def test_spool_written_by_hand_is_replayed_once_at_start(db_backend: Backend) -> None:
    sent = [record() for _ in range(5)]
    spool = Spool(db_backend.settings().spool_path)
    spool.append([*sent, onset(sent[0].id, None, sudden=True, to="emergency")])
    spool.append(sent[:2])  # the same records twice: replay inserts each once
    log = db_backend.log()
    assert log.flush()
    assert log.store.count() == 5


def test_concurrent_writers_all_land(db_backend: Backend) -> None:
    # Three logs, as three bot replicas on one database and data directory.
    logs = [db_backend.log() for _ in range(3)]
    per_thread, threads_per_log = 30, 4
    sent: list[str] = []
    sent_lock = threading.Lock()
    barrier = threading.Barrier(len(logs) * threads_per_log)

    def writer(index: int) -> None:
        batch = [record() for _ in range(per_thread)]
        barrier.wait()
        for item in batch:
            logs[index % len(logs)].submit(item)
        with sent_lock:
            sent.extend(item.id for item in batch)

    threads = [
        threading.Thread(target=writer, args=(i,)) for i in range(len(logs) * threads_per_log)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(log.flush(timeout=30) for log in logs)
    assert sorted(row["id"] for row in logs[0].store.export_rows()) == sorted(sent)
    assert sum(count.count for count in logs[0].store.week_counts()) == len(sent)


def test_submit_returns_while_the_database_is_locked(db_backend: Backend) -> None:
    log = db_backend.log()
    log.submit(record())
    assert log.flush()  # schema in place, one row written
    with _locked(db_backend):
        log.submit(record())
        # submit returned although the write cannot have happened yet.
        assert not log.drain(timeout=0)
    assert log.flush()
    assert log.store.count() == 2


def test_a_refused_record_is_kept_aside_and_holds_back_nothing(db_backend: Backend) -> None:
    log = db_backend.log()
    good, bad, other = record(), record(), record()
    object.__setattr__(bad, "status", "bogus")  # slip past the dataclass check
    for item in (good, bad, other):
        log.submit(item)
    assert log.flush()
    assert {row["id"] for row in log.store.export_rows()} == {good.id, other.id}
    kept = log.spool.rejected_path.read_text().splitlines()
    assert [json.loads(line)["record"]["id"] for line in kept] == [bad.id]


def test_torn_spool_line_stays_alone(sqlite_backend: Backend) -> None:
    spool = Spool(sqlite_backend.settings().spool_path)
    first, second = record(), record()
    torn = json.dumps(op_to_json(record()))[:40]
    spool.path.write_text(json.dumps(op_to_json(first)) + "\n" + torn)  # crash mid-append
    spool.append([second])
    assert [op.id for op in spool.read()] == [first.id, second.id]  # type: ignore[union-attr]
    assert json.loads(spool.rejected_path.read_text())["unreadable"] == torn


@contextmanager
def _locked(backend: Backend) -> Iterator[None]:
    """Hold a lock that stops any write to the screenings table."""
    if backend.name == "sqlite":
        connection = sqlite3.connect(str(backend.url.database), isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    engine = make_engine(backend.url)
    try:
        with engine.begin() as holder:
            holder.execute(text("LOCK TABLE screenings IN ACCESS EXCLUSIVE MODE"))
            yield
    finally:
        engine.dispose()


def test_blocking_calls_say_when_the_database_is_down(db_backend: Backend) -> None:
    url, _ = db_backend.broken()
    log = db_backend.log(db_backend.settings(url))
    pseudonym = "a" * 64
    with pytest.raises(StoreUnavailable):
        log.forget(pseudonym)
    with pytest.raises(StoreUnavailable):
        log.set_language(pseudonym, "hi")
    # The bot then uses the last choice it read, else Telegram's language.
    with pytest.raises(StoreUnavailable):
        log.get_language(pseudonym)


def test_submit_after_close_goes_to_the_spool(sqlite_backend: Backend) -> None:
    log = sqlite_backend.log()
    log.close()
    late = record()
    log.submit(late)
    assert [op.id for op in log.spool.read()] == [late.id]  # type: ignore[union-attr]
    restarted = sqlite_backend.log()
    assert restarted.flush()
    assert [row["id"] for row in restarted.store.export_rows()] == [late.id]
