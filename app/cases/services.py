"""Case actions: intake with consent, corrections, needs, consent, notes, status, assignment,
transfer, break-glass, views. Each checks its rule, flushes, audits, and never commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l

from app.audit import services as audit
from app.cases import consents as cons
from app.cases import notices
from app.cases import permissions as perms
from app.cases.codes import (  # noqa: F401 (re-exported for callers of services)
    age_on,
    allocate_code,
    allocate_codes,
    birth_year_band,
    parse_birth,
    province_prefix,
)
from app.cases.duplicates import DuplicateCheck, find_duplicates  # noqa: F401
from app.cases.errors import CaseError
from app.cases.fields import read_field, seal_note, set_field
from app.cases.models import (
    ENCRYPTED_FIELDS,
    BreakGlassGrant,
    Case,
    CaseNote,
    CaseStatus,
    ClosedReason,
    Consent,
    ConsentMethod,
    Need,
    NeedPriority,
    NeedStatus,
    ReachedVia,
)
from app.cases.queries import assignable_users, is_transfer_target, org_units_for_intake
from app.cases.signals import sharing_stopped
from app.categories import SupportCategory
from app.crypto.envelope import create_data_key
from app.db import utcnow
from app.extensions import db
from app.orgs.models import OrgUnit, User
from app.permissions import Actor, PermissionDenied, Role

BREAK_GLASS_WINDOW = timedelta(minutes=30)


# --- intake ----------------------------------------------------------------------------------


@dataclass
class ConsentGiven:
    purposes: list[str]
    method: str
    given_by: str = "self"
    guardian_relation: str | None = None
    text_version: str = cons.CONSENT_TEXT_VERSION


@dataclass
class Intake:
    org_unit_id: int
    consent: ConsentGiven
    full_name: str
    other_names: str | None = None
    preferred_name: str | None = None
    date_of_birth: str | None = None
    phone: str | None = None
    address: str | None = None
    id_number: str | None = None
    health_details: str | None = None
    violence_details: str | None = None
    reached_via: str = ReachedVia.OTHER
    needs: list[tuple[str, str]] = field(default_factory=list)  # (category, priority)
    assigned_to_id: int | None = None


def _check_consent(consent: ConsentGiven, is_minor: bool) -> None:
    if cons.RECORD not in consent.purposes:
        raise CaseError(
            _l("Chưa có sự đồng ý cho việc ghi nhận hồ sơ: không lưu được gì."), "consent_record"
        )
    if not all(cons.is_valid_purpose(p) for p in consent.purposes):
        raise CaseError(_l("Mục đích đồng ý không hợp lệ."), "consent_purposes")
    if consent.method not in set(ConsentMethod):
        raise CaseError(_l("Hãy chọn hình thức đồng ý."), "consent_method")
    if consent.given_by not in ("self", "guardian"):
        raise CaseError(_l("Người đồng ý không hợp lệ."), "given_by")
    if consent.given_by == "guardian" and not (consent.guardian_relation or "").strip():
        raise CaseError(_l("Hãy ghi quan hệ của người giám hộ."), "guardian_relation")
    if is_minor and consent.given_by != "guardian":
        raise CaseError(
            _l("Người được hỗ trợ dưới 18 tuổi: cần sự đồng ý của người giám hộ."), "given_by"
        )


def intake_units(actor: Actor) -> set[int]:
    return {u.id for u in org_units_for_intake(actor)}


def _check_assignee(actor: Actor, case: Case, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    user = next((u for u in assignable_users(actor, case) if u.id == user_id), None)
    if user is None:
        raise CaseError(_l("Người được giao không thuộc đơn vị của hồ sơ."), "assigned_to_id")
    return user


def check_intake(
    actor: Actor, data: Intake, units: set[int] | None = None
) -> tuple[str | None, int | None, bool, list]:
    """Every rule of an intake, without writing: (birth text, age, is_minor, needs).
    `units` may carry `intake_units(actor)` already read (an import checks many rows)."""
    if not (actor.has_role(Role.CASEWORKER, Role.VOLUNTEER) or actor.is_system):
        raise PermissionDenied
    if (
        db.session.get(OrgUnit, data.org_unit_id) is None
        if actor.is_system
        else data.org_unit_id not in (intake_units(actor) if units is None else units)
    ):
        raise CaseError(_l("Đơn vị không thuộc phạm vi của bạn."), "org_unit_id")
    if not (data.full_name or "").strip():
        raise CaseError(_l("Hãy nhập họ và tên."), "full_name")
    dob_text, year, born = parse_birth(data.date_of_birth)
    age = age_on(date.today(), year, born)
    is_minor = age is not None and age < 18
    _check_consent(data.consent, is_minor)
    if data.reached_via not in set(ReachedVia):
        raise CaseError(_l("Hãy chọn cách tiếp cận."), "reached_via")
    return dob_text, age, is_minor, _check_needs(data.needs)


def open_case(actor: Actor, data: Intake) -> Case:
    """Open a case: nothing is stored without consent to record; the unit must be in scope."""
    dob_text, age, is_minor, needs = check_intake(actor, data)
    today = date.today()
    unit = db.session.get(OrgUnit, data.org_unit_id)
    now = utcnow()
    case = Case(
        code=allocate_code(unit, today.year),
        org_unit_id=unit.id,
        status=CaseStatus.OPEN,
        opened_at=now,
        opened_on=today,
        opened_by_id=actor.user_id,
        birth_year_band=birth_year_band(age),
        reached_via=data.reached_via,
        is_minor=is_minor,
        updated_at=now,
        data_key=create_data_key(),
    )
    db.session.add(case)
    db.session.flush()
    values = {f: getattr(data, f) for f in ENCRYPTED_FIELDS} | {"date_of_birth": dob_text}
    for name, value in values.items():
        set_field(case, name, value)
    assignee = _check_assignee(actor, case, data.assigned_to_id)
    case.assigned_to_id = (
        assignee.id if assignee else (actor.user_id if actor.has_role(Role.CASEWORKER) else None)
    )
    for category, priority in needs:
        case.needs.append(Need(category=category, priority=priority, identified_on=today))
    _add_consents(actor, case, data.consent, sorted(set(data.consent.purposes)))
    db.session.flush()
    audit.record(
        actor,
        "case.created",
        case,
        details={
            "purposes": sorted(set(data.consent.purposes)),
            "categories": [c for c, _p in needs],
            "method": data.consent.method,
        },
    )
    return case


def _check_needs(needs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for category, priority in needs:
        if category not in set(SupportCategory) or priority not in set(NeedPriority):
            raise CaseError(_l("Nhu cầu hỗ trợ không hợp lệ."), "needs")
        seen.setdefault(category, priority)
    return list(seen.items())


def _add_consents(actor: Actor, case: Case, consent: ConsentGiven, purposes: list[str]) -> None:
    for purpose in purposes:
        case.consents.append(
            Consent(
                purpose=purpose,
                method=consent.method,
                text_version=consent.text_version,
                given_by=consent.given_by,
                guardian_relation=(consent.guardian_relation or "").strip() or None
                if consent.given_by == "guardian"
                else None,
                recorded_by_id=actor.user_id,
                recorded_at=utcnow(),
            )
        )


# --- corrections, needs, notes, consent -----------------------------------------------------


def touch(case: Case) -> None:
    case.updated_at = utcnow()


def _require_manage(actor: Actor, case: Case) -> None:
    if not perms.can_manage(actor, case):
        raise PermissionDenied


def correct_case(
    actor: Actor, case: Case, values: dict[str, str | None], reached_via: str
) -> list[str]:
    """Correct identifying fields (her right to rectification); audits field names, not values."""
    _require_manage(actor, case)
    changed = []
    if "date_of_birth" in values:
        dob_text, year, born = parse_birth(values["date_of_birth"])
        values = values | {"date_of_birth": dob_text}
        age = age_on(date.today(), year, born)
    for name, value in values.items():
        new = (value or "").strip() or None
        if name not in ENCRYPTED_FIELDS:
            raise ValueError(name)
        if new != read_field(case, name):
            if name == "full_name" and not new:
                raise CaseError(_l("Hãy nhập họ và tên."), "full_name")
            set_field(case, name, new)
            changed.append(name)
    if "date_of_birth" in changed:
        case.birth_year_band = birth_year_band(age)
        case.is_minor = age is not None and age < 18
    if reached_via != case.reached_via:
        if reached_via not in set(ReachedVia):
            raise CaseError(_l("Hãy chọn cách tiếp cận."), "reached_via")
        case.reached_via = reached_via
        changed.append("reached_via")
    if changed:
        touch(case)
        db.session.flush()
        audit.record(actor, "case.updated", case, details={"changed_fields": changed})
    return changed


def add_need(actor: Actor, case: Case, category: str, priority: str) -> Need:
    """Add a need; one open need per category."""
    _require_manage(actor, case)
    _check_needs([(category, priority)])
    if any(n.category == category and n.status == NeedStatus.OPEN for n in case.needs):
        raise CaseError(_l("Nhu cầu này đang mở."), "category")
    need = Need(category=category, priority=priority, identified_on=date.today())
    case.needs.append(need)
    touch(case)
    db.session.flush()
    audit.record(actor, "need.added", case, details={"category": category})
    return need


def set_need_status(actor: Actor, case: Case, need: Need, status: str) -> Need:
    """The caseworker sets a need's status, reopening a met one included (one open need per
    category)."""
    _require_manage(actor, case)
    if need.case_id != case.id or status not in set(NeedStatus):
        raise CaseError(_l("Trạng thái nhu cầu không hợp lệ."), "status")
    old = need.status
    if old == status:
        return need
    if status == NeedStatus.OPEN and any(
        n.id != need.id and n.category == need.category and n.status == NeedStatus.OPEN
        for n in case.needs
    ):
        raise CaseError(_l("Nhu cầu này đang mở."), "category")
    need.status = status
    need.closed_on = None if status == NeedStatus.OPEN else date.today()
    touch(case)
    db.session.flush()
    audit.record(
        actor,
        "need.updated",
        case,
        details={"category": need.category, "from_status": old, "to_status": status},
    )
    return need


def record_need_met(actor: Actor, need: Need, met_on: date, via: str) -> bool:
    """A referral for the need reached service received (or enrolment): an open need becomes
    met. The rule itself, not a caseworker's choice, so whoever recorded the outcome (partner or
    caseworker) is the actor; the caseworker can reopen it (`set_need_status`)."""
    if need.status != NeedStatus.OPEN:
        return False
    need.status = NeedStatus.MET
    need.closed_on = met_on
    touch(need.case)
    db.session.flush()
    audit.record(
        actor,
        "need.updated",
        need.case,
        details={"category": need.category, "from_status": "open", "to_status": "met", "via": via},
    )
    return True


def add_note(actor: Actor, case: Case, body: str, is_sensitive: bool = False) -> CaseNote:
    """Append a note (encrypted; notes are never edited or deleted)."""
    if not perms.can_add_note(actor, case):
        raise PermissionDenied
    body = (body or "").strip()
    if not body:
        raise CaseError(_l("Ghi chú đang trống."), "body")
    if not perms.sees_sensitive(actor):
        is_sensitive = False
    note = CaseNote(
        case_id=case.id, author_id=actor.user_id, created_at=utcnow(), is_sensitive=is_sensitive
    )
    db.session.add(note)
    db.session.flush()
    seal_note(case, note, body)
    touch(case)
    db.session.flush()
    audit.record(actor, "note.added", case)
    return note


def record_consent(actor: Actor, case: Case, consent: ConsentGiven) -> list[Consent]:
    """Record newly given consents (purposes already in force are kept as they are)."""
    _require_manage(actor, case)
    new = [p for p in dict.fromkeys(consent.purposes) if not cons.consent_in_force(case, p)]
    if not new:
        raise CaseError(_l("Các mục đích này đã có sự đồng ý."), "consent_purposes")
    check = ConsentGiven(
        purposes=[cons.RECORD, *new],
        method=consent.method,
        given_by=consent.given_by,
        guardian_relation=consent.guardian_relation,
        text_version=consent.text_version,
    )
    _check_consent(check, case.is_minor)
    before = len(case.consents)
    _add_consents(actor, case, consent, new)
    touch(case)
    db.session.flush()
    audit.record(
        actor, "consent.recorded", case, details={"purposes": new, "method": consent.method}
    )
    return case.consents[before:]


_DETAIL_CATEGORIES = {
    cons.SHARE_HIV: [SupportCategory.HEALTH.value],
    cons.SHARE_HEALTH_DETAILS: [SupportCategory.HEALTH.value],
    cons.SHARE_VIOLENCE_DETAILS: [SupportCategory.VIOLENCE_SUPPORT.value],
}


def withdraw_consent(actor: Actor, case: Case, consent: Consent, *, reason: str) -> Consent:
    """Withdraw one purpose, with a coded reason; withdrawing any sharing stops it at once
    (sharing_stopped). Withdrawing the consent to record leaves the case to be restricted or
    erased (`needs_next_step`)."""
    _require_manage(actor, case)
    if consent.case_id != case.id or consent.withdrawn_at is not None:
        raise CaseError(_l("Sự đồng ý này đã được rút lại."), "consent")
    if reason not in cons.WITHDRAWAL_REASONS:
        raise CaseError(_l("Hãy chọn lý do rút lại sự đồng ý."), "reason")
    consent.withdrawn_at = utcnow()
    consent.withdrawn_by_id = actor.user_id
    consent.withdrawn_reason = reason
    touch(case)
    db.session.flush()
    audit.record(
        actor,
        "consent.withdrawn",
        case,
        details={"purposes": [consent.purpose], "reason_code": reason},
    )
    notices.consent_withdrawn(actor, case)
    purpose = consent.purpose
    categories: list[str] | None
    if purpose == cons.RECORD:
        categories = None
    elif purpose.startswith(cons.SHARE_PREFIX):
        categories = [purpose[len(cons.SHARE_PREFIX) :]]
    else:
        categories = _DETAIL_CATEGORIES.get(purpose)
        if categories is None:
            return consent
    sharing_stopped.send(case, actor=actor, categories=categories, reason="consent_withdrawn")
    return consent


def needs_next_step(case: Case) -> bool:
    """Her consent to record is withdrawn but the case is neither restricted nor erased: the
    caseworker must restrict processing or erase it."""
    return (
        case.erased_at is None
        and not case.is_restricted
        and any(c.purpose == cons.RECORD for c in case.consents)
        and not cons.consent_in_force(case, cons.RECORD)
    )


# --- status, assignment, transfer ------------------------------------------------------------


def set_status(actor: Actor, case: Case, status: str, reason: str | None = None) -> Case:
    """Open -> active -> closed (with a reason); a closed case can be reopened."""
    _require_manage(actor, case)
    old = case.status
    if status not in set(CaseStatus) or status == old:
        raise CaseError(_l("Trạng thái không hợp lệ."), "status")
    if status == CaseStatus.CLOSED:
        if reason not in set(ClosedReason):
            raise CaseError(_l("Hãy chọn lý do kết thúc hồ sơ."), "closed_reason")
        case.closed_reason = reason
        case.closed_at = utcnow()
    else:
        case.closed_reason = None
        case.closed_at = None
    case.status = status
    touch(case)
    db.session.flush()
    audit.record(
        actor,
        "case.updated",
        case,
        details={
            "changed_fields": ["status"],
            "from_status": old,
            "to_status": status,
            "reason_code": reason if status == CaseStatus.CLOSED else None,
        },
    )
    return case


def assign_case(actor: Actor, case: Case, user_id: int | None) -> Case:
    _require_manage(actor, case)
    user = _check_assignee(actor, case, user_id)
    case.assigned_to_id = user.id if user else None
    touch(case)
    db.session.flush()
    audit.record(actor, "case.updated", case, details={"changed_fields": ["assigned_to"]})
    notices.assigned(actor, case)
    return case


def request_transfer(actor: Actor, case: Case, target_id: int) -> Case:
    """A caseworker asks another unit to take the case; a caseworker there accepts it."""
    _require_manage(actor, case)
    if case.transfer_to_org_unit_id is not None:
        # A page opened before the first request (another tab, a colleague) would otherwise
        # replace it silently, and the unit told first would find nothing to accept.
        raise CaseError(
            _l("Hồ sơ đang chờ chuyển đến đơn vị khác. Hãy huỷ yêu cầu đó trước."), "org_unit_id"
        )
    if not is_transfer_target(case, target_id):
        raise CaseError(_l("Hãy chọn đơn vị nhận hồ sơ."), "org_unit_id")
    target = db.session.get(OrgUnit, target_id)
    case.transfer_to_org_unit_id = target.id
    case.transfer_requested_by_id = actor.user_id
    case.transfer_requested_at = utcnow()
    touch(case)
    db.session.flush()
    audit.record(actor, "case.transfer_requested", case, details={"target": target.code})
    notices.transfer_requested(actor, case, target)
    return case


def cancel_transfer(actor: Actor, case: Case) -> Case:
    _require_manage(actor, case)
    if case.transfer_to_org_unit_id is None:
        raise CaseError(_l("Không có yêu cầu chuyển hồ sơ."), "transfer")
    _clear_transfer(case)
    db.session.flush()
    audit.record(actor, "case.transfer_cancelled", case)
    return case


def _clear_transfer(case: Case) -> None:
    case.transfer_to_org_unit_id = None
    case.transfer_requested_by_id = None
    case.transfer_requested_at = None


def accept_transfer(actor: Actor, case: Case) -> Case:
    target = (
        db.session.get(OrgUnit, case.transfer_to_org_unit_id)
        if case.transfer_to_org_unit_id
        else None
    )
    if target is None or not perms.can_accept_transfer(actor, case, target.path):
        raise PermissionDenied
    old = db.session.get(OrgUnit, case.org_unit_id)
    requested_by_id = case.transfer_requested_by_id
    case.org_unit_id = target.id
    case.assigned_to_id = actor.user_id
    _clear_transfer(case)
    touch(case)
    db.session.flush()
    audit.record(
        actor,
        "case.transferred",
        case,
        org_unit_id=target.id,
        details={"org_unit": target.code, "parent": old.code if old else None},
    )
    notices.transferred(actor, case, requested_by_id)
    return case


# --- break-glass, views ----------------------------------------------------------------------


def open_break_glass(actor: Actor, case: Case, reason: str) -> BreakGlassGrant:
    """An admin opens one case for 30 minutes, with a stated reason, audited on the case."""
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied
    reason = " ".join((reason or "").split())
    if len(reason) < 10:
        raise CaseError(_l("Hãy nêu rõ lý do (ít nhất 10 ký tự)."), "reason")
    now = utcnow()
    grant = BreakGlassGrant(
        case_id=case.id,
        user_id=actor.user_id,
        reason=reason[:500],
        opened_at=now,
        expires_at=now + BREAK_GLASS_WINDOW,
    )
    db.session.add(grant)
    db.session.flush()
    audit.record(
        actor,
        "breakglass.opened",
        case,
        reason=reason[:500],
        details={"expires_at": grant.expires_at.isoformat(timespec="seconds")},
    )
    return grant


def record_view(actor: Actor, case: Case, via: str = "page") -> None:
    """Every view of identifying data is audited."""
    audit.record(actor, "case.viewed", case, details={"via": via})


def record_history_view(actor: Actor, case: Case) -> None:
    """Reading who saw a case is itself an access to it: it appears in that history."""
    audit.record(actor, "case.history_viewed", case)


def record_list_view(actor: Actor, cases: list[Case], via: str) -> None:
    """One event for a page of decrypted rows, naming every code shown."""
    if cases:
        audit.record(
            actor,
            "case.viewed",
            object_type="case_list",
            details={"via": via, "rows": [c.code for c in cases], "count": len(cases)},
        )
