"""Job functions for the job-engine tests: each leaves a trace a test can look for."""

from __future__ import annotations

from app.extensions import db
from app.orgs.models import OrgLevel, OrgUnit


def add_unit(code: str) -> str:
    """Insert an org unit named by `code` (the runner commits it)."""
    unit = OrgUnit(code=code, name=f"Job {code}", level=OrgLevel.PROVINCE, path="")
    db.session.add(unit)
    db.session.flush()
    unit.path = f"/{unit.id}/"
    return code


def fail(code: str) -> None:
    """Insert, then raise: the runner must roll the insert back."""
    add_unit(code)
    raise RuntimeError("job failed on purpose")
