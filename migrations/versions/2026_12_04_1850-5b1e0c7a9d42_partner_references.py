"""Partner references: a random reference per referral, and per (case, partner organization).

Partners stop seeing the case code (issue #11 point 5). Existing referrals get a reference each;
referrals that shared the case code now share the organization's own client reference instead
(shown only once she has consented to be recognised, `share_identity`).

Revision ID: 5b1e0c7a9d42
Revises: b7d41c2e9a10
Create Date: 2026-12-04 18:50:00

"""
from alembic import op
import sqlalchemy as sa
import app.db  # noqa: F401  (custom column types)
from app.referrals.references import CLIENT_PREFIX, REFERRAL_PREFIX, random_reference


# revision identifiers, used by Alembic.
revision = '5b1e0c7a9d42'
down_revision = 'b7d41c2e9a10'
branch_labels = None
depends_on = None


def _unique_references(prefix: str, count: int) -> list[str]:
    # The tables are new or just gained the column: uniqueness among these is enough.
    seen: set[str] = set()
    while len(seen) < count:
        seen.add(random_reference(prefix))
    return list(seen)


def upgrade():
    op.create_table('partner_client_references',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_partner_client_references_case_id_cases')),
    sa.ForeignKeyConstraint(['organization_id'], ['partner_organizations.id'], name=op.f('fk_partner_client_references_organization_id_partner_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_client_references')),
    sa.UniqueConstraint('case_id', 'organization_id', name=op.f('uq_partner_client_references_case_id_organization_id')),
    sa.UniqueConstraint('reference', name=op.f('uq_partner_client_references_reference'))
    )
    with op.batch_alter_table('partner_client_references', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_client_references_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partner_client_references_organization_id'), ['organization_id'], unique=False)

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('partner_reference', sa.String(length=20), nullable=True))

    bind = op.get_bind()
    referrals = sa.table(
        'referrals',
        sa.column('id'),
        sa.column('case_id'),
        sa.column('organization_id', sa.Uuid()),
        sa.column('shared_fields', sa.JSON()),
        sa.column('partner_reference'),
    )
    rows = bind.execute(
        sa.select(referrals.c.id, referrals.c.case_id, referrals.c.organization_id, referrals.c.shared_fields)
    ).all()
    references = _unique_references(REFERRAL_PREFIX, len(rows))
    if rows:
        bind.execute(
            referrals.update()
            .where(referrals.c.id == sa.bindparam('rid'))
            .values(partner_reference=sa.bindparam('ref')),
            [{'rid': row.id, 'ref': ref} for row, ref in zip(rows, references)],
        )
    # The case code is no longer a shareable field: what shared it now shares the client reference.
    pairs = []
    for row in rows:
        fields = list(row.shared_fields or [])
        if 'code' not in fields:
            continue
        fields = ['client_ref' if f == 'code' else f for f in fields]
        bind.execute(referrals.update().where(referrals.c.id == row.id).values(shared_fields=fields))
        if (row.case_id, row.organization_id) not in pairs:
            pairs.append((row.case_id, row.organization_id))
    if pairs:
        clients = sa.table(
            'partner_client_references',
            sa.column('case_id'),
            sa.column('organization_id', sa.Uuid()),
            sa.column('reference'),
            sa.column('created_at', app.db.UTCDateTime(timezone=True)),
        )
        now = app.db.utcnow()
        bind.execute(
            clients.insert(),
            [
                {'case_id': c, 'organization_id': o, 'reference': ref, 'created_at': now}
                for (c, o), ref in zip(pairs, _unique_references(CLIENT_PREFIX, len(pairs)))
            ],
        )

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.alter_column('partner_reference', existing_type=sa.String(length=20), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_referrals_partner_reference'), ['partner_reference'])


def downgrade():
    bind = op.get_bind()
    referrals = sa.table('referrals', sa.column('id'), sa.column('shared_fields', sa.JSON()))
    for rid, fields in bind.execute(sa.select(referrals.c.id, referrals.c.shared_fields)).all():
        if fields and 'client_ref' in fields:
            fields = ['code' if f == 'client_ref' else f for f in fields]
            bind.execute(referrals.update().where(referrals.c.id == rid).values(shared_fields=fields))
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_referrals_partner_reference'), type_='unique')
        batch_op.drop_column('partner_reference')
    with op.batch_alter_table('partner_client_references', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_client_references_organization_id'))
        batch_op.drop_index(batch_op.f('ix_partner_client_references_case_id'))
    op.drop_table('partner_client_references')
