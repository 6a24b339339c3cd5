"""Referral actions: create, send, move through the FHIR Task statuses, expire, withdraw.

Every action takes the actor first, checks the rule, changes the referral, writes its history
(`ReferralEvent`) and an audit event `referral.<status>` in the same transaction, and never
commits. Transitions lock the referral row first so two concurrent moves serialize.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.audit import services as audit
from app.cases import consents
from app.cases import services as case_services
from app.crypto.envelope import seal
from app.db import utcnow
from app.extensions import db
from app.permissions import Actor, PermissionDenied
from app.referrals import notices, partner_note, permissions, queries, sharing
from app.referrals.models import PartnerClientReference, PartnerService, Referral, ReferralEvent
from app.referrals.status import (
    CONNECTED_OUTCOMES,
    OPEN_STATUSES,
    PRIORITIES,
    Party,
    ReasonCode,
    ReferralStatus,
    is_allowed,
    local_today,
    requirement,
)

S = ReferralStatus
# Moves that are the partner's answer: a caseworker making them records it for the partner.
PARTNER_SIDE_TARGETS = frozenset(
    {S.ACCEPTED, S.REJECTED, S.IN_PROGRESS, S.ON_HOLD, S.COMPLETED, S.FAILED}
)


class ReferralError(Exception):
    """A business rule refused the action; `message` is shown to the user as is."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class InvalidTransition(ReferralError):
    def __init__(self, current, target):
        super().__init__(_l("Không thể chuyển trạng thái chuyển gửi này."))
        self.current = current
        self.target = target


@dataclass(frozen=True)
class TransitionInput:
    """What a transition carries (DESIGN.md "Referrals", column "must carry")."""

    reason_code: str | None = None
    outcome: str | None = None
    service_date: date | None = None
    note: str | None = None
    verified_by: str | None = None


def check_sharing(case, category: str) -> None:
    """A referral of this category may go out: the case is usable and sharing is consented."""
    if case.erased_at is not None or case.is_restricted:
        raise ReferralError(_l("Hồ sơ đang bị hạn chế xử lý hoặc đã xoá: không thể chuyển gửi."))
    if not consents.can_share(case, category):
        raise ReferralError(
            _l(
                "Người được hỗ trợ chưa đồng ý (hoặc đã rút lại sự đồng ý) chia sẻ thông tin "
                "cho nhóm dịch vụ này: không thể chuyển gửi."
            )
        )


def _check_fields(case, fields: list[str]) -> list[str]:
    unknown = [f for f in fields if f not in sharing.SHAREABLE_FIELDS]
    if unknown:
        raise ReferralError(_l("Có mục chia sẻ không hợp lệ."))
    missing = [f for f in fields if not sharing.field_consent_in_force(case, f)]
    if missing:
        raise ReferralError(
            _l("Không thể chia sẻ thông tin chưa có sự đồng ý riêng của người được hỗ trợ.")
        )
    # Keep the table's order so every view lists them the same way.
    return [f for f in sharing.SHAREABLE_FIELDS if f in fields]


def _ensure_client_reference(case, organization_id) -> None:
    """The organization's own reference for her, made the first time she agrees to share it."""
    exists = db.session.execute(
        sa.select(PartnerClientReference.id).where(
            PartnerClientReference.case_id == case.id,
            PartnerClientReference.organization_id == organization_id,
        )
    ).first()
    if exists is None:
        db.session.add(PartnerClientReference(case_id=case.id, organization_id=organization_id))
        db.session.flush()


def _event(actor: Actor, referral: Referral, frm, to, data: TransitionInput, by_cw: bool):
    event = ReferralEvent(
        referral=referral,
        from_status=frm,
        to_status=to,
        occurred_at=utcnow(),
        actor_user_id=actor.user_id,
        actor_username=actor.username,
        actor_role=str(actor.role) if actor.role else None,
        reason_code=data.reason_code,
        recorded_by_caseworker=by_cw,
        verified_by=(data.verified_by or "").strip() or None,
        service_date=data.service_date,
    )
    db.session.add(event)
    db.session.flush()
    if data.note:
        event.note_enc = seal(
            referral.case.data_key,
            data.note,
            table="referral_events",
            column="note_enc",
            row_id=event.id,
        )
    return event


def _audit(
    actor: Actor,
    referral: Referral,
    frm,
    to,
    data: TransitionInput,
    by_cw: bool,
    reason: str | None = None,
    via: str | None = None,
) -> None:
    details = {
        "from_status": frm,
        "to_status": str(to),
        "category": referral.category,
        "partner_organization": str(referral.organization_id),
    }
    if data.reason_code:
        details["reason_code"] = data.reason_code
    if data.outcome:
        details["outcome"] = data.outcome
    if by_cw:
        details["recorded_by_caseworker"] = True
    if via:
        details["via"] = via  # the partner's own system (FHIR API) rather than the portal
    audit.record(actor, f"referral.{to}", referral, reason=reason, details=details)


