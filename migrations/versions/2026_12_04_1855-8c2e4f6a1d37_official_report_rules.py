"""Official report: a plan's own statutory cut-off days (Decree 09/2019 by default).

Revision ID: 8c2e4f6a1d37
Revises: 5a7d3c1e9b20
Create Date: 2026-12-04 18:25:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8c2e4f6a1d37'
down_revision = '5a7d3c1e9b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'official_report_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('start_month', sa.Integer(), nullable=False),
        sa.Column('start_day', sa.Integer(), nullable=False),
        sa.Column('six_monthly_end_month', sa.Integer(), nullable=False),
        sa.Column('six_monthly_end_day', sa.Integer(), nullable=False),
        sa.Column('annual_end_month', sa.Integer(), nullable=False),
        sa.Column('annual_end_day', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['plan_id'], ['plans.id'],
                                name=op.f('fk_official_report_rules_plan_id_plans')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_official_report_rules')),
        sa.UniqueConstraint('plan_id', name=op.f('uq_official_report_rules_plan_id')),
    )


def downgrade():
    op.drop_table('official_report_rules')
