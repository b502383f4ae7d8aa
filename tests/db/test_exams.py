"""FAST exams in the result log: the migration keeps old rows, an exam in progress is shared
state, ending it writes the exam row linked to its steps exactly once, /forget and purge erase
it, and `palsy-db stats --exams` / `export --exams` report it. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from db.engine import make_engine
from db.migrate import upgrade
from db.models import Exam, Screening
from db.pseudonym import Pseudonymizer
from db.records import EXAM_TTL, ExamRecord, ExamState, ExamStep
from db.store import EXAM_STATES
from tests.db.test_cli import env, run  # noqa: F401 (fixture)
from tests.support.db_backends import TEST_PEPPER, Backend, onset, record

PSEUDONYM: str = Pseudonymizer(TEST_PEPPER.encode()).of(777) or ""


def _state(**changes: object) -> ExamState:
    steps = {
        name: ExamStep(record(pseudonym=PSEUDONYM), {"status": "ok", "name": name})
        for name in ("rest", "smile")
    }
    base = ExamState(key=PSEUDONYM, pseudonym=PSEUDONYM, waiting="brows", steps=steps)
    return replace(base, **changes)  # type: ignore[arg-type]


def _exam(state: ExamState, **changes: object) -> ExamRecord:
    movement = {"left_lift_mm": 9.0, "right_lift_mm": 2.0}
    values = {"id": state.exam_id, "status": "ok", "started_at": state.started_at,
              "pseudonym": state.pseudonym, "tier": "emergency", "pattern": "lower_face",
              "weak_side": "right", "movement": movement}  # fmt: skip
    return ExamRecord(**(values | changes))  # type: ignore[arg-type]


def test_the_migration_keeps_single_photo_rows(db_backend: Backend) -> None:
    engine = make_engine(db_backend.url)
    try:
        upgrade(engine, "0001")
        old = record()
        later = {"exam_id", "grader_version", "confidence"}  # columns added after 0001
        with engine.begin() as connection:  # as 0001 wrote it
            row = {k: getattr(old, k) for k in old.to_json() if k not in later}
            connection.execute(insert(Screening).values(**row))
        upgrade(engine)
        with engine.connect() as connection:
            [(kept, exam_id)] = connection.execute(select(Screening.id, Screening.exam_id)).all()
        assert (kept, exam_id) == (old.id, None)
    finally:
        engine.dispose()


def test_an_exam_is_shared_state_and_ends_once_with_its_steps_linked(
    db_backend: Backend,
) -> None:
    log = db_backend.log()
    state = _state()
    # The resting step was first logged as a single photo (the offer); linked when it ends.
    log.submit(state.steps["rest"].record)
    assert log.flush()
    assert log.put_exam_state(state)
    other = db_backend.log()  # a second replica on the same database
    seen = other.exam_state(PSEUDONYM)
    assert seen is not None and seen.steps == state.steps and seen.waiting == "brows"
    # Moving on is compare-and-set: a replica that read a stale step cannot overwrite.
    assert other.put_exam_state(replace(seen, taken=3), expect="brows")
    assert not log.put_exam_state(replace(state, waiting="smile"), expect="smile")

    assert other.end_exam(seen, _exam(seen))
    assert not log.end_exam(state, _exam(state))  # already ended: nothing written twice
    assert log.exam_state(PSEUDONYM) is None
    with log.engine.connect() as connection:
        steps = connection.execute(select(Screening.id, Screening.exam_id)).all()
        exams = connection.execute(select(Exam.id, Exam.tier)).all()
    assert sorted(steps) == sorted((s.record.id, state.exam_id) for s in state.steps.values())
    assert exams == [(state.exam_id, "emergency")]
    log.record_onset(onset(state.exam_id, PSEUDONYM, sudden=True, to="emergency"))
    assert log.flush()
    with log.engine.connect() as connection:
        assert connection.scalar(select(Exam.sudden_onset)) is True


def test_forget_and_purge_erase_exams_states_and_steps(db_backend: Backend) -> None:
    log = db_backend.log()
    done, later = _state(), _state(key="f" * 64)
    assert log.put_exam_state(done) and log.end_exam(done, _exam(done))
    assert log.put_exam_state(later)
    stale = _state()  # an offer another replica writes only after the /forget below
    assert log.forget(PSEUDONYM) == 2  # the two step screenings
    with log.engine.connect() as connection:
        assert connection.execute(select(Exam.id)).all() == []
        assert connection.execute(select(EXAM_STATES.c.key)).all() == []
    # Made before the /forget: refused, nothing kept; a new one after it is welcome.
    assert not log.put_exam_state(stale)
    assert log.put_exam_state(_state()) and log.forget(PSEUDONYM) == 0
    old = _state(started_at=datetime.now(UTC) - timedelta(days=400), key="c" * 64, pseudonym=None)
    old = replace(old, steps={n: ExamStep(replace(s.record, pseudonym=None), s.measures)
                              for n, s in old.steps.items()})  # fmt: skip
    assert log.put_exam_state(old)
    assert log.end_exam(old, _exam(old, created_at=old.started_at))
    log.purge(timedelta(days=180))
    with log.engine.connect() as connection:
        assert connection.execute(select(Exam.id)).all() == []


def test_an_exam_left_unfinished_expires_and_a_stale_offer_is_dropped(db_backend: Backend) -> None:
    log = db_backend.log()
    past = datetime.now(UTC) - EXAM_TTL - timedelta(seconds=1)
    left = _state(updated_at=past)
    offer = _state(key="e" * 64, pseudonym=None, waiting="offer", updated_at=past)
    fresh = _state(key="d" * 64, pseudonym=None)
    for state in (left, offer, fresh):
        assert log.put_exam_state(state)
    assert left.expired(datetime.now(UTC)) and not fresh.expired(datetime.now(UTC))
    assert log.store.expire_exams(datetime.now(UTC)) == 1
    with log.engine.connect() as connection:
        assert connection.execute(select(Exam.id, Exam.status)).all() == [(left.exam_id, "expired")]
        assert connection.execute(select(EXAM_STATES.c.key)).all() == [("d" * 64,)]


def test_stats_and_export_of_exams(env: Backend) -> None:  # noqa: F811
    assert run("upgrade")[0] == 0
    log = env.log()
    state = _state()
    assert log.put_exam_state(state) and log.end_exam(state, _exam(state))
    code, out = run("stats", "--exams")
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and (row["status"], row["tier"], row["pattern"], row["count"]) == (
        "ok", "emergency", "lower_face", "1",
    )  # fmt: skip
    code, out = run("export", "--exams", "--format", "jsonl")
    [exported] = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and "pseudonym" not in exported
    assert exported["movement"]["right_lift_mm"] == 2.0
    code, out = run("export")  # the steps are screenings too, each naming its exam
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["exam_id"] for r in rows} == {state.exam_id} and len(rows) == 2


def test_an_exam_state_refuses_a_bad_key() -> None:
    with pytest.raises(ValueError):
        _state(key="short")
    with pytest.raises(ValueError):
        _state(waiting="dance")