def create_referral(
    actor: Actor,
    case,
    need,
    service: PartnerService,
    *,
    fields: list[str],
    priority: str = "routine",
    partner_note: str | None = None,
    internal_note: str | None = None,
    hiv_status: str | None = None,
) -> Referral:
    """A caseworker drafts a referral of an open need to a service of its category; the note
    for the partner may not name her, nor give her phone or ID number."""
    if not permissions.can_refer(actor):
        raise PermissionDenied
    if need.case_id != case.id or need.status != "open":
        raise ReferralError(_l("Chỉ chuyển gửi được nhu cầu đang mở của hồ sơ này."))
    if service.category != need.category:
        raise ReferralError(_l("Dịch vụ không thuộc nhóm hỗ trợ của nhu cầu này."))
    if not service.is_referrable:
        raise ReferralError(_l("Cơ sở này hiện không nhận chuyển gửi cho dịch vụ này."))
    if priority not in PRIORITIES:
        raise ReferralError(_l("Mức ưu tiên không hợp lệ."))
    check_sharing(case, need.category)
    fields = _check_fields(case, fields)
    if hiv_status and "hiv_status" not in fields:
        raise ReferralError(_l("Chỉ ghi tình trạng HIV khi chọn chia sẻ mục này."))
    partner_note = (partner_note or "").strip()
    _check_partner_note(case, partner_note, fields)
    referral = Referral(
        case=case,
        need=need,
        service=service,
        organization_id=service.organization_id,
        category=need.category,
        status=S.DRAFT,
        priority=priority,
        shared_fields=fields,
        created_by_id=actor.user_id,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    db.session.add(referral)
    db.session.flush()
    if "client_ref" in fields:
        _ensure_client_reference(case, service.organization_id)
    for column, text in (("partner_note_enc", partner_note), ("note_enc", internal_note)):
        if text and text.strip():
            sealed = seal(
                case.data_key, text.strip(), table="referrals", column=column, row_id=referral.id
            )
            setattr(referral, column, sealed)
    if hiv_status and hiv_status.strip():
        referral.hiv_status_enc = seal(
            case.data_key,
            hiv_status.strip(),
            table="referrals",
            column="hiv_status_enc",
            row_id=referral.id,
        )
    _event(actor, referral, None, S.DRAFT, TransitionInput(), False)
    audit.record(
        actor,
        "referral.draft",
        referral,
        details={
            "to_status": "draft",
            "category": referral.category,
            "partner_organization": str(referral.organization_id),
            "service": str(service.id),
            "shared_fields": fields,
        },
    )
    return referral


def _check_partner_note(case, note: str, fields: list[str]) -> None:
    found = partner_note.identifying_kinds(case, note, fields)
    if found:
        kinds = ", ".join(str(partner_note.KIND_LABELS[k]) for k in found)
        raise ReferralError(
            _l(
                "Ghi chú cho cơ sở không được chứa %(kinds)s của người được hỗ trợ. Hãy bỏ "
                "thông tin đó ra; nếu cô ấy đồng ý chia sẻ, hãy chọn mục tương ứng ở trên.",
                kinds=kinds,
            )
        )


def lock_referral(referral_id: int) -> Referral:
    """Reload the referral under a row lock (PostgreSQL FOR UPDATE; SQLite's write lock)."""
    stmt = (
        sa.select(Referral)
        .where(Referral.id == referral_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return db.session.execute(stmt).scalar_one()


def _validate(
    referral: Referral, to: S, party: Party, data: TransitionInput, today: date
) -> TransitionInput:
    need = requirement(to, party)
    reason = data.reason_code
    if need.reason_codes:
        if reason not in {c.value for c in need.reason_codes}:
            raise ReferralError(_l("Vui lòng chọn lý do."))
    elif to is S.ON_HOLD:
        reason = ReasonCode.WAITLISTED.value
    else:
        reason = None
    outcome = None
    if need.outcome:
        if data.outcome not in {c.value for c in CONNECTED_OUTCOMES}:
            raise ReferralError(_l("Vui lòng chọn kết quả."))
        if data.service_date is None:
            raise ReferralError(_l("Vui lòng nhập ngày nhận dịch vụ."))
        if referral.sent_at and data.service_date < referral.sent_at.date() - timedelta(days=1):
            raise ReferralError(_l("Ngày nhận dịch vụ không thể trước ngày gửi chuyển gửi."))
        if data.service_date > today:
            raise ReferralError(_l("Ngày nhận dịch vụ không thể ở tương lai."))
        outcome = reason = data.outcome
    if need.note and not (data.note or "").strip():
        raise ReferralError(_l("Vui lòng ghi rõ điều gì đã bị nhập nhầm."))
    if need.verified_by and not (data.verified_by or "").strip():
        raise ReferralError(_l("Vui lòng ghi ai ở cơ sở đã xác nhận kết quả."))
    return TransitionInput(
        reason_code=reason,
        outcome=outcome,
        service_date=data.service_date,
        note=(data.note or "").strip() or None,
        verified_by=data.verified_by,
    )


def transition(
    actor: Actor,
    referral: Referral,
    to: ReferralStatus | str,
    data: TransitionInput | None = None,
    *,
    today: date | None = None,
    via: str | None = None,
) -> Referral:
    """Move a referral along DESIGN.md's table: only allowed moves, by allowed parties."""
    to = ReferralStatus(to)
    data = data or TransitionInput()
    today = today or local_today()
    referral = lock_referral(referral.id)
    party = permissions.party_of(actor, referral)
    if party is None:
        raise PermissionDenied
    current = ReferralStatus(referral.status)
    if not is_allowed(current, to, party):
        raise InvalidTransition(current, to)
    if to is S.REQUESTED:
        check_sharing(referral.case, referral.category)
        _check_fields(referral.case, list(referral.shared_fields or []))
        if not referral.service.is_referrable:
            raise ReferralError(_l("Cơ sở này hiện không nhận chuyển gửi cho dịch vụ này."))
    data = _validate(referral, to, party, data, today)
    by_cw = party is Party.CASEWORKER and to in PARTNER_SIDE_TARGETS
    _apply(referral, current, to, data, today)
    db.session.flush()
    _event(actor, referral, current.value, to, data, by_cw)
    _audit(actor, referral, current.value, to, data, by_cw, via=via)
    if to is S.COMPLETED and referral.outcome in CONNECTED_OUTCOMES:
        case_services.record_need_met(actor, referral.need, data.service_date, via="referral")
    notices.on_transition(actor, referral, current.value, to)
    return referral


def _apply(referral: Referral, current: S, to: S, data: TransitionInput, today: date) -> None:
    now = utcnow()
    referral.status = to.value
    referral.updated_at = now
    if to is S.REQUESTED:
        referral.sent_at = now
        referral.respond_by = today + timedelta(days=referral.service.response_days)
    if current is S.REQUESTED and to in (S.ACCEPTED, S.REJECTED):
        referral.responded_at = now
    if to is S.COMPLETED:
        referral.outcome = data.outcome
        referral.completed_on = data.service_date
    if to is not S.ENTERED_IN_ERROR and data.reason_code:
        referral.reason_code = data.reason_code


def send_referral(actor: Actor, referral: Referral, today: date | None = None) -> Referral:
    """draft -> requested: sharing consent in force; respond_by from the service's response."""
    return transition(actor, referral, S.REQUESTED, today=today)


def cancel_for_stopped_sharing(actor: Actor, case, categories=None, reason: str | None = None):
    """Consent withdrawn, processing restricted or case erased: cancel open referrals at once.

    This is the rule itself (DESIGN.md), not a choice of either side, so no party check; the
    partner afterwards sees only "withdrawn".
    """
    stmt = (
        sa.select(Referral)
        .where(Referral.case_id == case.id, Referral.status.in_([s.value for s in OPEN_STATUSES]))
        .with_for_update()
        .execution_options(populate_existing=True)
        .order_by(Referral.id)
    )
    if categories is not None:
        stmt = stmt.where(Referral.category.in_([str(c) for c in categories]))
    cancelled = []
    data = TransitionInput(reason_code=ReasonCode.CLIENT_DECLINED.value)
    for referral in db.session.execute(stmt).scalars():
        current = referral.status
        referral.withdrawn_at = utcnow()
        _apply(referral, S(current), S.CANCELLED, data, local_today())
        db.session.flush()
        _event(actor, referral, current, S.CANCELLED, data, False)
        _audit(actor, referral, current, S.CANCELLED, data, False, reason=reason or "sharing")
        notices.on_transition(actor, referral, current, S.CANCELLED)
        cancelled.append(referral)
    return cancelled


def _on_sharing_stopped(case, actor=None, categories=None, reason=None, **kwargs):
    cancel_for_stopped_sharing(actor or Actor.system(), case, categories, reason)


def connect_signals() -> None:
    from app.cases.disclosures import register_source
    from app.cases.signals import sharing_stopped

    sharing_stopped.connect(_on_sharing_stopped, weak=False)
    register_source(queries.case_disclosures)


connect_signals()


def expire_unanswered(actor: Actor, today: date, grace_days: int = 0) -> list[Referral]:
    """The system cancels unanswered referrals past respond_by (`expired_no_response`).

    Idempotent: a referral once cancelled is no longer `requested` and is never touched again.
    """
    # Overdue more than `grace_days`: respond_by passed before today minus the grace.
    overdue = queries.overdue_condition(today - timedelta(days=grace_days))
    ids = list(db.session.scalars(sa.select(Referral.id).where(overdue).order_by(Referral.id)))
    expired = []
    data = TransitionInput(reason_code=ReasonCode.EXPIRED_NO_RESPONSE.value)
    for referral_id in ids:
        referral = db.session.get(Referral, referral_id)
        try:
            expired.append(transition(actor, referral, S.CANCELLED, data, today=today))
        except InvalidTransition:
            continue  # answered meanwhile
    return expired
