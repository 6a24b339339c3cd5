"""Audit trail in shards: one hash chain per province, keyed shard heads, no global head row.

Existing events stay exactly as they were written (format 1, their hashes unchanged) and become
the beginning of shard 0; the single head becomes shard 0's head, sealed with a MAC under the
audit key (so this needs the key set when events exist, as the app does). New events continue
in the shard of their province. On PostgreSQL, event numbers come from a sequence from now on.

Revision ID: 5a7d2c91e0b3
Revises: e97a2778673e
Create Date: 2026-12-04 17:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

from app.audit.chain import GENESIS_HASH, head_mac
from app.audit.guards import install_guards, install_table_guards

# revision identifiers, used by Alembic.
revision = '5a7d2c91e0b3'
down_revision = 'e97a2778673e'
branch_labels = None
depends_on = None

_DROP_OLD = {
    "postgresql": (
        "DROP TRIGGER IF EXISTS audit_events_no_update_delete ON audit_events",
        "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
        "DROP TRIGGER IF EXISTS audit_head_forward_only ON audit_head",
        "DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_head",
        "DROP FUNCTION IF EXISTS audit_head_refuse_change()",
    ),
    "sqlite": (
        "DROP TRIGGER IF EXISTS audit_events_no_update",
        "DROP TRIGGER IF EXISTS audit_events_no_delete",
        "DROP TRIGGER IF EXISTS audit_head_forward_only",
        "DROP TRIGGER IF EXISTS audit_head_no_delete",
    ),
}


def upgrade():
    bind = op.get_bind()
    dialect = bind.dialect.name
    for statement in _DROP_OLD[dialect]:
        bind.execute(sa.text(statement))

    op.create_table(
        'audit_shards',
        sa.Column('shard', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last_seq', sa.BigInteger(), nullable=False),
        sa.Column('last_hash', sa.String(length=64), nullable=False),
        sa.Column('mac', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('shard', name=op.f('pk_audit_shards')),
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shard', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('shard_seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column('format', sa.SmallInteger(), nullable=False, server_default='1')
        )
    bind.execute(sa.text("UPDATE audit_events SET shard_seq = seq"))
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('shard_seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('shard', existing_type=sa.Integer(), server_default=None)
        batch_op.alter_column('format', existing_type=sa.SmallInteger(), server_default=None)
        batch_op.create_unique_constraint(
            batch_op.f('uq_audit_events_shard_shard_seq'), ['shard', 'shard_seq']
        )

    head = bind.execute(sa.text("SELECT last_seq, last_hash FROM audit_head WHERE id = 1")).first()
    last_seq, last_hash = (int(head[0]), head[1]) if head else (0, GENESIS_HASH)
    if last_seq:
        from app.crypto.keyring import keyring

        mac = head_mac(keyring().audit_key, 0, last_seq, last_hash)
        bind.execute(
            sa.text(
                "INSERT INTO audit_shards (shard, last_seq, last_hash, mac) "
                "VALUES (0, :seq, :hash, :mac)"
            ),
            {"seq": last_seq, "hash": last_hash, "mac": mac},
        )
    op.drop_table('audit_head')
    if dialect == "postgresql":
        bind.execute(sa.text(f"CREATE SEQUENCE audit_event_seq START WITH {last_seq + 1}"))
    install_guards(bind, dialect)


def downgrade():
    bind = op.get_bind()
    dialect = bind.dialect.name
    newer = bind.execute(sa.text("SELECT count(*) FROM audit_events WHERE format <> 1")).scalar()
    if newer:
        raise RuntimeError("events written in shards cannot go back into one chain")
    from app.audit.guards import drop_guards

    drop_guards(bind, dialect)
    head = bind.execute(sa.text("SELECT last_seq, last_hash FROM audit_shards")).first()
    op.create_table(
        'audit_head',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('last_hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head')),
    )
    bind.execute(
        sa.text("INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, :s, :h)"),
        {"s": head[0] if head else 0, "h": head[1] if head else GENESIS_HASH},
    )
    op.drop_table('audit_shards')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_events_shard_shard_seq'), type_='unique')
        batch_op.drop_column('format')
        batch_op.drop_column('shard_seq')
        batch_op.drop_column('shard')
    if dialect == "postgresql":
        bind.execute(sa.text("DROP SEQUENCE IF EXISTS audit_event_seq"))
    install_table_guards(bind, dialect, "audit_events")
