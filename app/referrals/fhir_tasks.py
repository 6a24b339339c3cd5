"""FHIR actions on referrals: export, read, and a partner system answering through its Task.

A partner's system changes a Task (PUT of the whole Task, or a JSON Patch) and this module turns
the change into the one `services.transition` the partner's portal calls, so the API and the
portal share the transition table, the consent checks, the history and the audit. Only
`status`, `statusReason`, `businessStatus` and `output` (with its contained Procedure) may
change; everything else a client sends must match what Cầu Nối holds.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError

from app.audit import services as audit
from app.i18n import LOCAL_TZ
from app.permissions import Actor
from app.referrals import fhir, services, sharing
from app.referrals.models import Referral
from app.referrals.status import CONNECTED_OUTCOMES, ReasonCode, ReferralStatus

# Elements a client may not change: compared by reference (or value) with ours.
FIXED_ELEMENTS = ("focus", "for", "owner", "requester", "intent", "code")
READERS = {
    "Task": fhir.task_resource,
    "ServiceRequest": fhir.service_request_resource,
    "Patient": fhir.patient_resource,
    "Procedure": fhir.procedure_resource,
}
# Reads that show what the client shared: audited as views of the referral.
AUDITED_READS = frozenset({"ServiceRequest", "Patient", "Procedure"})


class TaskUpdateError(Exception):
    """The request cannot be applied; `status` is the HTTP answer, `message` is bilingual."""

    def __init__(self, message, status: int = 400, code: str = "invalid", detail: str = ""):
        super().__init__(str(message))
        self.message = message
        self.status = status
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class TaskChange:
    status: ReferralStatus
    data: services.TransitionInput


def export_bundle(actor: Actor, referral: Referral, base: str) -> dict:
    """The caseworker's Bundle of a sent referral; audited as an export."""
    bundle = fhir.referral_bundle(referral, base)
    audit.record(actor, "referral.exported", referral, details={"format": "fhir-r4"})
    return bundle


def read_resource(actor: Actor, referral: Referral, kind: str) -> dict | None:
    """One resource of a sent referral; reads of what the client shared are audited."""
    resource = READERS[kind](referral)
    if resource is not None and kind in AUDITED_READS:
        audit.record(actor, "referral.viewed", referral, details={"via": f"fhir:{kind}"})
    return resource


def operation_outcome(message, code: str = "processing", detail: str = "") -> dict:
    """An OperationOutcome in Vietnamese, with its English translation (FHIR translation ext.)."""
    with force_locale("vi"):
        vi = str(message)
    with force_locale("en"):
        en = str(message)
    issue = {
        "severity": "error",
        "code": code,
        "details": {
            "text": vi,
            "_text": {
                "extension": [
                    {
                        "url": fhir.TRANSLATION_EXTENSION,
                        "extension": [
                            {"url": "lang", "valueCode": "en"},
                            {"url": "content", "valueString": en},
                        ],
                    }
                ]
            },
        },
        "diagnostics": f"{en} {detail}".strip(),
    }
    return {"resourceType": "OperationOutcome", "issue": [issue]}


# -- reading a client's Task -------------------------------------------------------------------


def _validate_task(body) -> None:
    from fhir.resources.R4B.task import Task

    if not isinstance(body, dict) or body.get("resourceType") != "Task":
        raise TaskUpdateError(_l("Nội dung gửi lên phải là một Task FHIR."), 400, "structure")
    try:
        Task.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise TaskUpdateError(
            _l("Task FHIR không hợp lệ."), 400, "structure", f"{where}: {first.get('msg', '')}"
        ) from None


def _same(ours, theirs) -> bool:
    if isinstance(ours, dict) and "reference" in ours:
        return isinstance(theirs, dict) and theirs.get("reference") == ours["reference"]
    return ours == theirs


def _coded(concept, allowed: set[str]) -> str | None:
    for coding in (concept or {}).get("coding", []):
        if coding.get("system") == fhir.REASON_SYSTEM and coding.get("code") in allowed:
            return coding["code"]
    return None


def _performed_on(procedure: dict) -> date | None:
    value = procedure.get("performedDateTime") or (procedure.get("performedPeriod") or {}).get(
        "end"
    )
    if not value:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(LOCAL_TZ).date() if moment.tzinfo else moment.date()


