"""Which grader decided a screening, and how sure it was (the calibrated probability told).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("screenings") as table:
        table.add_column(sa.Column("grader_version", sa.String(128), nullable=True))
        table.add_column(sa.Column("confidence", sa.Float(), nullable=True))
    with op.batch_alter_table("exams") as table:
        table.add_column(sa.Column("confidence", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exams") as table:
        table.drop_column("confidence")
    with op.batch_alter_table("screenings") as table:
        table.drop_column("confidence")
        table.drop_column("grader_version")
