"""Referral notes split: a note for the partner beside the internal one.

Existing notes stay in `note_enc`, now the internal note: nothing written before the split
reaches a partner without a caseworker writing it again as the partner's note.

Revision ID: b7d1c3a9e412
Revises: 7c2e4f1a8b30
Create Date: 2026-12-04 18:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d1c3a9e412'
down_revision = '7c2e4f1a8b30'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('partner_note_enc', sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_column('partner_note_enc')
