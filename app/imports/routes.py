"""The progress page of an import: only the user who started it may open it."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.imports import services
from app.permissions import Role, current_actor, not_found, roles_required

bp = Blueprint("imports", __name__, url_prefix="/imports", template_folder="templates")


@bp.get("/<int:run_id>")
@roles_required(*Role)
def progress(run_id: int):
    actor = current_actor()
    run = services.run_for(actor, run_id)
    if run is None:
        not_found(actor, "import", str(run_id))
    kind = services.kind_of(run)
    return render_template("imports/progress.html", run=run, done_endpoint=kind.done_endpoint)
