"""Admins: the staff in post of each unit, per plan (the denominator of the staff-trained rate)."""

from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.home.panels import register_panel
from app.permissions import current_actor, roles_required
from app.reports import queries as report_queries
from app.training import permissions, queries
from app.training import staffing as in_post
from app.training.blueprint import bp
from app.training.forms import StaffingForm
from app.training.vocab import MAX_STAFF_IN_POST

_NUMBER = re.compile(r"[0-9]{1,7}")

register_panel(
    "training.staffing",
    _l("Số cán bộ tại chức"),
    _l("Nhập số cán bộ tại chức của từng đơn vị theo kế hoạch, để tính tỷ lệ được tập huấn."),
    permissions.STAFFING_ROLES,
    order=61,
)


@bp.get("/staff")
@roles_required(*permissions.STAFFING_ROLES)
def staffing():
    return render_template(
        "training/staffing_plans.html", plans=report_queries.plans_in_scope(current_actor())
    )


def _read(units) -> tuple[dict[int, int | None], dict[int, str]]:
    """The posted number of each unit (empty: none), and the inputs that are not numbers."""
    values, errors = {}, {}
    for unit in units:
        text = (request.form.get(f"unit-{unit.id}") or "").strip()
        if not text:
            values[unit.id] = None
        elif _NUMBER.fullmatch(text) and int(text) <= MAX_STAFF_IN_POST:
            values[unit.id] = int(text)
        else:
            errors[unit.id] = _("Số cán bộ phải từ 0 đến %(max)s.", max=f"{MAX_STAFF_IN_POST:,}")
    return values, errors


@bp.route("/staff/<int:plan_id>", methods=["GET", "POST"])
@roles_required(*permissions.STAFFING_ROLES)
def staffing_plan(plan_id: int):
    actor = current_actor()
    plan = report_queries.get_plan_or_404(actor, plan_id)
    units = list(db.session.execute(queries.units_under(plan.org_unit.path)).scalars())
    form = StaffingForm()
    values = {uid: str(n) for uid, n in in_post.staff_in_post(plan).items()}
    errors: dict[int, str] = {}
    if form.validate_on_submit():
        numbers, errors = _read(units)
        if not errors:
            changed = in_post.set_staff_in_post(actor, plan, numbers)
            db.session.commit()
            flash(
                _("Đã lưu số cán bộ tại chức của %(n)d đơn vị.", n=len(changed))
                if changed
                else _("Không có gì thay đổi."),
                "success",
            )
            return redirect(url_for("training.staffing_plan", plan_id=plan.id))
        values = {u.id: (request.form.get(f"unit-{u.id}") or "").strip() for u in units}
    status = 400 if errors or form.is_submitted() else 200
    return render_template(
        "training/staffing.html",
        plan=plan,
        units=units,
        values=values,
        errors=errors,
        form=form,
        total=sum(int(v) for v in values.values() if _NUMBER.fullmatch(str(v))),
    ), status
