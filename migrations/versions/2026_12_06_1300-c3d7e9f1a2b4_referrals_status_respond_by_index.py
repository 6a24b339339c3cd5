"""Referrals indexed by status and answer day: overdue requests (status 'requested', answer
due before today) are read from the index, not every request of the country read row by row.
It replaces the index on status alone, which is its first column.

Revision ID: c3d7e9f1a2b4
Revises: b2c6d8e4f0a3
Create Date: 2026-12-06 13:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c3d7e9f1a2b4'
down_revision = 'b2c6d8e4f0a3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_referrals_status_respond_by", "referrals", ["status", "respond_by"])
    op.drop_index("ix_referrals_status", table_name="referrals")


def downgrade():
    op.create_index("ix_referrals_status", "referrals", ["status"])
    op.drop_index("ix_referrals_status_respond_by", table_name="referrals")
