"""Staff training: sessions, named attendees, head counts by unit, and staff in post per plan.

Revision ID: ece1b65ff8a4
Revises: 9d4f0b6c2e71
Create Date: 2026-12-06 00:55:49.091487

"""
from alembic import op
import sqlalchemy as sa
import app.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = 'ece1b65ff8a4'
down_revision = '9d4f0b6c2e71'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plan_staff_in_post',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('officers', sa.Integer(), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('officers >= 0', name=op.f('ck_plan_staff_in_post_officers')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_plan_staff_in_post_org_unit_id_org_units')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_staff_in_post_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('plan_id', 'org_unit_id', name=op.f('pk_plan_staff_in_post'))
    )
    op.create_table('training_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('topic', sa.String(length=300), nullable=False),
    sa.Column('organizer', sa.String(length=200), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('import_key', sa.String(length=64), nullable=True),
    sa.CheckConstraint("format IN ('in_person', 'online', 'mixed', 'field_visit')", name=op.f('ck_training_sessions_format')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_training_sessions_created_by_id_users')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_training_sessions_org_unit_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_sessions')),
    sa.UniqueConstraint('import_key', name=op.f('uq_training_sessions_import_key'))
    )
    with op.batch_alter_table('training_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_sessions_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index('ix_training_sessions_unit_held_on', ['org_unit_id', 'held_on'], unique=False)

    op.create_table('training_attendees',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['training_sessions.id'], name=op.f('fk_training_attendees_session_id_training_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_training_attendees_user_id_users')),
    sa.PrimaryKeyConstraint('session_id', 'user_id', name=op.f('pk_training_attendees'))
    )
    with op.batch_alter_table('training_attendees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_attendees_user_id'), ['user_id'], unique=False)

    op.create_table('training_headcounts',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('officers', sa.Integer(), nullable=False),
    sa.Column('volunteers', sa.Integer(), nullable=False),
    sa.CheckConstraint('officers >= 0', name=op.f('ck_training_headcounts_officers')),
    sa.CheckConstraint('volunteers >= 0', name=op.f('ck_training_headcounts_volunteers')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_training_headcounts_org_unit_id_org_units')),
    sa.ForeignKeyConstraint(['session_id'], ['training_sessions.id'], name=op.f('fk_training_headcounts_session_id_training_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'org_unit_id', name=op.f('pk_training_headcounts'))
    )


def downgrade():
    op.drop_table('training_headcounts')
    with op.batch_alter_table('training_attendees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_attendees_user_id'))

    op.drop_table('training_attendees')
    with op.batch_alter_table('training_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_training_sessions_unit_held_on')
        batch_op.drop_index(batch_op.f('ix_training_sessions_created_by_id'))

    op.drop_table('training_sessions')
    op.drop_table('plan_staff_in_post')
