"""Search tokens bound to their row and column; per-word name search (issues #13.5, #16.4).

The whole-value blind indexes on `cases` (name, folded name, phone, ID number) are replaced by
`case_search_tokens` (app.crypto.blind_index): a truncated row-independent tag per word, phone
or ID number, and a proof bound to the case's row and column. The tokens are recomputed from the
decrypted fields with the key set, as the application writes them; erased cases (destroyed data
key) get none, and a case whose fields do not decrypt is logged by id and left without tokens.

Revision ID: 5b1c0de4a9f2
Revises: 5a7d2c91e0b3
Create Date: 2026-12-04 17:30:00.000000

"""
import hashlib
import hmac
import logging
from types import SimpleNamespace

from alembic import op
import sqlalchemy as sa
import app.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '5b1c0de4a9f2'
down_revision = '5a7d2c91e0b3'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
OLD_INDEXES = ("name_index", "name_folded_index", "phone_index", "id_number_index")
FIELDS = ("full_name", "other_names", "phone", "id_number")
BATCH = 1000


def _cases_with_fields(bind):
    """(case id, {field: plaintext}) of every case whose data key is alive, in id order."""
    from app.crypto.envelope import CryptoError, unseal

    cases = sa.table(
        "cases",
        sa.column("id"),
        sa.column("data_key_id"),
        sa.column("erased_at"),
        *(sa.column(f"{f}_enc") for f in FIELDS),
    )
    keys = sa.table(
        "data_keys",
        sa.column("id"),
        sa.column("wrapped_key"),
        sa.column("master_version"),
        sa.column("destroyed_at"),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(cases, keys.c.wrapped_key, keys.c.master_version, keys.c.destroyed_at)
            .join(keys, keys.c.id == cases.c.data_key_id)
            .where(cases.c.id > last, cases.c.erased_at.is_(None))
            .where(keys.c.wrapped_key.is_not(None), keys.c.destroyed_at.is_(None))
            .order_by(cases.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            last = row.id
            key = SimpleNamespace(
                id=row.data_key_id,
                wrapped_key=bytes(row.wrapped_key),
                master_version=row.master_version,
                destroyed_at=None,
            )
            try:
                values = {
                    f: unseal(
                        key, getattr(row, f"{f}_enc"), table="cases", column=f"{f}_enc",
                        row_id=row.id,
                    )
                    for f in FIELDS
                }
            except CryptoError:
                log.warning("case id %s: fields do not decrypt, no search tokens written", row.id)
                continue
            yield row.id, values


def upgrade():
    op.create_table(
        'case_search_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('field', sa.String(length=20), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('tag', sa.Integer(), nullable=False),
        sa.Column('proof', sa.LargeBinary(length=16), nullable=False),
        sa.Column('proof_exact', sa.LargeBinary(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ['case_id'], ['cases.id'], name=op.f('fk_case_search_tokens_case_id_cases'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_search_tokens')),
    )
    with op.batch_alter_table('case_search_tokens', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_case_search_tokens_case_id'), ['case_id'], unique=False
        )
        batch_op.create_index('ix_case_search_tokens_lookup', ['kind', 'tag', 'case_id'], unique=False)

    # Not in batch mode: on SQLite a batch copies `cases` and drops the original, which with
    # foreign keys on would delete or refuse every row that refers to a case. SQLite (3.35+)
    # drops an unindexed column in place.
    for name in OLD_INDEXES:
        op.drop_index(op.f(f'ix_cases_{name}'), table_name='cases')
        op.drop_column('cases', name)

    bind = op.get_bind()
    has_cases = bind.execute(sa.text("SELECT 1 FROM cases LIMIT 1")).first() is not None
    if has_cases:
        from app.cases.search import token_rows
        from app.crypto.keyring import keyring

        index_key = keyring().index_key
        tokens = sa.table(
            "case_search_tokens",
            *(sa.column(c) for c in ("case_id", "field", "kind", "tag", "proof", "proof_exact")),
        )
        pending = []
        for case_id, values in _cases_with_fields(bind):
            for field, value in values.items():
                pending += token_rows(index_key, case_id, field, value)
            if len(pending) >= 5 * BATCH:
                bind.execute(tokens.insert(), pending)
                pending = []
        if pending:
            bind.execute(tokens.insert(), pending)



def _old_index(key: bytes, domain: str, value: str) -> str:
    return hmac.new(key, f"{domain}:{value}".encode(), hashlib.sha256).hexdigest()


def downgrade():
    for name in OLD_INDEXES:
        op.add_column('cases', sa.Column(name, sa.String(length=64), nullable=True))
        op.create_index(op.f(f'ix_cases_{name}'), 'cases', [name], unique=False)

    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM cases LIMIT 1")).first() is not None:
        from app.crypto import blind_index as bi
        from app.crypto.keyring import keyring

        key = keyring().index_key
        cases = sa.table("cases", sa.column("id"), *(sa.column(n) for n in OLD_INDEXES))
        for case_id, values in _cases_with_fields(bind):
            name, phone, idn = values["full_name"], values["phone"], values["id_number"]
            bind.execute(
                cases.update()
                .where(cases.c.id == case_id)
                .values(
                    name_index=_old_index(key, "name", bi.normalize(name)) if name else None,
                    name_folded_index=(
                        _old_index(key, "name_folded", bi.fold_diacritics(name)) if name else None
                    ),
                    phone_index=(
                        _old_index(key, "phone", bi.normalize_phone(phone))
                        if phone and bi.normalize_phone(phone) else None
                    ),
                    id_number_index=(
                        _old_index(key, "id_number", bi.normalize_id_number(idn))
                        if idn and bi.normalize_id_number(idn) else None
                    ),
                )
            )

    with op.batch_alter_table('case_search_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_case_search_tokens_lookup')
        batch_op.drop_index(batch_op.f('ix_case_search_tokens_case_id'))
    op.drop_table('case_search_tokens')
