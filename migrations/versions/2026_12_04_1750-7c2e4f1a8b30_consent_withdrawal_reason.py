"""Consents keep the coded reason they were withdrawn for (issue #13.5).

Revision ID: 7c2e4f1a8b30
Revises: 5b1c0de4a9f2
Create Date: 2026-12-04 17:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c2e4f1a8b30'
down_revision = '5b1c0de4a9f2'
branch_labels = None
depends_on = None


def upgrade():
    # Added in place (no batch copy of a table that other rows refer to).
    op.add_column('consents', sa.Column('withdrawn_reason', sa.String(length=30), nullable=True))


def downgrade():
    op.drop_column('consents', 'withdrawn_reason')
