"""The reports' counts summed per province (report_province_*): a national report reads its 34
provinces' rows instead of 3,300 units' (app.reports.models.PROVINCE_COUNTS). Filled here from
the units' counts; from then on kept with them (app.reports.figures).

Revision ID: 8d3e1f5a2b49
Revises: 7c2d9e4b1a38
Create Date: 2026-12-06 08:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '8d3e1f5a2b49'
down_revision = '7c2d9e4b1a38'
branch_labels = None
depends_on = None

S, INT, B, T = sa.SmallInteger, sa.Integer, sa.Boolean, sa.String
# Per counts table: its key columns, then whether it carries the sum of record keys (ksum).
TABLES = {
    "case_counts": (
        [("year", S()), ("half", S()), ("category", T(30)), ("org_unit_id", INT()),
         ("first_month", S()), ("counted", B()), ("consent_ok", B()), ("served_30", B()),
         ("served_60", B()), ("served_90", B()), ("served_in_period", B())],
        True,
    ),
    "need_day_counts": (
        [("year", S()), ("half", S()), ("org_unit_id", INT()), ("days", INT()),
         ("served_in_period", B()), ("consent_ok", B())],
        False,
    ),
    "referral_counts": (
        [("year", S()), ("half", S()), ("org_unit_id", INT()), ("status", T(20)),
         ("reason_code", T(30))],
        True,
    ),
    "referral_answer_counts": (
        [("year", S()), ("half", S()), ("org_unit_id", INT()), ("answered", B()),
         ("answer_day", INT())],
        True,
    ),
}


def upgrade():
    for name, (keys, keyed) in TABLES.items():
        table = f"report_province_{name}"
        columns = [
            sa.Column(col, kind, nullable=False,
                      **({"autoincrement": False} if isinstance(kind, sa.Integer)
                         and not isinstance(kind, sa.SmallInteger) else {}))
            for col, kind in keys
        ]
        columns.append(sa.Column("n", sa.Integer(), nullable=False))
        if keyed:
            columns.append(sa.Column("ksum", sa.BigInteger(), server_default="0", nullable=False))
        op.create_table(
            table, *columns,
            sa.PrimaryKeyConstraint(*[col for col, _ in keys], name=op.f(f"pk_{table}")),
        )
        # Each unit's counts added to its province's: the province on its path (by level).
        others = [col for col, _ in keys if col != "org_unit_id"]
        chosen = ", ".join(
            "p.id" if col == "org_unit_id" else f"c.{col}" for col, _ in keys
        )
        sums = "SUM(c.n)" + (", SUM(c.ksum)" if keyed else "")
        # Names from TABLES above, no input.
        insert = (
            f"INSERT INTO {table} ({', '.join(col for col, _ in keys)}, n"  # noqa: S608
            f"{', ksum' if keyed else ''}) "
            f"SELECT {chosen}, {sums} FROM report_{name} c "
            "JOIN org_units u ON u.id = c.org_unit_id "
            "JOIN org_units p ON p.level = 'province' "
            "AND substr(u.path, 1, length(p.path)) = p.path "
            f"GROUP BY p.id, {', '.join('c.' + col for col in others)}"
        )
        op.execute(insert)


def downgrade():
    for name in TABLES:
        op.drop_table(f"report_province_{name}")
