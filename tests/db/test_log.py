"""ResultLog operations on SQLite and PostgreSQL: write, onset, forget, purge, reports."""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from db.models import Screening
from db.pseudonym import Pseudonymizer
from db.records import ScreeningRecord
from db.reports import write_export, write_stats_csv
from tests.support.db_backends import TEST_PEPPER, Backend, onset, record

PSEUDONYMS = Pseudonymizer(TEST_PEPPER.encode())
ALICE, BOB = PSEUDONYMS.of(1001), PSEUDONYMS.of(1002)


def test_screening_and_later_onset_answer_are_written(db_backend: Backend) -> None:
    log = db_backend.log()
    sent = record(pseudonym=ALICE, tier="soon", input_kind="document")
    log.submit(sent)
    log.record_onset(onset(sent.id, ALICE, sudden=True, to="emergency"))
    assert log.flush()
    [row] = list(log.store.export_rows())
    assert row["id"] == sent.id
    assert row["created_at"] == sent.created_at
    assert row["created_at"].tzinfo is not None
    assert (row["sudden_onset"], row["tier"]) == (True, "emergency")
    assert row["probabilities"] == sent.probabilities
    assert row["asymmetry"] == sent.asymmetry
    assert row["timings_ms"] == sent.timings_ms
    assert row["input_kind"] == "document"
    # Which grader decided, and how sure the answer told was (calibrated).
    assert (row["grader_version"], row["confidence"]) == ("test-grader-1", 0.8)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_a_confidence_that_is_no_probability_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="confidence"):
        record(confidence=bad)


def test_forget_erases_one_user_and_their_preferences(db_backend: Backend) -> None:
    log = db_backend.log()
    for pseudonym, count in ((ALICE, 3), (BOB, 2)):
        for _ in range(count):
            log.submit(record(pseudonym=pseudonym))
        log.set_language(pseudonym, "hi")
    assert log.flush()
    assert log.forget(ALICE) == 3
    assert log.store.count() == 2
    assert log.get_language(ALICE) is None
    assert log.get_language(BOB) == "hi"
    assert log.forget(ALICE) == 0


def test_forget_also_erases_records_still_queued(db_backend: Backend) -> None:
    log = db_backend.log()
    for _ in range(5):
        log.submit(record(pseudonym=ALICE))
    assert log.forget(ALICE) == 5
    assert log.flush()
    assert log.store.count() == 0


def test_language_preference_is_overwritten(db_backend: Backend) -> None:
    log = db_backend.log()
    assert log.get_language(ALICE) is None
    log.set_language(ALICE, "en")
    log.set_language(ALICE, "hi")
    assert log.get_language(ALICE) == "hi"


def test_anonymous_mode_stores_no_user_link(db_backend: Backend) -> None:
    settings = db_backend.settings(anonymous=True)
    pseudonymizer = Pseudonymizer.from_settings(settings)
    log = db_backend.log(settings)
    log.submit(record(pseudonym=pseudonymizer.of(1001)))
    log.set_language(pseudonymizer.of(1001), "hi")
    assert log.flush()
    with log.engine.connect() as connection:
        assert connection.scalars(select(Screening.pseudonym)).all() == [None]
    assert log.forget(pseudonymizer.of(1001)) == 0
    assert log.store.count() == 1


def test_purge_keeps_what_is_within_retention(db_backend: Backend) -> None:
    log = db_backend.log(db_backend.settings(retention_days=30))
    now = datetime.now(UTC)
    for age_days in (400, 200, 100, 10, 0):
        log.submit(record(created_at=now - timedelta(days=age_days)))
    assert log.flush()
    assert log.purge(timedelta(days=180)) == 2
    assert log.purge() == 1  # the 30-day retention setting
    assert log.store.count() == 2


def test_stats_count_per_iso_week_tier_and_label(db_backend: Backend) -> None:
    rng = random.Random(7)
    log = db_backend.log()
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    sent = [
        record(
            created_at=start + timedelta(days=rng.randrange(60), hours=rng.randrange(24)),
            tier=rng.choice(["soon", "urgent", "no_signs"]),
            label=rng.choice(["mild_eye", "severe_mouth", "normal"]),
        )
        for _ in range(60)
    ] + [record(status="rejected", tier="retake", label=None, reject_reason="blurry")]
    for item in sent:
        log.submit(item)
    assert log.flush()
    out = io.StringIO()
    write_stats_csv(log.store.week_counts(), out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    got = {(row["week"], row["tier"], row["label"]): int(row["count"]) for row in rows}
    expected = Counter((_iso_week(item), item.tier, item.label or "") for item in sent)
    assert got == dict(expected)
    assert sum(got.values()) == len(sent)


def test_export_has_every_screening_and_no_pseudonym(db_backend: Backend) -> None:
    log = db_backend.log()
    sent = [record(pseudonym=ALICE), record(pseudonym=BOB, sudden_onset=False)]
    for item in sent:
        log.submit(item)
    assert log.flush()
    for fmt in ("csv", "jsonl"):
        out = io.StringIO()
        assert write_export(log.store.export_rows(), out, fmt) == 2
        text = out.getvalue()
        assert ALICE is not None and BOB is not None
        assert ALICE not in text and BOB not in text
        if fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(text)))
        else:
            rows = [json.loads(line) for line in text.splitlines()]
        assert all("pseudonym" not in row for row in rows)
        assert {row["id"] for row in rows} == {item.id for item in sent}


def _iso_week(item: ScreeningRecord) -> str:
    year, week, _ = item.created_at.isocalendar()
    return f"{year}-W{week:02d}"
