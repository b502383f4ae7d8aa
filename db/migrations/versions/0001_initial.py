"""First schema: screenings and user_prefs.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "screenings",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=True),
        sa.Column("model_name", sa.String(128), nullable=True),
        sa.Column("model_version", sa.String(128), nullable=True),
        sa.Column("model_sha256", sa.String(64), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("reject_reason", sa.String(32), nullable=True),
        sa.Column("label", sa.String(32), nullable=True),
        sa.Column("region", sa.String(32), nullable=True),
        sa.Column("severity", sa.String(32), nullable=True),
        sa.Column("tier", sa.String(32), nullable=False),
        sa.Column("probabilities", sa.JSON(), nullable=False),
        sa.Column("asymmetry", sa.JSON(), nullable=False),
        sa.Column("sudden_onset", sa.Boolean(), nullable=True),
        sa.Column("locale", sa.String(16), nullable=True),
        sa.Column("timings_ms", sa.JSON(), nullable=False),
        sa.Column("input_kind", sa.String(32), nullable=False),
        sa.CheckConstraint("status IN ('ok', 'rejected')", name="ck_screenings_status"),
        sa.CheckConstraint("input_kind IN ('photo', 'document')", name="ck_screenings_input_kind"),
        sa.PrimaryKeyConstraint("id", name="pk_screenings"),
    )
    op.create_index("ix_screenings_created_at", "screenings", ["created_at"])
    op.create_index("ix_screenings_pseudonym", "screenings", ["pseudonym"])
    op.create_table(
        "user_prefs",
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pseudonym", name="pk_user_prefs"),
    )


def downgrade() -> None:
    op.drop_table("user_prefs")
    op.drop_index("ix_screenings_pseudonym", table_name="screenings")
    op.drop_index("ix_screenings_created_at", table_name="screenings")
    op.drop_table("screenings")