def _service_date(body: dict, referral: Referral) -> date | None:
    """The date of the Procedure the output points to (contained, or ours already)."""
    contained = {r.get("id"): r for r in body.get("contained", []) if isinstance(r, dict)}
    for output in body.get("output", []):
        if fhir.RESULTING_ACTIVITY not in (output.get("type") or {}).get("coding", []):
            continue
        ref = (output.get("valueReference") or {}).get("reference", "")
        if ref.startswith("#"):
            procedure = contained.get(ref[1:])
            if procedure is None or procedure.get("resourceType") != "Procedure":
                raise TaskUpdateError(
                    _l("Kết quả (output) phải trỏ tới một Procedure đi kèm."), 422, "invalid"
                )
            return _performed_on(procedure)
        if ref == f"Procedure/{referral.id}" and referral.completed_on:
            return referral.completed_on
    return None


def parse_task(referral: Referral, body) -> TaskChange:
    """What a client's Task asks of this referral, or TaskUpdateError."""
    _validate_task(body)
    if body.get("id") not in (None, str(referral.id)):
        raise TaskUpdateError(_l("Mã Task không khớp với địa chỉ."), 400, "invalid")
    ours = fhir.task_resource(referral)
    for element in FIXED_ELEMENTS:
        if element in body and not _same(ours.get(element), body[element]):
            raise TaskUpdateError(
                _l("Chỉ được thay đổi status, statusReason, businessStatus và output của Task."),
                422,
                "business-rule",
                element,
            )
    reason = _coded(body.get("statusReason"), {c.value for c in ReasonCode})
    outcome = _coded(body.get("businessStatus"), {c.value for c in CONNECTED_OUTCOMES})
    service_date = _service_date(body, referral)
    status = ReferralStatus(body["status"]) if body["status"] in set(ReferralStatus) else None
    if status is None:
        raise TaskUpdateError(
            _l("Trạng thái Task này không dùng cho chuyển gửi."), 422, "code-invalid"
        )
    if status is ReferralStatus.COMPLETED and outcome is None and service_date is not None:
        outcome = ReasonCode.SERVICE_RECEIVED.value  # a delivered Procedure: service received
    return TaskChange(
        status,
        services.TransitionInput(reason_code=reason, outcome=outcome, service_date=service_date),
    )


# -- JSON Patch (RFC 6902): the operations a Task update needs ---------------------------------


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise TaskUpdateError(_l("Bản vá JSON không hợp lệ."), 400, "structure", path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc, parts: list[str]):
    node = doc
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node, parts[-1]


def apply_json_patch(doc: dict, operations) -> dict:
    """add / replace / remove / test on a copy of `doc`; any bad operation refuses all."""
    if not isinstance(operations, list):
        raise TaskUpdateError(_l("Bản vá JSON không hợp lệ."), 400, "structure")
    doc = copy.deepcopy(doc)
    try:
        for op in operations:
            parent, key = _parent(doc, _pointer(op["path"]))
            kind = op["op"]
            if isinstance(parent, list):
                index = len(parent) if key == "-" else int(key)
                if kind == "add":
                    parent.insert(index, op["value"])
                elif kind == "replace":
                    parent[index] = op["value"]
                elif kind == "remove":
                    del parent[index]
                elif kind == "test" and parent[index] != op["value"]:
                    raise TaskUpdateError(_l("Bản vá JSON: điều kiện kiểm tra không đúng."), 409)
            elif kind in ("add", "replace"):
                if kind == "replace" and key not in parent:
                    raise KeyError(key)
                parent[key] = op["value"]
            elif kind == "remove":
                del parent[key]
            elif kind == "test":
                if parent.get(key) != op["value"]:
                    raise TaskUpdateError(_l("Bản vá JSON: điều kiện kiểm tra không đúng."), 409)
            else:
                raise KeyError(kind)
    except TaskUpdateError:
        raise
    except (KeyError, IndexError, ValueError, TypeError):
        raise TaskUpdateError(_l("Bản vá JSON không hợp lệ."), 400, "structure") from None
    return doc


# -- the update --------------------------------------------------------------------------------


def update_task(actor: Actor, referral: Referral, body, *, today: date | None = None) -> Referral:
    """A partner's system answers: the same transition, consent checks and audit as the portal."""
    if sharing.is_withdrawn(referral):
        raise TaskUpdateError(_l("Chuyển gửi này đã được rút lại."), 409, "conflict")
    change = parse_task(referral, body)
    if change.status == referral.status:
        if change.data.reason_code in (None, referral.reason_code):
            return referral  # nothing to change: the same Task sent again
        raise services.InvalidTransition(referral.status, change.status)
    return services.transition(actor, referral, change.status, change.data, today=today, via="fhir")


def patch_task(actor: Actor, referral: Referral, operations, *, today: date | None = None):
    """JSON Patch on the Task as Cầu Nối holds it, then the same update as a PUT."""
    body = apply_json_patch(fhir.task_resource(referral), operations)
    return update_task(actor, referral, body, today=today)
