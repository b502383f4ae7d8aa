"""Shared state for replicas: pepper fingerprint, pending onsets, tombstones, rate limits, marks.

db_meta (the pepper's fingerprint), pending_onsets (answers that came before their row),
tombstones (/forget, for rows other replicas write later), rate_limits (one window per person
for every replica), once_marks (an album's question, the language offer), and an index for the
retention purge of user_prefs. Alembic logs the first line, so it stays one line.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "db_meta",
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_db_meta"),
    )
    op.create_table(
        "pending_onsets",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=True),
        sa.Column("sudden", sa.Boolean(), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pending_onsets"),
    )
    op.create_index("ix_pending_onsets_answered_at", "pending_onsets", ["answered_at"])
    op.create_table(
        "tombstones",
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("forgotten_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pseudonym", name="pk_tombstones"),
    )
    op.create_index("ix_tombstones_forgotten_at", "tombstones", ["forgotten_at"])
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_rate_limits"),
    )
    op.create_index("ix_rate_limits_updated_at", "rate_limits", ["updated_at"])
    op.create_table(
        "once_marks",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_once_marks"),
    )
    op.create_index("ix_once_marks_expires_at", "once_marks", ["expires_at"])
    op.create_index("ix_user_prefs_updated_at", "user_prefs", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_user_prefs_updated_at", table_name="user_prefs")
    op.drop_index("ix_once_marks_expires_at", table_name="once_marks")
    op.drop_table("once_marks")
    op.drop_index("ix_rate_limits_updated_at", table_name="rate_limits")
    op.drop_table("rate_limits")
    op.drop_index("ix_tombstones_forgotten_at", table_name="tombstones")
    op.drop_table("tombstones")
    op.drop_index("ix_pending_onsets_answered_at", table_name="pending_onsets")
    op.drop_table("pending_onsets")
    op.drop_table("db_meta")
