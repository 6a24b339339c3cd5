"""Encrypted attachments of a case (issue #13.6).

Revision ID: 9d4f0b6c2e71
Revises: 8c2e4f6a1d37
Create Date: 2026-12-04 18:10:00.000000

"""
from alembic import op
import sqlalchemy as sa
import app.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '9d4f0b6c2e71'
down_revision = '8c2e4f6a1d37'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'case_attachments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('media_type', sa.String(length=40), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_at', app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('content_enc', sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ['case_id'], ['cases.id'], name=op.f('fk_case_attachments_case_id_cases')
        ),
        sa.ForeignKeyConstraint(
            ['uploaded_by_id'], ['users.id'], name=op.f('fk_case_attachments_uploaded_by_id_users')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_attachments')),
    )
    with op.batch_alter_table('case_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_attachments_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_attachments_case_id'))
    op.drop_table('case_attachments')
