"""`flask audit accessed / checkpoint / verify` on the test database."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from app.audit import services
from app.audit.checkpoints import Checkpoint
from app.crypto.keyring import keyring
from app.permissions import Actor
from tests.conftest import audit_actions

VN = timedelta(hours=7)


def _view_at(monkeypatch, actor, ref, local: str, outcome="success"):
    at = datetime.fromisoformat(local).replace(tzinfo=UTC) - VN
    monkeypatch.setattr(services, "utcnow", lambda: at)
    services.record(actor, "case.viewed", object_type="case", object_ref=ref, outcome=outcome)


@pytest.fixture
def views(db, world, monkeypatch):
    cw = Actor.from_user(world.users["caseworker"])
    cw_b = Actor.from_user(world.users["caseworker_b"])
    admin = Actor.from_user(world.users["admin"])
    _view_at(monkeypatch, admin, "NB-2026-00001", "2026-02-28T23:30:00")  # the day before
    _view_at(monkeypatch, cw, "NB-2026-00001", "2026-03-01T00:00:00")  # first instant
    _view_at(monkeypatch, cw, "NB-2026-00001", "2026-03-01T10:00:00")
    _view_at(monkeypatch, cw, "NB-2026-00002", "2026-03-02T23:59:59")  # last day, late
    _view_at(monkeypatch, cw_b, "NB-2026-00003", "2026-03-02T08:00:00")
    _view_at(monkeypatch, cw_b, "NB-2026-00004", "2026-03-02T09:00:00", outcome="denied")
    _view_at(monkeypatch, cw, "NB-2026-00005", "2026-03-03T00:10:00")  # the day after
    monkeypatch.undo()
    db.session.commit()


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["audit", *args])


def test_accessed_lists_cases_per_user_in_the_window(app, views):
    result = _run(app, "accessed", "--since", "2026-03-01", "--until", "2026-03-02")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "username,case_code,views,first_viewed_at,last_viewed_at",
        "caseworker,NB-2026-00001,2,2026-03-01T00:00:00+07:00,2026-03-01T10:00:00+07:00",
        "caseworker,NB-2026-00002,1,2026-03-02T23:59:59+07:00,2026-03-02T23:59:59+07:00",
        "caseworker_b,NB-2026-00003,1,2026-03-02T08:00:00+07:00,2026-03-02T08:00:00+07:00",
    ]


def test_accessed_for_one_user_is_audited(app, db, views):
    result = _run(
        app, "accessed", "--since", "2026-03-01", "--until", "2026-03-31", "--user", "CASEWORKER_B"
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["username"], r["case_code"]) for r in rows] == [("caseworker_b", "NB-2026-00003")]
    assert audit_actions()[-1] == "audit.exported"
    from tests.audit.test_routes import _last

    details = json.loads(_last(db, "audit.exported").details)
    assert details == {
        "filters": {"username": "caseworker_b", "since": "2026-03-01", "until": "2026-03-31"},
        "format": "csv",
        "report": "accessed",
        "rows": 1,
        "via": "cli",
    }


def test_accessed_refuses_a_backwards_window(app, views):
    result = _run(app, "accessed", "--since", "2026-03-02", "--until", "2026-03-01")
    assert result.exit_code == 2 and "--until" in result.output
    assert _run(app, "accessed", "--since", "01/03/2026", "--until", "2026-03-01").exit_code == 2


def test_checkpoint_prints_a_signed_head_and_records_it(app, db, views):
    result = _run(app, "checkpoint")
    assert result.exit_code == 0, result.output
    text = result.stdout.strip()
    assert "\n" not in text and "=" not in text
    checkpoint = Checkpoint.decode(text, keyring().audit_key)
    assert audit_actions()[-1] == "audit.checkpoint"
    assert checkpoint.position(0)[0] == 1  # the system's checkpoint event, in shard 0
    assert sum(n for _s, n, _h in checkpoint.heads) == len(audit_actions())
    tampered = Checkpoint(
        "2020-01-01T00:00:00.000000Z", checkpoint.heads, checkpoint.root, checkpoint.signature
    ).encode()
    with pytest.raises(ValueError, match="signature"):
        Checkpoint.decode(tampered, keyring().audit_key)
    with pytest.raises(ValueError, match="not a Cầu Nối audit checkpoint"):
        Checkpoint.decode("bm90IGpzb24", keyring().audit_key)
