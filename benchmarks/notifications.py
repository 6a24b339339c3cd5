"""Notifications: drain 10,000 queued deliveries, and the cost a notification adds to a
referral transition.

    .venv/bin/python benchmarks/notifications.py [COUNT] [--transitions N]

Builds a temporary SQLite file (or BENCH_DATABASE_URL, a scratch PostgreSQL database whose
tables are dropped before and after), then:

1. writes COUNT notifications (default 10,000) for 50 partner users, half of whom take e-mail
   and half SMS, so COUNT deliveries wait in the outbox, and times `deliver_due()` draining
   them: e-mail to a local aiosmtpd server (one SMTP connection per batch), SMS to a local
   HTTP gateway (one POST each). Prints messages per second.
2. sends and accepts N referrals (default 300) twice: with the outbox as it is, and with the
   notice step replaced by a no-op, and prints the added microseconds per transition (the
   partner organization has three staff, each told of a new referral by e-mail; the
   caseworker is told of the answer).

Prints the load average beside the figures: they are noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.notifications import delivery  # noqa: E402
from app.notifications.kinds import Kind  # noqa: E402
from app.notifications.models import Delivery, DeliveryStatus  # noqa: E402
from app.notifications.outbox import notify  # noqa: E402
from tests.conftest import make_config, reset_schema  # noqa: E402
from tests.notifications.conftest import give_settings  # noqa: E402
from tests.notifications.servers import gateway_server, smtp_server  # noqa: E402


def build_app(tmp: Path, smtp_port: int, gateway_url: str):
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    config = make_config(tmp, url)
    config.JOBS_BACKEND = "memory"
    config.NOTIFY_SMTP_HOST = "127.0.0.1"
    config.NOTIFY_SMTP_PORT = smtp_port
    config.NOTIFY_SMS_URL = gateway_url
    config.NOTIFY_BATCH = 500
    app = create_app(config)
    reset_schema(app)
    return app


def seed_users(app, partners: int):
    from app.orgs.models import OrgLevel
    from tests.factories import OrgUnitFactory, UserFactory
    from tests.referrals.factories import make_case, make_org, make_service

    with app.app_context():
        unit = OrgUnitFactory(code="37", name="Tỉnh", level=OrgLevel.PROVINCE)
        org = make_org("Cơ sở đo")
        service = make_service(org, "health", [unit], 3, name="Dịch vụ đo")
        users = []
        for i in range(partners):
            user = UserFactory(username=f"bench_partner_{i}", role="partner", org_unit=unit)
            user.partner_organization_id = org.id
            channels = ("email",) if i % 2 == 0 else ("sms",)  # half by e-mail, half by SMS
            give_settings(user, channels=channels, phone="0912345678")
            users.append(user.id)
        # The referrals of part 2 go to an organization of its own with three staff, as a
        # clinic or a legal-aid centre has: each send notifies three people.
        clinic = make_org("Phòng khám đo")
        service = make_service(clinic, "health", [unit], 3, name="Dịch vụ đo 2")
        for i in range(3):
            user = UserFactory(username=f"bench_clinic_{i}", role="partner", org_unit=unit)
            user.partner_organization_id = clinic.id
            give_settings(user, channels=("email",))
        cw = UserFactory(username="bench_cw", role="caseworker", org_unit=unit)
        give_settings(cw, channels=("email",))
        case = make_case(unit, user=cw)
        db.session.commit()
        return users, cw.id, case.id, service.id


def drain(app, users: list[int], count: int) -> None:
    with app.app_context():
        from app.orgs.models import User

        people = db.session.scalars(sa.select(User).where(User.id.in_(users))).all()
        for start in range(0, count, len(people)):
            for user in people[: min(len(people), count - start)]:
                notify([user], Kind.REFERRAL_NEW, link="/referrals/1", params={"ref": "#1"})
            if start % 2000 == 0:
                db.session.commit()
        db.session.commit()
        pending = db.session.scalar(sa.select(sa.func.count()).select_from(Delivery))
        print(f"queued: {count:,} notifications, {pending:,} deliveries (half e-mail, half SMS)")
        started, cpu = time.perf_counter(), time.process_time()
        sent = delivery.deliver_due()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        statuses = dict(
            db.session.execute(
                sa.select(Delivery.status, sa.func.count()).group_by(Delivery.status)
            ).all()
        )
        assert statuses.get(DeliveryStatus.SENT) == pending, statuses
        print(f"drained {sent:,} messages in {elapsed:.1f} s: {sent / elapsed:,.0f} messages/s")
        print(f"  CPU time of this process (worker and both test servers): {cpu:.1f} s")
        db.session.remove()


def transition_cost(app, cw_id: int, case_id: int, service_id: int, n: int) -> None:
    import app.referrals.notices as notices
    from app.cases.models import Case
    from app.orgs.models import User
    from app.permissions import Actor
    from app.referrals import services
    from app.referrals.models import PartnerService

    def run(label: str) -> float:
        with app.app_context():
            cw = Actor.from_user(db.session.get(User, cw_id))
            partner = Actor.from_user(
                db.session.scalar(sa.select(User).where(User.username == "bench_clinic_0"))
            )
            case = db.session.get(Case, case_id)
            service = db.session.get(PartnerService, service_id)
            drafts = []
            for _ in range(n):
                drafts.append(
                    services.create_referral(cw, case, case.needs[0], service, fields=["need"]).id
                )
            db.session.commit()
            started = time.perf_counter()
            for referral_id in drafts:
                referral = services.lock_referral(referral_id)
                services.send_referral(cw, referral)
                db.session.commit()
                services.transition(partner, services.lock_referral(referral_id), "accepted")
                db.session.commit()
            elapsed = time.perf_counter() - started
            db.session.remove()
        per = elapsed / (2 * n) * 1e6
        print(f"  {label}: {per:,.0f} µs per transition ({2 * n} transitions)")
        return per

    print("referral transitions (send, accept), each committed:")
    original = notices.on_transition
    inside: list[float] = []
    inside_cpu: list[float] = []

    def timed(*args, **kwargs):
        started, cpu = time.perf_counter(), time.thread_time()
        original(*args, **kwargs)
        inside.append(time.perf_counter() - started)
        inside_cpu.append(time.thread_time() - cpu)

    # The whole transition is dominated by its commit and the audit chain, and on a loaded
    # machine the difference of two runs is noise: the notice step is also timed by itself.
    notices.on_transition = timed
    try:
        with_outbox = run("with the outbox")
    finally:
        notices.on_transition = original
    notices.on_transition = lambda *a, **k: None
    try:
        without = run("notice step off")
    finally:
        notices.on_transition = original
    inside.sort()
    mean = sum(inside) / len(inside) * 1e6
    p50, p95 = inside[len(inside) // 2] * 1e6, inside[int(len(inside) * 0.95)] * 1e6
    print(f"  difference of the two runs: {with_outbox - without:,.0f} µs per transition")
    print(
        f"  inside the notice step (writing the notifications and their outbox rows): "
        f"mean {mean:,.0f} µs, p50 {p50:,.0f} µs, p95 {p95:,.0f} µs per transition"
    )
    print(f"  of which CPU time: mean {sum(inside_cpu) / len(inside_cpu) * 1e6:,.0f} µs")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", nargs="?", type=int, default=10_000)
    parser.add_argument("--transitions", type=int, default=300)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} (2 cores)")
    tmp = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    os.environ["CAUNOI_INSTANCE_PATH"] = str(tmp)
    try:
        with smtp_server() as sink, gateway_server() as gateway:
            app = build_app(tmp, sink.port, gateway.url + "/sms")
            users, cw_id, case_id, service_id = seed_users(app, 50)
            drain(app, users, args.count)
            received = (len(sink.messages), len(gateway.requests))
            print(f"  (SMTP server received {received[0]:,}, gateway {received[1]:,})")
            transition_cost(app, cw_id, case_id, service_id, args.transitions)
            with app.app_context():
                db.drop_all()
                db.engine.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
