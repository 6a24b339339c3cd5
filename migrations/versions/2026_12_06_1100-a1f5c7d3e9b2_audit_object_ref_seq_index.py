"""Audit events indexed by object and event number: a case's "who saw it" history is read
newest first, a page at a time (keyset on seq). It replaces the index on object_ref alone
(SQLite's already held the rowid, which is seq; PostgreSQL sorted every event of the case).

Revision ID: a1f5c7d3e9b2
Revises: 9e4f2a6b3c50
Create Date: 2026-12-06 11:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a1f5c7d3e9b2'
down_revision = '9e4f2a6b3c50'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_audit_events_object_ref_seq", "audit_events", ["object_ref", "seq"])
    op.drop_index("ix_audit_events_object_ref", table_name="audit_events")


def downgrade():
    op.create_index("ix_audit_events_object_ref", "audit_events", ["object_ref"])
    op.drop_index("ix_audit_events_object_ref_seq", table_name="audit_events")
