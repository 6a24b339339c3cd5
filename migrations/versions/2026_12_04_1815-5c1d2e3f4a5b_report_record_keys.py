"""Record keys and key sums for the cell-key method (app.reports.disclosure).

Existing cases get their random record key now; the key sums of the kept counts are computed
from the figures rows on the way, so published figures are protected from the first request.

Revision ID: 5c1d2e3f4a5b
Revises: 7fee322af079
Create Date: 2026-12-04 18:15:00.000000

"""
import hashlib
import math
import secrets
from collections import defaultdict
from datetime import date

from alembic import op
import sqlalchemy as sa
import app.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '5c1d2e3f4a5b'
down_revision = '7fee322af079'
branch_labels = None
depends_on = None

COUNT_TABLES = ('report_case_counts', 'report_referral_counts', 'report_referral_answer_counts')


def upgrade():
    op.create_table('report_record_keys',
    sa.Column('case_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('record_key', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_report_record_keys_case_id_cases')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_report_record_keys'))
    )
    for name in COUNT_TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column('ksum', sa.BigInteger(), server_default='0', nullable=False))
    with op.batch_alter_table('report_referral_figures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record_key', sa.BigInteger(), server_default='0', nullable=False))
    _fill(op.get_bind())


def _fill(bind) -> None:
    """Draw a key for every case, and sum them into the counts (frozen copy of the rules of
    app.reports.figures at this revision)."""
    keys_t = sa.table('report_record_keys', sa.column('case_id'), sa.column('record_key'))
    ids = list(bind.execute(sa.text('SELECT id FROM cases')).scalars())
    keys = {i: secrets.randbits(32) for i in ids}
    if keys:
        bind.execute(keys_t.insert(), [{'case_id': i, 'record_key': k} for i, k in keys.items()])
    case_sums = defaultdict(int)
    rows = bind.execute(sa.text(
        'SELECT case_id, year, half, category, org_unit_id, first_month, counted, consent_ok, '
        'best_days, best_served_on FROM report_case_figures'))
    for case_id, year, half, category, unit, month, counted, consent, days, served in rows:
        end = date(year, 6, 30) if half == 1 else date(year, 12, 31)
        if isinstance(served, str):
            served = date.fromisoformat(served)
        key = (year, half, category, unit, (month or 0) if category == '' else 0, bool(counted),
               bool(consent), *(days is not None and days <= n for n in (30, 60, 90)),
               served is not None and served <= end)
        case_sums[key] += keys[case_id]
    _write(bind, 'report_case_counts', ('year', 'half', 'category', 'org_unit_id', 'first_month',
           'counted', 'consent_ok', 'served_30', 'served_60', 'served_90', 'served_in_period'),
           case_sums)
    created, answers, own = defaultdict(int), defaultdict(int), []
    rows = bind.execute(sa.text(
        'SELECT referral_id, case_id, org_unit_id, status, reason_code, created_year, '
        'created_half, sent_year, sent_half, answer_days FROM report_referral_figures'))
    for rid, case_id, unit, status, reason, cy, ch, sy, sh, days in rows:
        digest = hashlib.blake2b(f'{keys[case_id]}:referral:{rid}'.encode(), digest_size=4)
        record_key = int.from_bytes(digest.digest(), 'big')
        own.append({'rid': rid, 'record_key': record_key})
        created[(cy, ch, unit, status, reason or '')] += record_key
        if sy is not None:
            answered = days is not None
            answers[(sy, sh, unit, answered, math.ceil(days) if answered else 0)] += record_key
    if own:
        bind.execute(sa.text('UPDATE report_referral_figures SET record_key = :record_key '
                             'WHERE referral_id = :rid'), own)
    _write(bind, 'report_referral_counts',
           ('year', 'half', 'org_unit_id', 'status', 'reason_code'), created)
    _write(bind, 'report_referral_answer_counts',
           ('year', 'half', 'org_unit_id', 'answered', 'answer_day'), answers)


def _write(bind, table: str, names: tuple, sums: dict) -> None:
    if not sums:
        return
    where = ' AND '.join(f'{n} = :{n}' for n in names)
    bind.execute(sa.text(f'UPDATE {table} SET ksum = :ksum WHERE {where}'),
                 [dict(zip(names, key), ksum=ksum) for key, ksum in sums.items()])


def downgrade():
    with op.batch_alter_table('report_referral_figures', schema=None) as batch_op:
        batch_op.drop_column('record_key')
    for name in COUNT_TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column('ksum')
    op.drop_table('report_record_keys')
