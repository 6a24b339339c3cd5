"""Notification pages: the inbox, opening and reading, the settings, the dead-letter list."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.auth.sessions import read_with_session, session_read
from app.extensions import db
from app.home.panels import register_panel
from app.notifications import kinds, preferences, queries, services
from app.notifications.forms import CHANNEL_LABELS, ActionForm, SettingsForm
from app.notifications.outbox import enabled_channels
from app.permissions import ALL_ROLES, Role, current_actor, roles_required
from app.web.forms import choices
from app.web.security import same_site_path

bp = Blueprint("notifications", __name__, template_folder="templates")

register_panel(
    "notifications.settings",
    _l("Cài đặt thông báo"),
    _l("Chọn nhận thông báo qua e-mail, SMS hoặc Zalo, giờ yên lặng và bản tóm tắt buổi sáng."),
    {Role.PARTNER, Role.CASEWORKER, Role.VOLUNTEER},
    order=88,
)
register_panel(
    "notifications.dead_letters",
    _l("Thông báo không gửi được"),
    _l("Các thông báo đã ngừng gửi sau nhiều lần thử; gửi lại khi máy chủ thư hoặc SMS đã ổn."),
    {Role.ADMIN},
    order=89,
)


UNREAD = "unread_notifications"
read_with_session(UNREAD, queries.unread_of)


@bp.before_app_request
def count_unread():
    """The bell's number, read inside the page's transaction: pages render after their commit
    and must not query again (cases list). Whatever the method: a POST that answers with a page
    (a search) shows the bell too, and the session lookup has read it already; GET pages count
    it here when the lookup did not (not the API or static files)."""
    if request.path.startswith(("/static/", "/api/")) or not current_user.is_authenticated:
        return
    unread = session_read(current_user, UNREAD)
    if unread is not None:
        g.unread_notifications = unread
    elif request.method == "GET":
        g.unread_notifications = queries.unread_count(current_actor())


@bp.app_context_processor
def inject_unread_count():
    # A callable: only base.html's bell asks, on signed-in pages.
    def unread() -> int:
        if "unread_notifications" not in g:
            g.unread_notifications = queries.unread_count(current_actor())
        return g.unread_notifications

    return {"unread_notifications": unread}


@bp.get("/notifications")
@roles_required(*ALL_ROLES)
def inbox():
    actor = current_actor()
    return render_template(
        "notifications/inbox.html",
        notifications=queries.inbox(actor),
        text=kinds.inbox_text,
        form=ActionForm(),
    )


@bp.get("/notifications/<int:notification_id>/open")
@roles_required(*ALL_ROLES)
def open_(notification_id: int):
    """The link in every outside message: mark read, then go to the page it is about."""
    actor = current_actor()
    note = queries.get_own_or_404(actor, notification_id)
    services.mark_read(actor, note)
    db.session.commit()
    return redirect(same_site_path(note.link) or url_for("notifications.inbox"))


@bp.post("/notifications/<int:notification_id>/read")
@roles_required(*ALL_ROLES)
def read(notification_id: int):
    actor = current_actor()
    note = queries.get_own_or_404(actor, notification_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.mark_read(actor, note)
    db.session.commit()
    return redirect(url_for("notifications.inbox"))


@bp.post("/notifications/read-all")
@roles_required(*ALL_ROLES)
def read_all():
    if not ActionForm().validate_on_submit():
        abort(400)
    services.mark_all_read(current_actor())
    db.session.commit()
    flash(_("Đã đánh dấu tất cả là đã đọc."), "success")
    return redirect(url_for("notifications.inbox"))


def _settings_form(actor, row) -> SettingsForm:
    form = SettingsForm()
    offered = [c for c in CHANNEL_LABELS if c in enabled_channels()]
    form.channels.choices = choices((c.value, CHANNEL_LABELS[c]) for c in offered)
    role_kinds = kinds.ROLE_KINDS.get(actor.role, ())
    form.kinds.choices = choices((k.value, kinds.KIND_LABELS[k]) for k in role_kinds)
    if not form.is_submitted():
        current = preferences.effective(row, actor.user_id, actor.role)
        form.channels.data = [c for c in current.channels if c in enabled_channels()]
        form.kinds.data = [k.value for k in role_kinds if k.value not in current.muted_kinds]
        form.quiet_start.data, form.quiet_end.data = current.quiet_start, current.quiet_end
        form.wants_digest.data = current.wants_digest
        form.email.data = (preferences.contact(row, "email") if row else None) or ""
        form.phone.data = (preferences.contact(row, "phone") if row else None) or ""
    return form


@bp.route("/notifications/settings", methods=["GET", "POST"])
@roles_required(Role.PARTNER, Role.CASEWORKER, Role.VOLUNTEER)
def settings():
    actor = current_actor()
    row = queries.settings_row(actor.user_id)
    form = _settings_form(actor, row)
    if form.validate_on_submit():
        role_kinds = [k.value for k in kinds.ROLE_KINDS.get(actor.role, ())]
        data = services.SettingsInput(
            channels=tuple(form.channels.data or ()),
            muted_kinds=tuple(k for k in role_kinds if k not in (form.kinds.data or ())),
            quiet_start=form.quiet_start.data,
            quiet_end=form.quiet_end.data,
            wants_digest=form.wants_digest.data,
            email=form.email.data or "",
            phone=form.phone.data or "",
        )
        try:
            services.save_settings(actor, data)
        except services.SettingsError as exc:
            getattr(form, exc.field).errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Đã lưu cài đặt thông báo."), "success")
            return redirect(url_for("notifications.settings"))
    status = 400 if form.is_submitted() else 200
    return render_template("notifications/settings.html", form=form, row=row), status


@bp.get("/admin/notifications/dead")
@roles_required(Role.ADMIN)
def dead_letters():
    return render_template(
        "notifications/dead_letters.html",
        deliveries=queries.dead_letters(),
        counts=queries.counts_by_status(),
        form=ActionForm(),
        labels=kinds.KIND_LABELS,
    )


@bp.post("/admin/notifications/dead/<int:delivery_id>/retry")
@roles_required(Role.ADMIN)
def retry(delivery_id: int):
    actor = current_actor()
    delivery = queries.get_dead_or_404(actor, delivery_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.retry_delivery(actor, delivery)
    except services.SettingsError as exc:
        flash(exc.message, "error")
        return redirect(url_for("notifications.dead_letters"))
    db.session.commit()
    flash(_("Đã đưa thông báo vào hàng gửi lại."), "success")
    return redirect(url_for("notifications.dead_letters"))
