"""Pages of the HSDS exchange beside the directory: the taxonomy mapping, the official shapes."""

from __future__ import annotations

import json
import uuid

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.categories import category_choices
from app.extensions import db
from app.permissions import current_actor, roles_required
from app.referrals import hsds_export, hsds_taxonomy
from app.referrals import permissions as perms
from app.referrals.models import TaxonomyMapping

bp = Blueprint("hsds", __name__, url_prefix="/partners")
MANAGERS = perms.DIRECTORY_MANAGERS


@bp.get("/taxonomy")
@roles_required(*MANAGERS)
def taxonomy():
    return render_template(
        "referrals/taxonomy.html",
        mappings=hsds_taxonomy.mappings(),
        unclassified=hsds_taxonomy.unclassified_services(),
        categories=category_choices(),
    )


@bp.post("/taxonomy/<int:mapping_id>")
@roles_required(*MANAGERS)
def map_term(mapping_id: int):
    mapping = db.session.get(TaxonomyMapping, mapping_id) or abort(404)
    value = request.form.get("category", "")
    if value and value not in {v for v, _label in category_choices()}:
        flash(_("Nhóm hỗ trợ không hợp lệ."), "error")
        return redirect(url_for("hsds.taxonomy")), 303
    changed = hsds_taxonomy.map_term(current_actor(), mapping, value or None)
    db.session.commit()
    flash(_("Đã lưu. %(n)d dịch vụ được phân loại lại.", n=len(changed)), "success")
    return redirect(url_for("hsds.taxonomy"))


@bp.get("/hsds/<kind>/<object_id>.json")
@roles_required(*MANAGERS)
def official_shape(kind: str, object_id: str):
    """One object in the official nested shape of the HSDS API (as the example files are)."""
    if kind not in hsds_export.SHAPES:
        abort(404)
    try:
        key = uuid.UUID(object_id)
    except ValueError:
        abort(404)
    model, shape = hsds_export.SHAPES[kind]
    obj = db.session.get(model, key) or abort(404)
    body = hsds_export.export_object(current_actor(), kind, obj, shape)
    db.session.commit()
    return Response(
        json.dumps(body, ensure_ascii=False, indent=1),
        mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename={kind}-{key}.json"},
    )
