"""TOTP seeds are sealed at rest under the master key: not in the database in clear, bound to
their user, re-sealed by `keys rotate`, and they keep `keys retire` from dropping their version."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.crypto import account_secrets
from app.crypto.envelope import DecryptionError
from app.crypto.keyring import keyring
from app.extensions import db
from app.orgs.models import OrgLevel, User
from tests.conftest import audit_actions
from tests.factories import OrgUnitFactory, UserFactory

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def users():
    unit = OrgUnitFactory(code="37", name="Tỉnh Ninh Bình", level=OrgLevel.PROVINCE)
    first = UserFactory(username="first", org_unit=unit)
    second = UserFactory(username="second", org_unit=unit)
    db.session.flush()
    return first, second


def _raw(user: User) -> bytes:
    return db.session.execute(
        sa.text("SELECT mfa_secret_enc FROM users WHERE id = :id"), {"id": user.id}
    ).scalar_one()


def test_the_seed_is_sealed_in_the_database_and_opens_for_its_user(users):
    first, _second = users
    first.mfa_secret = SECRET
    db.session.flush()
    raw = _raw(first)
    assert SECRET.encode() not in raw and SECRET[:8].encode() not in raw
    db.session.expire_all()
    assert db.session.get(User, first.id).mfa_secret == SECRET
    first.mfa_secret = None
    assert first.mfa_secret_enc is None


def test_a_seed_copied_to_another_user_does_not_open(users):
    first, second = users
    first.mfa_secret = SECRET
    second.mfa_secret_enc = first.mfa_secret_enc
    with pytest.raises(DecryptionError):
        _ = second.mfa_secret
    tampered = bytearray(first.mfa_secret_enc)
    tampered[-1] ^= 1
    first.mfa_secret_enc = bytes(tampered)
    with pytest.raises(DecryptionError):
        _ = first.mfa_secret


def test_a_seed_needs_a_saved_user():
    with pytest.raises(ValueError, match="flush"):
        User(username="new").mfa_secret = SECRET


def test_rotation_reseals_seeds_and_retire_waits_for_them(app, key_file, users):
    first, _second = users
    first.mfa_secret = SECRET
    db.session.commit()
    runner = app.test_cli_runner()
    from app.crypto import rotation
    from app.permissions import Actor

    rotation.prepare_rotation(Actor.system("cli"), app.config)  # version 2 added, nothing moved
    refused = runner.invoke(args=["keys", "retire", "1"])
    assert refused.exit_code != 0
    assert "1 account secret(s) still use master key version 1" in refused.output

    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "1 account secret(s) sealed again" in result.output
    db.session.expire_all()
    user = db.session.get(User, first.id)
    # (No data key was waiting, so this rotation added a version of its own.)
    assert account_secrets.version_of(user.mfa_secret_enc) == keyring().current_master_version > 1
    assert user.mfa_secret == SECRET
    assert "key.rotated" in audit_actions()
    assert runner.invoke(args=["keys", "retire", "1"]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(User, first.id).mfa_secret == SECRET
