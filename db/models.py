"""SQLAlchemy models of the result log. Migrations in db/migrations must match these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from db.records import (
    ID_LEN,
    LOCALE_LEN,
    NAME_LEN,
    PSEUDONYM_LEN,
    SHA256_LEN,
    SHORT_LEN,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, also on SQLite (which stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Screening(Base):
    """One screening. No photo, no name, no username, no raw Telegram id: ever."""

    __tablename__ = "screenings"
    __table_args__ = (
        CheckConstraint("status IN ('ok', 'rejected')", name="status"),
        CheckConstraint("input_kind IN ('photo', 'document')", name="input_kind"),
        Index("ix_screenings_created_at", "created_at"),
        Index("ix_screenings_pseudonym", "pseudonym"),
    )

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Keyed HMAC of the Telegram id (db.pseudonym); NULL in anonymous mode.
    pseudonym: Mapped[str | None] = mapped_column(String(PSEUDONYM_LEN))
    model_name: Mapped[str | None] = mapped_column(String(NAME_LEN))
    model_version: Mapped[str | None] = mapped_column(String(NAME_LEN))
    model_sha256: Mapped[str | None] = mapped_column(String(SHA256_LEN))
    # The grader that decided (its version) and the calibrated probability told to the person.
    grader_version: Mapped[str | None] = mapped_column(String(NAME_LEN))
    confidence: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(SHORT_LEN))
    reject_reason: Mapped[str | None] = mapped_column(String(SHORT_LEN))
    label: Mapped[str | None] = mapped_column(String(SHORT_LEN))
    region: Mapped[str | None] = mapped_column(String(SHORT_LEN))
    severity: Mapped[str | None] = mapped_column(String(SHORT_LEN))
    tier: Mapped[str] = mapped_column(String(SHORT_LEN))
    probabilities: Mapped[dict[str, Any]] = mapped_column(JSON)
    asymmetry: Mapped[dict[str, Any]] = mapped_column(JSON)
    sudden_onset: Mapped[bool | None]
    locale: Mapped[str | None] = mapped_column(String(LOCALE_LEN))
    timings_ms: Mapped[dict[str, Any]] = mapped_column(JSON)
    input_kind: Mapped[str] = mapped_column(String(SHORT_LEN))
    # A step of this FAST exam; erasing the exam erases its steps.
    exam_id: Mapped[str | None] = mapped_column(
        String(ID_LEN), ForeignKey("exams.id", ondelete="CASCADE"), index=True
    )


class UserPref(Base):
    """Per-user preferences, keyed by pseudonym; /forget deletes them with the screenings, and
    the retention purge those not changed for PALSY_RETENTION_DAYS."""

    __tablename__ = "user_prefs"
    __table_args__ = (Index("ix_user_prefs_updated_at", "updated_at"),)

    pseudonym: Mapped[str] = mapped_column(String(PSEUDONYM_LEN), primary_key=True)
    language: Mapped[str] = mapped_column(String(LOCALE_LEN))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Exam(Base):
    """One FAST exam; its steps are the screenings that point to it. No photo, ever."""

    __tablename__ = "exams"
    __table_args__ = (
        CheckConstraint("status IN ('ok', 'expired', 'cancelled')", name="status"),
        Index("ix_exams_created_at", "created_at"),
        Index("ix_exams_pseudonym", "pseudonym"),
    )

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    pseudonym: Mapped[str | None] = mapped_column(String(PSEUDONYM_LEN))
    status: Mapped[str] = mapped_column(String(SHORT_LEN))
    tier: Mapped[str | None] = mapped_column(String(SHORT_LEN))
    pattern: Mapped[str | None] = mapped_column(String(SHORT_LEN))
    weak_side: Mapped[str | None] = mapped_column(String(SHORT_LEN))
    movement: Mapped[dict[str, Any]] = mapped_column(JSON)
    sudden_onset: Mapped[bool | None]
    locale: Mapped[str | None] = mapped_column(String(LOCALE_LEN))
    exam_version: Mapped[str | None] = mapped_column(String(SHORT_LEN))
    confidence: Mapped[float | None] = mapped_column(Float)


class ExamStateRow(Base):
    """An exam in progress (db.records.ExamState): finished steps' measures, never a photo.
    Deleted when the exam ends, expires (EXAM_TTL) or the person uses /forget."""

    __tablename__ = "exam_states"
    __table_args__ = (Index("ix_exam_states_updated_at", "updated_at"),)

    key: Mapped[str] = mapped_column(String(PSEUDONYM_LEN), primary_key=True)
    exam_id: Mapped[str] = mapped_column(String(ID_LEN))
    pseudonym: Mapped[str | None] = mapped_column(String(PSEUDONYM_LEN))
    waiting: Mapped[str] = mapped_column(String(SHORT_LEN))
    steps: Mapped[dict[str, Any]] = mapped_column(JSON)
    taken: Mapped[int] = mapped_column(Integer)  # photos taken (a count)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DbMeta(Base):
    """Facts about the database itself: the pepper's fingerprint (db.pseudonym.fingerprint),
    so that a bot or palsy-db with another pepper refuses to start instead of splitting rows."""

    __tablename__ = "db_meta"

    key: Mapped[str] = mapped_column(String(SHORT_LEN), primary_key=True)
    value: Mapped[str] = mapped_column(String(NAME_LEN))


class PendingOnset(Base):
    """An onset answer that arrived before its screening or exam row (another replica still
    held it): applied when the row is written, if the row is the same person's."""

    __tablename__ = "pending_onsets"
    __table_args__ = (Index("ix_pending_onsets_answered_at", "answered_at"),)

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)  # the row it is about
    pseudonym: Mapped[str | None] = mapped_column(String(PSEUDONYM_LEN))
    sudden: Mapped[bool] = mapped_column(Boolean)
    # The row's stored tier -> its tier after this answer (db.records.OnsetAnswer).
    tiers: Mapped[dict[str, Any]] = mapped_column(JSON)
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Tombstone(Base):
    """A /forget: rows of this pseudonym made before `forgotten_at` that any replica writes
    later are dropped. Kept for PALSY_RETENTION_DAYS (older rows are purged anyway)."""

    __tablename__ = "tombstones"
    __table_args__ = (Index("ix_tombstones_forgotten_at", "forgotten_at"),)

    pseudonym: Mapped[str] = mapped_column(String(PSEUDONYM_LEN), primary_key=True)
    forgotten_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RateLimitRow(Base):
    """One person's rate-limit window, shared by every replica: the times of the checks in
    the window (JSON). Updated by compare-and-set on `version`; idle rows are swept."""

    __tablename__ = "rate_limits"
    __table_args__ = (Index("ix_rate_limits_updated_at", "updated_at"),)

    key: Mapped[str] = mapped_column(String(PSEUDONYM_LEN), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OnceMark(Base):
    """Marks of something done once, shared by replicas (an album's onset question, the
    language offer), under a keyed hash; each ends at `expires_at` and is swept."""

    __tablename__ = "once_marks"
    __table_args__ = (Index("ix_once_marks_expires_at", "expires_at"),)

    key: Mapped[str] = mapped_column(String(PSEUDONYM_LEN), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
