"""State shared by replicas, through the database: onset answers trust only the stored row,
/forget reaches rows other replicas write later, finished exams survive an outage, and the
rate-limit window, "once" marks, exam starts and the pepper's fingerprint are compare-and-set.
Two ResultLogs on one database stand for two replicas. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from db.pseudonym import PepperMismatch, Pseudonymizer, fingerprint
from db.records import ExamRecord, ExamState, ExamStep, utc_now
from db.spool import REJECTED_AT
from db.store import EXAMS, PENDING_ONSETS, SCREENINGS, TOMBSTONES, USER_PREFS, describe_error
from tests.support.db_backends import TEST_PEPPER, Backend, onset, record

PEOPLE = Pseudonymizer(TEST_PEPPER.encode())
ALICE, MALLORY = PEOPLE.of(2001), PEOPLE.of(2002)


def _row(log: Any, record_id: str) -> dict[str, Any] | None:
    with log.engine.connect() as connection:
        row = connection.execute(select(SCREENINGS).where(SCREENINGS.c.id == record_id)).first()
    return None if row is None else dict(row._mapping)


# --- a check's details, read by any replica ---------------------------------------------------


def test_any_replica_reads_what_a_checks_details_show_until_it_is_erased(
    db_backend: Backend,
) -> None:
    writer, reader = db_backend.log(), db_backend.log()
    checked = record(pseudonym=ALICE, probabilities={"normal": 0.7, "mild_mouth": 0.3},
                     asymmetry={"mouth": -0.05, "brow": 0.01})  # fmt: skip
    assert reader.kept(checked.id) is None  # not written yet
    writer.submit(checked)
    assert writer.flush()
    kept = reader.kept(checked.id)
    assert kept is not None and kept.pseudonym == ALICE
    assert kept.probabilities == {"normal": 0.7, "mild_mouth": 0.3}
    assert kept.asymmetry == {"mouth": -0.05, "brow": 0.01}
    reader.forget(ALICE)
    assert writer.kept(checked.id) is None


# --- onset answers ----------------------------------------------------------------------------


def test_an_answer_about_another_persons_row_changes_nothing(db_backend: Backend) -> None:
    log = db_backend.log()
    healthy = record(pseudonym=ALICE, tier="no_signs", label="normal")
    log.submit(healthy)
    log.record_onset(onset(healthy.id, MALLORY, sudden=True, to="emergency"))
    assert log.flush()
    row = _row(log, healthy.id)
    assert row is not None and (row["tier"], row["sudden_onset"]) == ("no_signs", None)


def test_the_tier_comes_from_the_stored_row_not_from_the_answer(db_backend: Backend) -> None:
    log = db_backend.log()
    healthy = record(pseudonym=ALICE, tier="no_signs", label="normal")
    log.submit(healthy)
    # The map an answer carries only says what it makes of each finding's tier.
    log.record_onset(onset(healthy.id, ALICE, sudden=True, to="emergency"))
    assert log.flush()
    row = _row(log, healthy.id)
    assert row is not None and (row["tier"], row["sudden_onset"]) == ("no_signs", True)


@pytest.mark.parametrize("order", ["answer first", "row first"])
def test_an_answer_that_comes_before_its_row_waits_for_it(db_backend: Backend, order: str) -> None:
    photo_replica, button_replica = db_backend.log(), db_backend.log()
    finding = record(pseudonym=ALICE, tier="soon")
    answer = onset(finding.id, ALICE, sudden=True, to="emergency")
    if order == "answer first":
        button_replica.record_onset(answer)
        assert button_replica.flush()
        with button_replica.engine.connect() as connection:
            assert connection.execute(select(PENDING_ONSETS.c.id)).scalars().all() == [finding.id]
        photo_replica.submit(finding)
        assert photo_replica.flush()
    else:
        photo_replica.submit(finding)
        assert photo_replica.flush()
        button_replica.record_onset(answer)
        assert button_replica.flush()
    row = _row(photo_replica, finding.id)
    assert row is not None and (row["tier"], row["sudden_onset"]) == ("emergency", True)
    with photo_replica.engine.connect() as connection:
        assert connection.execute(select(PENDING_ONSETS.c.id)).all() == []


def test_a_waiting_answer_is_not_applied_to_another_persons_row(db_backend: Backend) -> None:
    log = db_backend.log()
    finding = record(pseudonym=ALICE, tier="soon")
    log.record_onset(onset(finding.id, MALLORY, sudden=True, to="emergency"))
    assert log.flush()
    log.submit(finding)
    assert log.flush()
    row = _row(log, finding.id)
    assert row is not None and (row["tier"], row["sudden_onset"]) == ("soon", None)


def test_a_waiting_answer_left_behind_is_settled_by_the_sweep(db_backend: Backend) -> None:
    log = db_backend.log()
    finding = record(pseudonym=ALICE, tier="urgent")
    log.record_onset(onset(finding.id, ALICE, sudden=False, to="urgent"))
    assert log.flush()
    # The row arrives by a path that does not settle (as if settling had failed after it).
    with log.engine.begin() as connection:
        connection.execute(SCREENINGS.insert(), [{c.name: getattr(finding, c.name)
                                                  for c in SCREENINGS.columns}])  # fmt: skip
    log.sweep(timedelta(minutes=1))
    row = _row(log, finding.id)
    assert row is not None and row["sudden_onset"] is False
    old = onset(record().id, ALICE, sudden=True, to="emergency")
    log.record_onset(replace(old, answered_at=utc_now() - timedelta(days=2)))  # never comes
    assert log.flush()
    log.sweep(timedelta(minutes=1))
    with log.engine.connect() as connection:
        assert connection.execute(select(PENDING_ONSETS.c.id)).all() == []


# --- /forget reaches what other replicas still hold -------------------------------------------


def test_forget_drops_rows_another_replica_writes_later(db_backend: Backend) -> None:
    other = db_backend.log()
    other.submit(record(pseudonym=ALICE))
    assert other.flush()
    cut_off, reconnect = db_backend.cut_off(db_backend.data_dir / "b")
    for _ in range(3):
        cut_off.submit(record(pseudonym=ALICE))
    assert cut_off.drain() and cut_off.spool.has_ops()  # spooled: the database is out of reach
    reconnect()
    assert other.forget(ALICE) == 1
    after = record(pseudonym=ALICE)  # a new photo, after the erasure: kept
    cut_off.submit(after)
    assert cut_off.flush(30)
    with other.engine.connect() as connection:
        ids = connection.execute(select(SCREENINGS.c.id)).scalars().all()
        answers = connection.execute(select(PENDING_ONSETS.c.id)).all()
    assert ids == [after.id] and answers == []


def test_forget_drops_a_waiting_answer_and_an_exam_written_later(db_backend: Backend) -> None:
    log = db_backend.log()
    answered = onset(record().id, ALICE, sudden=True, to="emergency")
    steps = {"rest": ExamStep(record(pseudonym=ALICE), {"name": "rest"})}
    state = ExamState(key=ALICE or "", pseudonym=ALICE, waiting="brows", steps=steps)
    exam = ExamRecord(id=state.exam_id, status="ok", started_at=state.started_at,
                      pseudonym=ALICE, tier="urgent")  # fmt: skip
    assert log.forget(ALICE) == 0
    log.record_onset(replace(answered, answered_at=utc_now() - timedelta(seconds=1)))
    log.submit_exam_end(state, exam)  # queued on a replica that was down at the erasure
    assert log.flush()
    with log.engine.connect() as connection:
        for table in (PENDING_ONSETS, EXAMS, SCREENINGS):
            assert connection.execute(select(table)).all() == [], table.name
        assert connection.execute(select(TOMBSTONES.c.pseudonym)).scalars().all() == [ALICE]


# --- exams ------------------------------------------------------------------------------------


def test_a_finished_exam_is_spooled_and_wins_over_an_expiry(db_backend: Backend) -> None:
    up = db_backend.log()
    steps = {name: ExamStep(record(pseudonym=ALICE), {"name": name}) for name in ("rest", "smile")}
    state = ExamState(key=ALICE or "", pseudonym=ALICE, waiting="brows", steps=steps,
                      updated_at=utc_now() - timedelta(hours=1))  # fmt: skip
    assert up.put_exam_state(state)
    down, reconnect = db_backend.cut_off(db_backend.data_dir / "b")
    done = ExamRecord(id=state.exam_id, status="ok", started_at=state.started_at,
                      pseudonym=ALICE, tier="emergency", pattern="lower_face")  # fmt: skip
    down.submit_exam_end(state, done)  # the finishing replica could not reach the database
    assert down.drain() and down.spool.has_ops()
    reconnect()
    assert up.store.expire_exams(utc_now()) == 1  # meanwhile another replica expires it
    assert down.flush(30)
    with up.engine.connect() as connection:
        exams = connection.execute(select(EXAMS.c.status, EXAMS.c.tier)).all()
        linked = connection.execute(select(SCREENINGS.c.exam_id)).scalars().all()
    assert exams == [("ok", "emergency")] and linked == [state.exam_id] * 2


def test_two_exam_starts_at_once_one_wins_without_an_error(db_backend: Backend) -> None:
    replicas = [db_backend.log(), db_backend.log()]
    barrier = threading.Barrier(2)
    won: list[bool] = []

    def start(log: Any) -> None:
        state = ExamState(key=ALICE or "", pseudonym=ALICE, waiting="rest")
        barrier.wait()
        won.append(log.put_exam_state(state))

    threads = [threading.Thread(target=start, args=(log,)) for log in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(won) == [False, True]


# --- compare-and-set of small shared state ----------------------------------------------------


def _allow_three(state: dict[str, Any] | None) -> tuple[dict[str, Any], bool]:
    count = (state or {}).get("count", 0)
    return {"count": count + 1}, count < 3


def test_a_window_changed_by_many_replicas_at_once_counts_every_change(
    db_backend: Backend,
) -> None:
    replicas = [db_backend.log() for _ in range(3)]
    per_thread, barrier = 4, threading.Barrier(6)
    answers: list[bool] = []

    def hit(log: Any) -> None:
        barrier.wait()
        for _ in range(per_thread):
            answers.append(log.update_window("k" * 64, utc_now(), _allow_three))

    threads = [threading.Thread(target=hit, args=(replicas[i % 3],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(answers) == [False] * 21 + [True] * 3


def test_a_mark_is_first_once_across_replicas_until_it_ends(db_backend: Backend) -> None:
    one, two = db_backend.log(), db_backend.log()
    assert one.first_time("m" * 64, timedelta(minutes=10))
    assert not two.first_time("m" * 64, timedelta(minutes=10))
    assert two.first_time("n" * 64, timedelta(0))  # ends at once
    assert one.first_time("n" * 64, timedelta(minutes=10))


# --- the pepper -------------------------------------------------------------------------------


def test_another_pepper_writes_nothing_and_keeps_everything_spooled(db_backend: Backend) -> None:
    first = db_backend.log()
    first.expect_pepper(fingerprint(TEST_PEPPER.encode()), record=True)
    first.submit(record(pseudonym=ALICE))
    assert first.flush()
    other = db_backend.log(db_backend.settings(data_dir=db_backend.data_dir / "b"))
    other.expect_pepper(fingerprint(b"another-pepper-0123456789"), record=True)
    other.submit(record())
    assert other.drain() and other.spool.has_ops()
    with pytest.raises(PepperMismatch, match="is not the one the database"):
        other.replay()
    assert first.store.count() == 1


def test_a_pepper_is_made_only_for_a_database_that_never_had_one(db_backend: Backend) -> None:
    fresh = replace(db_backend.settings(), pepper=None)
    log = db_backend.log(fresh, start=False)
    pepper = log.open_pepper()  # first start: made in the data directory
    assert pepper is not None and fresh.default_pepper_path.exists()
    assert log.replay() == 0  # records its fingerprint
    assert log.store.pepper_fingerprint() == fingerprint(pepper)
    elsewhere = replace(fresh, data_dir=db_backend.data_dir / "recreated-volume")
    with pytest.raises(PepperMismatch, match="no pepper here"):
        db_backend.log(elsewhere, start=False).open_pepper()
    assert not elsewhere.default_pepper_path.exists()


# --- retention and logs -----------------------------------------------------------------------


def test_purge_covers_preferences_tombstones_and_refused_lines(db_backend: Backend) -> None:
    log = db_backend.log()
    log.set_language(ALICE or "", "hi")
    log.forget(MALLORY or "")
    old = utc_now() - timedelta(days=400)
    with log.engine.begin() as connection:
        connection.execute(update(USER_PREFS).values(updated_at=old))
        connection.execute(update(TOMBSTONES).values(forgotten_at=old))
    log.spool.reject([record()], "test")
    lines = log.spool.rejected_path.read_text().splitlines()
    stale = {**json.loads(lines[0]), REJECTED_AT: old.isoformat()}
    log.spool.rejected_path.write_text(json.dumps(stale) + "\n" + lines[0] + "\n")
    log.purge(timedelta(days=180))
    with log.engine.connect() as connection:
        assert connection.execute(select(USER_PREFS)).all() == []
        assert connection.execute(select(TOMBSTONES)).all() == []
    assert log.spool.rejected_path.read_text().splitlines() == lines


def test_a_refused_row_says_why_without_its_values(db_backend: Backend) -> None:
    log = db_backend.log()
    bad = record(pseudonym=ALICE)
    object.__setattr__(bad, "status", "maybe")  # slip past the dataclass check
    with pytest.raises(Exception) as refused:
        log.store.apply([bad])
    assert ALICE not in str(refused.value) and ALICE not in describe_error(refused.value)
    assert "parameters hidden" in str(refused.value)
