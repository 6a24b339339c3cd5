"""Rows for the reports' tests, built directly with the models (clear columns only)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from app.cases.models import Case, Consent, Need
from app.extensions import db
from app.referrals.models import PartnerOrganization, PartnerService, Referral

_codes = itertools.count(1)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


class Population:
    """Cases, needs, consents and referrals with known outcomes."""

    def __init__(self):
        self.organization = PartnerOrganization(name="Trung tâm thử nghiệm")
        db.session.add(self.organization)
        db.session.flush()
        self.service = PartnerService(
            organization_id=self.organization.id, name="Dịch vụ thử", category="health"
        )
        db.session.add(self.service)
        db.session.flush()

    def case(self, unit, *, consent: bool = True, withdrawn: bool = False, erased: bool = False):
        n = next(_codes)
        case = Case(
            code=f"RP-2026-{n:05d}",
            org_unit_id=unit.id,
            opened_on=date(2026, 1, 1),
            erased_at=at(date(2026, 9, 1)) if erased else None,
        )
        db.session.add(case)
        db.session.flush()
        if consent:
            db.session.add(
                Consent(
                    case_id=case.id,
                    purpose="record",
                    method="verbal",
                    text_version="1",
                    recorded_at=at(date(2026, 1, 1)),
                    withdrawn_at=at(date(2026, 3, 1)) if withdrawn else None,
                )
            )
        return case

    def need(self, case, identified_on: date, category: str = "health", status: str = "open"):
        need = Need(case_id=case.id, category=category, identified_on=identified_on, status=status)
        db.session.add(need)
        db.session.flush()
        return need

    def referral(
        self,
        case,
        need,
        status: str = "completed",
        *,
        completed_on: date | None = None,
        outcome: str | None = "service_received",
        reason_code: str | None = None,
        created: date | None = None,
        sent: date | None = None,
        respond_by: date | None = None,
        responded: datetime | None = None,
    ):
        created = created or need.identified_on
        referral = Referral(
            case_id=case.id,
            need_id=need.id,
            service_id=self.service.id,
            organization_id=self.organization.id,
            category=need.category,
            status=status,
            created_at=at(created),
            sent_at=at(sent) if sent else (at(created) if status != "draft" else None),
            respond_by=respond_by,
            responded_at=responded,
            completed_on=completed_on if status in ("completed", "entered-in-error") else None,
            outcome=outcome if status in ("completed", "entered-in-error") else None,
            reason_code=reason_code
            or (outcome if status in ("completed", "entered-in-error") else None),
        )
        db.session.add(referral)
        db.session.flush()
        return referral
