"""Training pages: the list, the session form and deleting a session. The Excel import and the
admins' staff-in-post page are in import_routes.py and staffing_routes.py, on this blueprint."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.home.panels import register_panel
from app.permissions import PermissionDenied, current_actor, deny, roles_required
from app.training import permissions, queries, services
from app.training.blueprint import bp
from app.training.forms import SPARE_HEADCOUNT_LINES, SessionForm
from app.training.models import TrainingSession
from app.training.vocab import FORMATS
from app.web.forms import DeleteForm
from app.web.params import int_arg, page_arg

PER_PAGE = 20

register_panel(
    "training.index",
    _l("Tập huấn cán bộ"),
    _l("Ghi các lớp tập huấn và người tham dự; nhập từ tệp Excel."),
    permissions.ENTRY_ROLES,
    order=55,
)


def _form(session: TrainingSession | None = None) -> SessionForm:
    """The form with its choices; on GET, filled from `session` with spare head-count lines."""
    actor = current_actor()
    form = SessionForm()
    if request.method == "GET":
        if session is not None:
            form.org_unit_id.data = session.org_unit_id
            form.held_on.data = session.held_on
            form.topic.data, form.organizer.data = session.topic, session.organizer
            form.format.data = session.format
            form.attendee_ids.data = sorted(a.user_id for a in session.attendees)
            for line in session.headcounts:
                form.headcounts.append_entry(
                    {
                        "org_unit_id": line.org_unit_id,
                        "officers": line.officers,
                        "volunteers": line.volunteers,
                    }
                )
        else:
            form.held_on.data = services.today()
            form.org_unit_id.data = actor.org_unit_id
        for _n in range(SPARE_HEADCOUNT_LINES):
            form.headcounts.append_entry()
    form.set_unit_choices(queries.units_in_scope(actor))
    return form


def _page(form: SessionForm, session=None, loose=(), status: int = 200):
    actor = current_actor()
    chosen = set(form.attendee_ids.data or [])
    # Accounts already on the session stay listed even once disabled, so that saving keeps them.
    staff = [
        u
        for u in queries.staff_in_scope(actor, enabled_only=False)
        if u.is_enabled or u.id in chosen
    ]
    return render_template(
        "training/form.html",
        form=form,
        session=session,
        staff=staff,
        chosen=chosen,
        loose_errors=list(loose),
        delete_form=DeleteForm() if session else None,
        today_iso=services.today().isoformat(),
        FORMATS=FORMATS,
    ), status


def _save(form: SessionForm, session: TrainingSession | None):
    """Shared POST path of new and edit: one service, one commit; (error page, None) when the
    entry is refused, else (None, whether anything was written)."""
    actor = current_actor()
    if not form.validate_on_submit():
        return _page(form, session, status=400), None
    try:
        if session is None:
            written = bool(services.create_session(actor, form.to_entry()))
        else:
            written = bool(services.update_session(actor, session, form.to_entry()))
    except services.InvalidEntry as exc:
        db.session.rollback()
        return _page(form, session, form.add_errors(exc.errors), 400), None
    except PermissionDenied:
        db.session.rollback()
        deny(actor, "training_session", str(session.id) if session else None, status=404)
    db.session.commit()
    return None, written


@bp.get("/")
@roles_required(*permissions.ENTRY_ROLES)
def index():
    actor = current_actor()
    year = int_arg("year", None, low=2000, high=2100)
    stmt = queries.visible_sessions(actor, year=year)
    page = db.paginate(stmt, page=page_arg(), per_page=PER_PAGE, error_out=False)
    return render_template(
        "training/list.html",
        page=page,
        year=year,
        FORMATS=FORMATS,
        may_set_staffing=actor.has_role(*permissions.STAFFING_ROLES),
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*permissions.ENTRY_ROLES)
def new():
    form = _form()
    if request.method == "GET":
        return _page(form)
    refused, _written = _save(form, None)
    if refused is not None:
        return refused
    flash(_("Đã ghi lớp tập huấn."), "success")
    return redirect(url_for("training.index"))


@bp.route("/<int:session_id>/edit", methods=["GET", "POST"])
@roles_required(*permissions.ENTRY_ROLES)
def edit(session_id: int):
    session = queries.get_session_or_404(current_actor(), session_id)
    form = _form(session)
    if request.method == "GET":
        return _page(form, session)
    refused, written = _save(form, session)
    if refused is not None:
        return refused
    flash(_("Đã lưu thay đổi.") if written else _("Không có gì thay đổi."), "success")
    return redirect(url_for("training.index"))


@bp.post("/<int:session_id>/delete")
@roles_required(*permissions.ENTRY_ROLES)
def delete(session_id: int):
    actor = current_actor()
    session = queries.get_session_or_404(actor, session_id)
    if not DeleteForm().validate_on_submit():
        return redirect(url_for("training.edit", session_id=session.id))
    services.delete_session(actor, session)
    db.session.commit()
    flash(_("Đã xoá lớp tập huấn."), "success")
    return redirect(url_for("training.index"))


# The blueprint's other pages register on it when imported; the app registers `bp` from here.
from app.training import import_routes, staffing_routes  # noqa: E402, F401
