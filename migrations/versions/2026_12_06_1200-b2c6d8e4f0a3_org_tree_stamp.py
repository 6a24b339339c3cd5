"""The org tree's stamp: a row that triggers on org_units set anew on every change, so that
the reports may keep the tree between requests (app/orgs/tree_stamp.py).

Revision ID: b2c6d8e4f0a3
Revises: a1f5c7d3e9b2
Create Date: 2026-12-06 12:00:00

"""
import sqlalchemy as sa
from alembic import op

from app.orgs.tree_stamp import drop_triggers, install_stamp

# revision identifiers, used by Alembic.
revision = 'b2c6d8e4f0a3'
down_revision = 'a1f5c7d3e9b2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "org_tree_stamp",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_tree_stamp")),
    )
    install_stamp(op.get_bind())


def downgrade():
    drop_triggers(op.get_bind())
    op.drop_table("org_tree_stamp")
