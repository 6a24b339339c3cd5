"""HSDS kept losslessly: originals and baselines per directory object, address_type, locations
and phones without an organization, unclassified services, taxonomy term mappings.

Revision ID: 5a7d3c1e9b20
Revises: 5b1e0c7a9d42
Create Date: 2026-12-04 18:20:00

"""
from alembic import op
import sqlalchemy as sa
import app.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '5a7d3c1e9b20'
down_revision = '5b1e0c7a9d42'
branch_labels = None
depends_on = None

KEPT = ("partner_organizations", "partner_locations", "partner_services",
        "partner_service_at_locations")


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # Batch mode copies the tables that referrals point to; check the keys at commit.
        op.execute("PRAGMA defer_foreign_keys = ON")
    op.create_table(
        'taxonomy_mappings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('term_id', sa.String(length=64), nullable=False),
        sa.Column('taxonomy', sa.String(length=200), nullable=False),
        sa.Column('code', sa.String(length=200), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('category', sa.String(length=30), nullable=True),
        sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_taxonomy_mappings')),
        sa.UniqueConstraint('term_id', name=op.f('uq_taxonomy_mappings_term_id')),
    )
    for table in KEPT:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('hsds_original', sa.JSON(), nullable=True))
            batch_op.add_column(sa.Column('hsds_baseline', sa.JSON(), nullable=True))
    with op.batch_alter_table('partner_locations', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('address_type', sa.String(length=10), nullable=False,
                      server_default='physical')
        )
        batch_op.alter_column('organization_id', existing_type=sa.Uuid(), nullable=True)
    with op.batch_alter_table('partner_phones', schema=None) as batch_op:
        batch_op.alter_column('organization_id', existing_type=sa.Uuid(), nullable=True)
    with op.batch_alter_table('partner_services', schema=None) as batch_op:
        batch_op.alter_column('category', existing_type=sa.String(length=30), nullable=True)


def downgrade():
    with op.batch_alter_table('partner_services', schema=None) as batch_op:
        batch_op.alter_column('category', existing_type=sa.String(length=30), nullable=False)
    with op.batch_alter_table('partner_phones', schema=None) as batch_op:
        batch_op.alter_column('organization_id', existing_type=sa.Uuid(), nullable=False)
    with op.batch_alter_table('partner_locations', schema=None) as batch_op:
        batch_op.alter_column('organization_id', existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column('address_type')
    for table in KEPT:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('hsds_baseline')
            batch_op.drop_column('hsds_original')
    op.drop_table('taxonomy_mappings')
