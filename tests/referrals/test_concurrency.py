"""Two transitions of the same referral at once (real threads, real commits): one wins, the
other is refused, and the status, the history and the audit trail agree."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.extensions import db
from app.orgs.models import OrgLevel, OrgUnit, User
from app.permissions import Actor, PermissionDenied, Role
from app.referrals import services
from app.referrals.models import Referral, ReferralEvent
from tests.referrals.factories import make_case, make_org, make_service

pytestmark = pytest.mark.real_db

ROUNDS = 4
THREADS = 4  # two partner "accept" and two caseworker "reject" per referral


def _setup(app) -> tuple[list[int], dict]:
    with app.app_context():
        province = OrgUnit(code="37", name="Tỉnh", level=OrgLevel.PROVINCE, path="")
        db.session.add(province)
        db.session.flush()
        province.path = f"/{province.id}/"
        org = make_org("Trung tâm Y tế")
        service = make_service(org, "health", [province], 3)
        caseworker = User(username="cw", role=Role.CASEWORKER, org_unit=province, password_hash="x")
        partner = User(
            username="pa",
            role=Role.PARTNER,
            org_unit=province,
            password_hash="x",
            partner_organization_id=org.id,
        )
        db.session.add_all([caseworker, partner])
        db.session.flush()
        actors = {"cw": Actor.from_user(caseworker), "pa": Actor.from_user(partner)}
        ids = []
        for _ in range(ROUNDS):
            case = make_case(province)
            referral = services.create_referral(
                actors["cw"], case, case.needs[0], service, fields=["need"]
            )
            services.send_referral(actors["cw"], referral)
            ids.append(referral.id)
        db.session.commit()
        return ids, actors


def test_concurrent_transitions_leave_one_consistent_state(own_app):
    ids, actors = _setup(own_app)
    outcomes: list[tuple[int, str, str]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(referral_id: int, who: str, barrier: threading.Barrier) -> None:
        to, data = (
            ("accepted", services.TransitionInput())
            if who == "pa"
            else ("rejected", services.TransitionInput(reason_code="no_capacity"))
        )
        try:
            with own_app.app_context():
                # Wait first: on SQLite any transaction takes the write lock at BEGIN.
                barrier.wait(timeout=30)
                referral = db.session.get(Referral, referral_id)
                try:
                    services.transition(actors[who], referral, to, data)
                    db.session.commit()
                    result = "ok"
                except (services.InvalidTransition, PermissionDenied):
                    db.session.rollback()
                    result = "refused"
                with lock:
                    outcomes.append((referral_id, to, result))
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 (reported by the test)
            errors.append(exc)

    for referral_id in ids:
        barrier = threading.Barrier(THREADS)
        workers = [
            threading.Thread(target=work, args=(referral_id, who, barrier))
            for who in ("pa", "cw", "pa", "cw")
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=60)
        assert not any(w.is_alive() for w in workers), "a worker hung"
    assert errors == []

    with own_app.app_context():
        for referral_id in ids:
            mine = [o for o in outcomes if o[0] == referral_id]
            winners = [to for _id, to, result in mine if result == "ok"]
            assert len(mine) == THREADS and len(winners) == 1, mine
            referral = db.session.get(Referral, referral_id)
            assert referral.status == winners[0]
            events = db.session.scalars(
                sa.select(ReferralEvent)
                .where(ReferralEvent.referral_id == referral_id)
                .order_by(ReferralEvent.id)
            ).all()
            assert [(e.from_status, e.to_status) for e in events] == [
                (None, "draft"),
                ("draft", "requested"),
                ("requested", winners[0]),
            ]
            audited = db.session.scalars(
                sa.select(AuditEvent.action).where(
                    AuditEvent.object_type == "referral",
                    AuditEvent.object_ref == str(referral_id),
                    AuditEvent.action.in_(["referral.accepted", "referral.rejected"]),
                )
            ).all()
            assert audited == [f"referral.{winners[0]}"]


def test_concurrent_changes_to_one_case_keep_its_report_figures(own_app):
    """Two referrals of one case change at once: both commit, and the reports' figures (kept
    per case in each transaction) equal a recomputation from scratch."""
    from app.reports import figures
    from app.reports.models import ReferralFigure

    with own_app.app_context():
        province = OrgUnit(code="37", name="Tỉnh", level=OrgLevel.PROVINCE, path="")
        db.session.add(province)
        db.session.flush()
        province.path = f"/{province.id}/"
        service = make_service(make_org("Trung tâm Y tế"), "health", [province], 3)
        caseworker = User(username="cw", role=Role.CASEWORKER, org_unit=province, password_hash="x")
        db.session.add(caseworker)
        db.session.flush()
        actor = Actor.from_user(caseworker)
        case = make_case(province)
        ids = []
        for _ in range(2):
            referral = services.create_referral(actor, case, case.needs[0], service, fields=[])
            services.send_referral(actor, referral)
            ids.append(referral.id)
        db.session.commit()
    errors: list[BaseException] = []
    started = threading.Event()

    def work(referral_id: int, status: str, first: bool) -> None:
        try:
            with own_app.app_context():
                if not first:
                    started.wait(timeout=30)
                referral = db.session.get(Referral, referral_id)
                referral.status = status
                db.session.flush()  # refreshes the case's figures
                if first:
                    started.set()
                    threading.Event().wait(0.3)  # the other transaction runs into this one
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 (reported by the test)
            errors.append(exc)

    workers = [
        threading.Thread(target=work, args=(ids[0], "accepted", True)),
        threading.Thread(target=work, args=(ids[1], "on-hold", False)),
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert errors == []
    with own_app.app_context():
        statuses = db.session.execute(
            sa.select(ReferralFigure.referral_id, ReferralFigure.status).order_by(
                ReferralFigure.referral_id
            )
        ).all()
        assert [tuple(s) for s in statuses] == [(ids[0], "accepted"), (ids[1], "on-hold")]
        kept = db.session.execute(sa.select(ReferralFigure.__table__)).all()
        figures.rebuild(db.session.connection())
        assert sorted(db.session.execute(sa.select(ReferralFigure.__table__)).all()) == sorted(kept)
        db.session.rollback()
