"""FAST exams: exams, exam_states and screenings.exam_id; existing rows kept.

The exams table, screenings.exam_id linking a step to its exam (NULL: a single photo), and
exam_states (an exam in progress). Alembic logs the first line, so it stays one line.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exams",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("tier", sa.String(32), nullable=True),
        sa.Column("pattern", sa.String(32), nullable=True),
        sa.Column("weak_side", sa.String(32), nullable=True),
        sa.Column("movement", sa.JSON(), nullable=False),
        sa.Column("sudden_onset", sa.Boolean(), nullable=True),
        sa.Column("locale", sa.String(16), nullable=True),
        sa.Column("exam_version", sa.String(32), nullable=True),
        sa.CheckConstraint("status IN ('ok', 'expired', 'cancelled')", name="ck_exams_status"),
        sa.PrimaryKeyConstraint("id", name="pk_exams"),
    )
    op.create_index("ix_exams_created_at", "exams", ["created_at"])
    op.create_index("ix_exams_pseudonym", "exams", ["pseudonym"])
    op.create_table(
        "exam_states",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("exam_id", sa.String(36), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=True),
        sa.Column("waiting", sa.String(32), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_exam_states"),
    )
    op.create_index("ix_exam_states_updated_at", "exam_states", ["updated_at"])
    # Batch mode: SQLite cannot add a foreign key in place, so the table is copied (rows kept).
    with op.batch_alter_table("screenings") as batch:
        batch.add_column(sa.Column("exam_id", sa.String(36), nullable=True))
        batch.create_foreign_key(
            "fk_screenings_exam_id_exams", "exams", ["exam_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_screenings_exam_id", ["exam_id"])


def downgrade() -> None:
    with op.batch_alter_table("screenings") as batch:
        batch.drop_index("ix_screenings_exam_id")
        batch.drop_constraint("fk_screenings_exam_id_exams", type_="foreignkey")
        batch.drop_column("exam_id")
    op.drop_index("ix_exam_states_updated_at", table_name="exam_states")
    op.drop_table("exam_states")
    op.drop_index("ix_exams_pseudonym", table_name="exams")
    op.drop_index("ix_exams_created_at", table_name="exams")
    op.drop_table("exams")
