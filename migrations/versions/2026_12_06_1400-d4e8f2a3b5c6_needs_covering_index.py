"""Needs indexed by case, status, category and priority: the case list's filters ask, for each
case of the scope, whether it has an open need of a category (or an urgent open need); the
index answers without reading the need. It replaces the index on case_id alone, its first
column.

Revision ID: d4e8f2a3b5c6
Revises: c3d7e9f1a2b4
Create Date: 2026-12-06 14:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd4e8f2a3b5c6'
down_revision = 'c3d7e9f1a2b4'
branch_labels = None
depends_on = None

COLUMNS = ["case_id", "status", "category", "priority"]


def upgrade():
    op.create_index("ix_needs_case_id_status_category_priority", "needs", COLUMNS)
    op.drop_index("ix_needs_case_id", table_name="needs")


def downgrade():
    op.create_index("ix_needs_case_id", "needs", ["case_id"])
    op.drop_index("ix_needs_case_id_status_category_priority", table_name="needs")
