"""Search tokens carry their case's province, indexed with the tag: a caseworker's search
walks her province's tokens only (app.cases.search_province). Existing tokens take the
province of their case's unit, one province at a time.

Revision ID: e5f9a3b4c6d7
Revises: d4e8f2a3b5c6
Create Date: 2026-12-06 17:00:00

"""

from collections import defaultdict

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "e5f9a3b4c6d7"
down_revision = "d4e8f2a3b5c6"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("case_search_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("province_id", sa.Integer(), nullable=True))
    conn = op.get_bind()
    units = conn.execute(sa.text("SELECT id, path, level FROM org_units")).all()
    provinces = {uid for uid, _, level in units if level == "province"}
    by_province = defaultdict(list)
    for uid, path, _ in units:
        on_path = [int(p) for p in (path or "").strip("/").split("/") if p.isdigit()]
        found = [i for i in on_path if i in provinces]
        if found:
            by_province[found[0]].append(uid)
    tokens, cases = (
        sa.table("case_search_tokens", sa.column("case_id"), sa.column("province_id")),
        sa.table("cases", sa.column("id"), sa.column("org_unit_id")),
    )
    for province_id, unit_ids in sorted(by_province.items()):
        conn.execute(
            tokens.update()
            .where(
                tokens.c.case_id.in_(sa.select(cases.c.id).where(cases.c.org_unit_id.in_(unit_ids)))
            )
            .values(province_id=province_id)
        )
    op.create_index(
        "ix_case_search_tokens_province",
        "case_search_tokens",
        ["kind", "tag", "province_id", "case_id"],
    )
    if conn.dialect.name == "postgresql":
        # Statistics for the new column: without them the planner guesses a province holds a
        # handful of a tag's tokens. (Autovacuum clears the rows the update left behind.)
        op.execute("ANALYZE case_search_tokens")


def downgrade():
    op.drop_index("ix_case_search_tokens_province", table_name="case_search_tokens")
    with op.batch_alter_table("case_search_tokens", schema=None) as batch_op:
        batch_op.drop_column("province_id")
