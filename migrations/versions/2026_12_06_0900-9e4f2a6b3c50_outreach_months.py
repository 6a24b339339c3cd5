"""Outreach activities kept per unit and month (outreach_months, app.outreach.months): reports
sum units' months instead of every activity of the period. Filled here from the activities.

Revision ID: 9e4f2a6b3c50
Revises: 8d3e1f5a2b49
Create Date: 2026-12-06 09:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9e4f2a6b3c50'
down_revision = '8d3e1f5a2b49'
branch_labels = None
depends_on = None

REACHED = [
    "reached_business_workers",
    "reached_industrial_workers",
    "reached_students",
    "reached_wu_members",
    "reached_public",
    "reached_high_risk",
]


def upgrade():
    months = op.create_table(
        "outreach_months",
        sa.Column("org_unit_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("activities", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in REACHED),
        sa.PrimaryKeyConstraint("org_unit_id", "month", name=op.f("pk_outreach_months")),
    )
    a = sa.table(
        "outreach_activities",
        sa.column("org_unit_id"),
        sa.column("held_on", sa.Date()),
        sa.column("deleted_at"),
        *(sa.column(name) for name in REACHED),
    )
    month = sa.extract("year", a.c.held_on) * 12 + sa.extract("month", a.c.held_on) - 1
    op.execute(
        months.insert().from_select(
            ["org_unit_id", "month", "activities", *REACHED],
            sa.select(
                a.c.org_unit_id,
                sa.cast(month, sa.Integer),
                sa.func.count(),
                *(sa.func.coalesce(sa.func.sum(a.c[name]), 0) for name in REACHED),
            )
            .where(a.c.deleted_at.is_(None))
            .group_by(a.c.org_unit_id, month),
        )
    )


def downgrade():
    op.drop_table("outreach_months")
