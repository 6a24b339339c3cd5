"""A case's whole "who viewed or changed it" history, a page at a time (the case page shows only
the newest entries). Part of the cases blueprint."""

from __future__ import annotations

from flask import render_template

from app.cases import queries, services
from app.cases.blueprint import bp
from app.cases.case_pages import load_case
from app.extensions import db
from app.permissions import ALL_ROLES, current_actor, roles_required
from app.web.params import int_arg

HISTORY_PAGE = 50
MAX_EVENT_SEQ = 2**63 - 1  # audit event numbers are BIGINT on PostgreSQL


@bp.get("/cases/<code>/access-history")
@roles_required(*ALL_ROLES)
def access_history(code: str):
    actor = current_actor()
    case = load_case(code)  # out of scope: 404, as the case page
    before = int_arg("before", high=MAX_EVENT_SEQ)
    services.record_history_view(actor, case)
    # Keyset on the event number: views recorded while she reads do not shift older pages.
    entries = queries.case_access_history(case.code, limit=HISTORY_PAGE + 1, before=before)
    code = case.code  # the commit expires the case
    db.session.commit()
    shown = entries[:HISTORY_PAGE]
    older = shown[-1].seq if len(entries) > HISTORY_PAGE else None
    return render_template(
        "cases/access_history.html", code=code, entries=shown, older=older, paged=before
    )
