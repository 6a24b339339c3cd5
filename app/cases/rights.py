"""Her rights over her data: access (print), rectification (services.correct_case),
restriction of processing, erasure."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.audit import services as audit
from app.cases import permissions as perms
from app.cases.models import ENCRYPTED_FIELDS, Case
from app.cases.search import clear_index
from app.cases.services import CaseError, touch
from app.cases.signals import sharing_stopped
from app.crypto.envelope import destroy_data_key
from app.db import utcnow
from app.extensions import db
from app.permissions import Actor, PermissionDenied

ERASURE_REASONS = ("her_request", "consent_withdrawn", "recorded_in_error", "retention_ended")


def record_print(actor: Actor, case: Case) -> None:
    """The printable page of everything held about her is audited."""
    audit.record(actor, "case.printed", case)


def restrict_processing(actor: Actor, case: Case) -> Case:
    """Restriction blocks referrals and sharing at once."""
    if not perms.can_manage(actor, case):
        raise PermissionDenied
    if case.is_restricted:
        raise CaseError(_l("Hồ sơ đã bị hạn chế xử lý."), "restrict")
    case.is_restricted = True
    case.restricted_at = utcnow()
    touch(case)
    db.session.flush()
    audit.record(actor, "case.restricted", case)
    sharing_stopped.send(case, actor=actor, categories=None, reason="restricted")
    return case


def lift_restriction(actor: Actor, case: Case) -> Case:
    if not perms.can_manage(actor, case):
        raise PermissionDenied
    if not case.is_restricted:
        raise CaseError(_l("Hồ sơ không bị hạn chế xử lý."), "restrict")
    case.is_restricted = False
    case.restricted_at = None
    touch(case)
    db.session.flush()
    audit.record(actor, "case.restriction_lifted", case)
    return case


def erase_case(actor: Actor, case: Case, typed_code: str, reason_code: str) -> Case:
    """Erase: typed confirmation of the code; the data key is destroyed, indexes cleared;
    the case stays with its non-identifying figures."""
    if not perms.can_erase(actor, case):
        raise PermissionDenied
    if (typed_code or "").strip().upper() != case.code:
        raise CaseError(_l("Mã hồ sơ nhập vào không khớp."), "confirm_code")
    if reason_code not in ERASURE_REASONS:
        raise CaseError(_l("Hãy chọn lý do xoá."), "reason")
    sharing_stopped.send(case, actor=actor, categories=None, reason="erased")
    if case.data_key is not None:
        destroy_data_key(case.data_key)
    for name in ENCRYPTED_FIELDS:
        setattr(case, f"{name}_enc", None)
    clear_index(case)
    case.erased_at = utcnow()
    case.is_restricted = True
    case.transfer_to_org_unit_id = None
    touch(case)
    db.session.flush()
    audit.record(actor, "case.erased", case, details={"reason_code": reason_code})
    return case
