"""The fixed vocabulary of audit actions and the keys allowed in an event's details."""

from __future__ import annotations

import re

ACTIONS = frozenset(
    {
        "auth.sign_in",
        "auth.sign_in_failed",
        "auth.sign_out",
        "auth.session_expired",
        "auth.throttled",
        "auth.mfa_enrolled",
        "auth.mfa_failed",
        "auth.recovery_code_used",
        "auth.password_changed",
        "auth.mfa_reset",
        "user.created",
        "user.updated",
        "user.disabled",
        "user.enabled",
        "user.password_reset",
        "org.created",
        "org.renamed",
        "org.moved",
        "org.retired",
        "org.imported",
        "case.viewed",
        "case.created",
        "case.updated",
        "case.printed",
        "case.transferred",
        "case.erased",
        "case.restricted",
        "case.imported",
        "case.exported",
        "case.searched",
        "case.transfer_requested",
        "case.transfer_cancelled",
        "case.restriction_lifted",
        "need.added",
        "note.added",
        "need.updated",
        "consent.recorded",
        "consent.withdrawn",
        "api_token.created",
        "api_token.revoked",
        "partner.created",
        "partner.updated",
        "partner.imported",
        "partner.exported",
        "referral.created",
        "referral.viewed",
        "referral.printed",
        "referral.exported",
        "partner.attached",
        "outreach.created",
        "outreach.updated",
        "outreach.deleted",
        "outreach.imported",
        "plan.created",
        "plan.updated",
        "report.viewed",
        "report.exported",
        "report.figures_rebuilt",
        "audit.viewed",
        "audit.exported",
        "audit.checkpoint",
        "access.denied",
        "key.initialized",
        "key.rotated",
        "key.retired",
        "breakglass.opened",
        "demo.seeded",
    }
)

# referral.<status> for every FHIR Task status the referral module uses.
_REFERRAL_STATUS = re.compile(
    r"^referral\.(draft|requested|accepted|rejected|cancelled|in-progress|on-hold|completed"
    r"|failed|entered-in-error)$"
)

# Details carry counts, field names and codes; never values of identifying fields.
DETAIL_KEYS = frozenset(
    {
        "changed_fields",
        "count",
        "rows",
        "filters",
        "format",
        "from_status",
        "to_status",
        "reason_code",
        "purposes",
        "role",
        "old_role",
        "parent",
        "old_parent",
        "key_version",
        "old_key_version",
        "checkpoint",
        "endpoint",
        "withheld",
        "via",
        "limit",
        "period",
        "report",
        "category",
        "categories",
        "org_unit",
        "target",
        "path",
        "method",
        "expires_at",
        "recorded_by_caseworker",
        "shared_fields",
        "outcome",
        "partner_organization",
        "service",
        "status",
        "level",
    }
)


def is_known_action(action: str) -> bool:
    return action in ACTIONS or bool(_REFERRAL_STATUS.match(action))
