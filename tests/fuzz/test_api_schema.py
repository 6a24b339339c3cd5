"""schemathesis against the whole JSON API, with a token of each role (issue 16, point 2).

Every operation of /api/v1/openapi.json, a bounded number of generated requests each, on a
seeded demo province of its own: fails on any 5xx, any response whose status code, content
type or body the document does not declare. Run by .ci/run (`pytest tests/fuzz --fuzz`); left
out of the ordinary suite, which it would slow by minutes.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from app.cases.tokens import create_api_token
from app.extensions import db
from app.orgs.models import User
from app.permissions import Actor

pytestmark = [pytest.mark.real_db, pytest.mark.fuzz]

ROLES = ("caseworker", "partner", "volunteer", "supervisor", "admin", "auditor")
EXAMPLES = int(os.environ.get("CAUNOI_FUZZ_EXAMPLES", "50"))
CHECKS = (
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
)


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    from app.home.cli import _seeders
    from tests.live import own_app

    app = own_app(tmp_path_factory.mktemp("fuzz"))
    with app.app_context():
        for _name, mod in _seeders():
            mod.seed("demo passphrase for the api fuzzing")
            db.session.commit()
    return app


@pytest.fixture(scope="module")
def tokens(fuzz_app) -> dict[str, str]:
    with fuzz_app.app_context():
        out = {}
        for role in ROLES:
            user = db.session.query(User).filter_by(username=role).one()
            out[role] = create_api_token(Actor.from_user(user), "fuzz")[1]
        db.session.commit()
    return out


def test_api_answers_as_documented(fuzz_app, tokens):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case):
            # Each generated request is sent with each role's token, and with none.
            for role in (*ROLES, None):
                headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
                with fuzz_app.app_context():
                    case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 (collect them all)
            failures[operation.label] = "\n".join(
                str(e)[:1500] for e in getattr(exc, "exceptions", [exc])
            )
    assert operations >= 16
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
