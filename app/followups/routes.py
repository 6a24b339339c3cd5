"""The case's plan page (follow-ups and a goal per need), and ticking a follow-up."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.cases import queries as case_queries
from app.cases.models import Need
from app.categories import category_label
from app.extensions import db
from app.followups import permissions, queries, services
from app.followups.forms import FollowUpForm, GoalForm, TickForm
from app.permissions import Actor, PermissionDenied, Role, current_actor, deny, roles_required
from app.referrals import queries as referral_queries
from app.referrals.status import local_today, status_label
from app.web.security import same_site_path

bp = Blueprint("followups", __name__, template_folder="templates")


def _case_for_planning(actor: Actor, code: str):
    case = case_queries.get_case_or_404(actor, code)
    if not permissions.can_plan(actor, case):
        deny(actor, "case", case.code)
    return case


def _followup_form(actor: Actor, case) -> FollowUpForm:
    form = FollowUpForm(prefix="f")
    users = case_queries.assignable_users(actor, case)
    form.assignee_id.choices = [(u.id, u.display_name or u.username) for u in users]
    referrals = referral_queries.case_referrals(case)
    form.referral_id.choices = [(0, "—")] + [
        (r.id, f"#{r.id} · {status_label(r.status)}") for r in referrals
    ]
    if not form.is_submitted():
        form.assignee_id.data = actor.user_id
    return form


def _render(case, followup_form=None, goal_forms=None, status=200):
    actor = current_actor()
    goals = queries.case_goals(case)
    goal_forms = goal_forms or {}
    needs = [n for n in case.needs]
    for need in needs:
        if need.id not in goal_forms:
            form = GoalForm(prefix=f"g{need.id}", formdata=None)
            if need.id in goals:
                text, review = services.read_goal(goals[need.id], case)
                form.goal.data, form.review_note.data = text, review
                form.target_on.data = goals[need.id].target_on
            goal_forms[need.id] = form
    followups = queries.case_followups(case)
    return render_template(
        "followups/plan.html",
        case=case,
        needs=needs,
        goals=goals,
        goal_forms=goal_forms,
        form=followup_form or _followup_form(actor, case),
        followups=followups,
        task_of=services.read_task,
        tick=TickForm(),
        category_label=category_label,
        today=local_today(),
    ), status


@bp.get("/cases/<code>/plan")
@roles_required(Role.CASEWORKER)
def plan(code: str):
    return _render(_case_for_planning(current_actor(), code))


@bp.post("/cases/<code>/followups")
@roles_required(Role.CASEWORKER)
def add(code: str):
    actor = current_actor()
    case = _case_for_planning(actor, code)
    form = _followup_form(actor, case)
    if not form.validate_on_submit():
        return _render(case, followup_form=form, status=400)
    referral = None
    if form.referral_id.data:
        referral = next(
            (r for r in referral_queries.case_referrals(case) if r.id == form.referral_id.data),
            None,
        )
        if referral is None:
            form.referral_id.errors.append(_("Chuyển gửi không thuộc hồ sơ này."))
            return _render(case, followup_form=form, status=400)
    try:
        services.add_followup(
            actor,
            case,
            due_on=form.due_on.data,
            task=form.task.data or "",
            assignee_id=form.assignee_id.data,
            referral=referral,
            today=local_today(),
        )
    except services.FollowUpError as exc:
        getattr(form, exc.field).errors.append(exc.message)
        return _render(case, followup_form=form, status=400)
    db.session.commit()
    flash(_("Đã thêm việc theo dõi."), "success")
    return redirect(url_for("followups.plan", code=case.code))


@bp.post("/cases/<code>/plan/<int:need_id>")
@roles_required(Role.CASEWORKER)
def set_goal(code: str, need_id: int):
    actor = current_actor()
    case = _case_for_planning(actor, code)
    need = db.session.get(Need, need_id)
    if need is None or need.case_id != case.id:
        abort(404)
    form = GoalForm(prefix=f"g{need.id}")
    if not form.validate_on_submit():
        return _render(case, goal_forms={need.id: form}, status=400)
    try:
        services.set_goal(
            actor,
            case,
            need,
            goal=form.goal.data or "",
            target_on=form.target_on.data,
            review_note=form.review_note.data or "",
        )
    except services.FollowUpError as exc:
        getattr(form, exc.field).errors.append(exc.message)
        return _render(case, goal_forms={need.id: form}, status=400)
    db.session.commit()
    flash(_("Đã lưu kế hoạch cho nhu cầu này."), "success")
    return redirect(url_for("followups.plan", code=case.code))


@bp.post("/followups/<int:followup_id>/done")
@roles_required(Role.CASEWORKER, Role.VOLUNTEER)
def done(followup_id: int):
    return _tick(followup_id, True)


@bp.post("/followups/<int:followup_id>/reopen")
@roles_required(Role.CASEWORKER, Role.VOLUNTEER)
def reopen(followup_id: int):
    return _tick(followup_id, False)


def _tick(followup_id: int, is_done: bool):
    actor = current_actor()
    followup, in_scope = queries.get_followup_or_404(actor, followup_id)
    if not TickForm().validate_on_submit():
        abort(400)
    try:
        services.set_done(actor, followup, is_done, in_scope)
    except PermissionDenied:
        deny(actor, "followup", str(followup.id))
    db.session.commit()
    flash(_("Đã cập nhật việc theo dõi."), "success")
    back = same_site_path(request.form.get("next"))
    return redirect(back or url_for("home.index"))
