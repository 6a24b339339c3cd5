"""Statutory report periods in the figures tables: the counted rules, and the days referrals
were created and sent on.

The figures rows of the statutory periods cannot be made here (they need the application's
counting rules, app.reports.figures): every rule that plans use starts *pending*, and the
official report says its figures are being recomputed until `flask reports rebuild-figures`
has run once. A database with no figures yet needs no rebuild: Decree 09's rule is counted
from its first write.

Revision ID: 3e8b6d0f2a51
Revises: 3e8b5d2a7c14
Create Date: 2026-12-06 01:00:00

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa
import app.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '3e8b6d0f2a51'
down_revision = '3e8b5d2a7c14'
branch_labels = None
depends_on = None

DECREE_09 = (12, 15, 6, 14, 12, 14)
COLUMNS = ('start_month', 'start_day', 'six_monthly_end_month', 'six_monthly_end_day',
           'annual_end_month', 'annual_end_day')


def upgrade():
    op.create_table(
        'report_period_rules',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        *(sa.Column(name, sa.SmallInteger(), nullable=False) for name in COLUMNS),
        sa.Column('is_counted', sa.Boolean(), nullable=False),
        sa.Column('counted_at', app.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_period_rules')),
        sa.UniqueConstraint(*COLUMNS, name='uq_report_period_rules_dates'),
    )
    with op.batch_alter_table('report_referral_figures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('sent_on', sa.Date(), nullable=True))
    _register_rules(op.get_bind())


def _register_rules(bind) -> None:
    has_figures = bind.execute(sa.text('SELECT 1 FROM report_case_figures LIMIT 1')).first()
    counted_at = None if has_figures else datetime.now(UTC)
    rules = [DECREE_09]
    plan_rules = f'SELECT DISTINCT {", ".join(COLUMNS)} FROM official_report_rules'
    for row in bind.execute(sa.text(plan_rules)):
        if tuple(row) not in rules:
            rules.append(tuple(row))
    table = sa.table('report_period_rules', sa.column('id'), *(sa.column(c) for c in COLUMNS),
                     sa.column('is_counted', sa.Boolean()),
                     sa.column('counted_at', app.db.UTCDateTime()))
    bind.execute(table.insert(), [
        {'id': n, **dict(zip(COLUMNS, rule)), 'is_counted': True,
         # Plans' own rules have no figures yet whatever the database holds.
         'counted_at': counted_at if n == 1 else None}
        for n, rule in enumerate(rules, start=1)
    ])


def downgrade():
    with op.batch_alter_table('report_referral_figures', schema=None) as batch_op:
        batch_op.drop_column('sent_on')
        batch_op.drop_column('created_on')
    op.drop_table('report_period_rules')
