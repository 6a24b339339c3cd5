"""A worker killed between sending and marking loses nothing and duplicates nothing: the next
run re-sends only what was in flight, with the same idempotency key (real process, kill -9)."""

from __future__ import annotations

import collections
import signal
import subprocess
import time

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.notifications.kinds import Kind
from app.notifications.models import Delivery, DeliveryStatus
from app.notifications.outbox import notify
from app.orgs.models import OrgLevel, OrgUnit, User
from tests.conftest import reset_schema
from tests.jobs.redis_support import ROOT, flask_command, flask_jobs, process_env
from tests.live import own_app
from tests.notifications.conftest import give_settings
from tests.notifications.servers import gateway_server

N = 12


def _setup(app, gateway_url: str) -> None:
    with app.app_context():
        app.config["NOTIFY_SMS_URL"] = gateway_url
        unit = OrgUnit(code="37", name="Tỉnh", level=OrgLevel.PROVINCE, path="")
        db.session.add(unit)
        db.session.flush()
        unit.path = f"/{unit.id}/"
        user = User(username="partner", role="partner", org_unit_id=unit.id, password_hash="x")
        db.session.add(user)
        db.session.flush()
        give_settings(user, channels=("sms",), phone="0987654321")
        for i in range(N):
            notify([user], Kind.REFERRAL_NEW, link=f"/referrals/{i}", params={"ref": f"#{i}"})
        db.session.commit()
        db.session.remove()


@pytest.mark.real_db
def test_killed_mid_delivery_loses_nothing_and_duplicates_nothing(tmp_path):
    app = own_app(tmp_path, JOBS_BACKEND="memory")
    with gateway_server() as gateway:
        _setup(app, gateway.url + "/sms")
        gateway.mode = "hang_once"
        env = {
            "NOTIFY_SMS_URL": gateway.url + "/sms",
            "NOTIFY_TIMEOUT": "25",
            "NOTIFY_CLAIM_SECONDS": "1",
            "NOTIFY_BATCH": "5",
        }
        worker = subprocess.Popen(  # noqa: S603
            flask_command(app, "jobs", "run", "notifications-deliver"),
            cwd=ROOT,
            env=process_env(app, **env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert gateway.hung.wait(60), "the worker never reached the gateway"
            worker.send_signal(signal.SIGKILL)  # between sending and marking
            worker.wait(10)
        finally:
            if worker.poll() is None:
                worker.kill()
        assert len(gateway.requests) == 1
        time.sleep(1.2)  # the dead worker's claim expires
        again = flask_jobs(app, "run", "notifications-deliver", **env)
        assert again.returncode == 0, again.stderr[-2000:]

        with app.app_context():
            statuses = collections.Counter(db.session.scalars(sa.select(Delivery.status)))
            keys = set(db.session.scalars(sa.select(Delivery.idempotency_key)))
            db.session.remove()
        reset_schema(app)  # on PostgreSQL this is the suite's database: leave it empty
        with app.app_context():
            db.engine.dispose()
        assert statuses == {DeliveryStatus.SENT: N}  # nothing lost
        received = collections.Counter(gateway.keys())
        assert set(received) == keys  # every message reached the gateway ...
        assert sorted(received.values()) == [1] * (N - 1) + [2]  # ... the one in flight twice,
        # with the same key, so the gateway knows it for the same message.
