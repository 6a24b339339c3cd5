"""Import runs and their sealed staging rows (issue 16, point 1).

Revision ID: 3e8b5d2a7c14
Revises: ece1b65ff8a4
Create Date: 2026-12-06 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import app.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '3e8b5d2a7c14'
down_revision = 'ece1b65ff8a4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'import_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('via', sa.String(length=8), nullable=False),
        sa.Column('org_unit_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('actor_name', sa.String(length=64), nullable=True),
        sa.Column('rows_total', sa.Integer(), nullable=False),
        sa.Column('rows_validated', sa.Integer(), nullable=False),
        sa.Column('rows_published', sa.Integer(), nullable=False),
        sa.Column('rows_created', sa.Integer(), nullable=False),
        sa.Column('error_count', sa.Integer(), nullable=False),
        sa.Column('errors', sa.JSON(), nullable=True),
        sa.Column('data_key_id', sa.Integer(), nullable=True),
        sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['data_key_id'], ['data_keys.id'], name=op.f('fk_import_runs_data_key_id_data_keys')
        ),
        sa.ForeignKeyConstraint(
            ['org_unit_id'], ['org_units.id'], name=op.f('fk_import_runs_org_unit_id_org_units')
        ),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_import_runs_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_runs')),
    )
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_runs_org_unit_id'), ['org_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_runs_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_runs_user_id'), ['user_id'], unique=False)
    op.create_table(
        'import_staged_rows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('row_number', sa.Integer(), nullable=False),
        sa.Column('payload_enc', sa.LargeBinary(), nullable=False),
        sa.Column('published_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ['run_id'], ['import_runs.id'],
            name=op.f('fk_import_staged_rows_run_id_import_runs'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_staged_rows')),
        sa.UniqueConstraint('run_id', 'row_number', name=op.f('uq_import_staged_rows_run_id_row_number')),
    )


def downgrade():
    op.drop_table('import_staged_rows')
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_runs_user_id'))
        batch_op.drop_index(batch_op.f('ix_import_runs_status'))
        batch_op.drop_index(batch_op.f('ix_import_runs_org_unit_id'))
    op.drop_table('import_runs')
