"""Seal the TOTP secrets of users under the master key (app.crypto.account_secrets).

Existing secrets are sealed on the way (this needs the key set, as the app does).

Revision ID: e97a2778673e
Revises: 344c410389b4
Create Date: 2026-11-22 22:40:42.610979

"""
from alembic import op
import sqlalchemy as sa
import app.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = 'e97a2778673e'
down_revision = '344c410389b4'
branch_labels = None
depends_on = None


def _move(source: str, target: str, convert) -> None:
    """Copy every user's secret from one column to the other, converted."""
    bind = op.get_bind()
    users = sa.table("users", sa.column("id"), sa.column(source), sa.column(target))
    rows = bind.execute(sa.select(users.c.id, users.c[source]).where(users.c[source].is_not(None)))
    for user_id, value in rows.all():
        bind.execute(
            users.update().where(users.c.id == user_id).values({target: convert(user_id, value)})
        )


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mfa_secret_enc', sa.LargeBinary(), nullable=True))

    from app.crypto import account_secrets

    _move(
        "mfa_secret",
        "mfa_secret_enc",
        lambda user_id, secret: account_secrets.seal("users", "mfa_secret", user_id, secret),
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('mfa_secret')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mfa_secret', sa.VARCHAR(length=64), nullable=True))

    from app.crypto import account_secrets

    _move(
        "mfa_secret_enc",
        "mfa_secret",
        lambda user_id, blob: account_secrets.unseal("users", "mfa_secret", user_id, blob),
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('mfa_secret_enc')
