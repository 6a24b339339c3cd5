from __future__ import annotations

import contextlib
import json

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.extensions import db
from app.orgs.models import OrgUnit, User
from app.permissions import Actor

NEW_PASSWORD = "a fresh temporary passphrase"


@pytest.fixture(autouse=True)
def _fresh_g(fresh_g_per_request):
    """Every test request gets an empty `g` (tests/conftest.py says why)."""


@pytest.fixture
def admin_actor(world) -> Actor:
    return Actor.from_user(world.users["admin"])


@pytest.fixture
def admin_client(world, login_as):
    return login_as(world.users["admin"])


def unit(code: str) -> OrgUnit | None:
    return db.session.execute(sa.select(OrgUnit).where(OrgUnit.code == code)).scalar_one_or_none()


def user(username: str) -> User | None:
    return db.session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def events(action: str) -> list[AuditEvent]:
    return list(
        db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        ).scalars()
    )


def details(event: AuditEvent) -> dict:
    return json.loads(event.details) if event.details else {}


@contextlib.contextmanager
def refusal(fragment: str):
    """Expect an OrgError whose user-facing message contains `fragment`."""
    from app.orgs.services import OrgError

    with pytest.raises(OrgError) as refused:
        yield refused
    assert fragment in refused.value.message, refused.value.message
