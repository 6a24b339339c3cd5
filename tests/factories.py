"""factory_boy factories for the models every module's tests need."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from app.extensions import db
from app.orgs.models import OrgLevel, OrgUnit, User
from app.permissions import Role

PASSWORD = "correct horse battery staple"


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class OrgUnitFactory(BaseFactory):
    class Meta:
        model = OrgUnit

    code = factory.Sequence(lambda n: f"T{n:05d}")
    name = factory.Sequence(lambda n: f"Xã Thử Nghiệm {n}")
    level = OrgLevel.PROVINCE
    parent = None
    path = ""

    @factory.post_generation
    def set_path(obj, create, extracted, **kwargs):
        db.session.flush()
        obj.path = (obj.parent.path if obj.parent else "/") + f"{obj.id}/"
        db.session.flush()


class UserFactory(BaseFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"User {n}")
    role = Role.CASEWORKER
    org_unit = factory.SubFactory(OrgUnitFactory)
    password_hash = factory.LazyFunction(lambda: _hash(PASSWORD))


def _hash(password: str) -> str:
    from app.auth.passwords import hash_password

    return hash_password(password)
