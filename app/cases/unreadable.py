"""A case whose ciphertext no longer opens is shown as such; the rest of the list still works.

A damaged row (a corrupted or moved ciphertext, a data key wrapped by a master key the key set
lost) used to turn a whole unit's case list into a server error, leaving only a log line. Now
the row reads "Không đọc được hồ sơ này — đã báo quản trị", and the failure is an audit event
naming the case code (never what was, or was not, decrypted) and a notification to every admin
(once per case), who find it on their listing of unreadable cases, so that the key set or a
backup can be checked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.audit import services as audit
from app.audit.models import AuditEvent
from app.cases import notices
from app.cases.models import Case
from app.crypto.envelope import CryptoError
from app.extensions import db
from app.permissions import Actor

log = logging.getLogger(__name__)

UNREADABLE_LABEL = _l("Không đọc được hồ sơ này — đã báo quản trị")
ACTION = "case.unreadable"


def unreadable_name(read: Callable[[], str | None], code: str, found: list[str]) -> str | None:
    """The name `read()` decrypts, or the "cannot be read" label when the case's ciphertext
    does not open (its code is then added to `found`, for `report_unreadable`)."""
    try:
        return read()
    except CryptoError as exc:
        # The class of the error only: a log line needs nothing more.
        log.warning("case %s cannot be decrypted (%s)", code, type(exc).__name__)
        found.append(code)
        return str(UNREADABLE_LABEL)


def report_unreadable(actor: Actor, codes: Iterable[str], via: str) -> None:
    """One audit event per damaged case, with its code and org unit only."""
    codes = sorted(set(codes))
    if not codes:
        return
    cases = {
        code: (case_id, unit_id)
        for code, case_id, unit_id in db.session.execute(
            sa.select(Case.code, Case.id, Case.org_unit_id).where(Case.code.in_(codes))
        )
    }
    for code in (c for c in codes if c in cases):  # only codes of real cases reach the trail
        case_id, unit_id = cases[code]
        notices.unreadable(actor, case_id, code)
        audit.record(
            actor,
            ACTION,
            object_type="case",
            object_ref=code,
            org_unit_id=unit_id,
            outcome="error",
            details={"via": via},
        )


class UnreadableReport(NamedTuple):
    code: str
    times: int
    first_at: datetime
    last_at: datetime


def unreadable_reports(limit: int = 200) -> list[UnreadableReport]:
    """The cases reported unreadable, most recent first, for the admins' listing."""
    last_at = sa.func.max(AuditEvent.occurred_at)
    stmt = (
        sa.select(
            AuditEvent.object_ref,
            sa.func.count(),
            sa.func.min(AuditEvent.occurred_at),
            last_at,
        )
        .where(AuditEvent.action == ACTION)
        .group_by(AuditEvent.object_ref)
        .order_by(last_at.desc())
        .limit(limit)
    )
    return [UnreadableReport(*row) for row in db.session.execute(stmt)]
