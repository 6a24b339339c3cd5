"""Admin pages: the org-unit tree and user accounts."""

from __future__ import annotations

from contextlib import contextmanager

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp

from app.extensions import db
from app.home.panels import register_panel
from app.orgs import queries, services
from app.orgs.forms import (
    LEVEL_LABELS,
    NO_PARENT,
    ConfirmForm,
    MoveForm,
    OrgUnitForm,
    PasswordResetForm,
    RenameForm,
    RetireForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
    choices,
    role_choices,
)
from app.orgs.models import ALLOWED_PARENT_LEVELS, OrgLevel
from app.permissions import Role, current_actor, roles_required
from app.web.params import page_arg

bp = Blueprint("orgs", __name__, url_prefix="/admin", template_folder="templates")

register_panel(
    "orgs.org_units",
    _lp("list", "Đơn vị"),
    _l("Cây đơn vị: tỉnh, huyện, xã/phường; thêm, đổi tên, chuyển, ngừng hoạt động."),
    {Role.ADMIN},
    order=60,
)
register_panel(
    "orgs.users",
    _lp("list", "Người dùng"),
    _l("Tài khoản, vai trò và đơn vị; khoá tài khoản, đặt lại mật khẩu."),
    {Role.ADMIN},
    order=61,
)


def _show_error(form, error: services.OrgError) -> None:
    """Put a refused rule's message beside its field, or at the top of the page."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


@contextmanager
def _refusal_shown_on(form):
    """Run one service: a refused rule is shown on the form and the view goes on to re-render."""
    try:
        yield
    except services.OrgError as error:
        _show_error(form, error)


def _done(message: str, location: str):
    """The action went through: commit it (one transaction), say so, go back to the page."""
    db.session.commit()
    flash(message, "success")
    return redirect(location)


def _level_labels() -> dict[str, str]:
    return {level.value: str(label) for level, label in LEVEL_LABELS.items()}


def _status(form) -> int:
    return 400 if form.is_submitted() else 200


# ---------------------------------------------------------------- org units


# Past this many units the full tree is too heavy for a phone: show the provinces (under the
# central unit, if any), each opening its own subtree.
TREE_LIMIT = 400


@bp.get("/org-units")
@roles_required(Role.ADMIN)
def org_units():
    actor = current_actor()
    include_retired = request.args.get("retired") == "1"
    under_code = request.args.get("under")
    under = queries.get_org_unit_or_404(actor, under_code) if under_code else None
    rows = queries.org_tree(actor, include_retired=include_retired, under=under)
    total = len(rows)
    top = under is None or under.level == OrgLevel.CENTRAL
    collapsed = top and total > TREE_LIMIT
    if collapsed:
        rows = [row for row in rows if row.depth == 0 or row.unit.level == OrgLevel.PROVINCE]
    return render_template(
        "orgs/org_units.html",
        rows=rows,
        total=total,
        collapsed=collapsed,
        under=under,
        include_retired=include_retired,
        level_labels=_level_labels(),
    )


@bp.route("/org-units/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_org_unit():
    actor = current_actor()
    form = OrgUnitForm()
    form.parent.choices = choices(
        [(NO_PARENT, _("— Không có (cấp cao nhất) —")), *queries.unit_choices(actor)]
    )
    if not form.is_submitted():
        form.parent.data = request.args.get("parent", NO_PARENT)
    if form.validate_on_submit():
        parent = queries.find_org_unit(actor, form.parent.data) if form.parent.data else None
        with _refusal_shown_on(form):
            unit = services.create_org_unit(
                actor,
                code=form.code.data,
                name=form.name.data,
                level=form.level.data,
                parent=parent,
            )
            return _done(_("Đã thêm đơn vị."), url_for("orgs.org_unit", code=unit.code))
    return render_template("orgs/org_unit_new.html", form=form), _status(form)


def _unit_page(unit, *, rename=None, move=None, retire=None, status: int = 200):
    actor = current_actor()
    move = move or MoveForm(formdata=None)
    at_top = None in ALLOWED_PARENT_LEVELS[OrgLevel(unit.level)]
    top = [(NO_PARENT, _("— Không có (cấp cao nhất) —"))] if at_top else []
    move.parent.choices = choices(
        top + queries.unit_choices(actor, for_level=unit.level, exclude=unit)
    )
    children, users = queries.child_counts(unit)
    return render_template(
        "orgs/org_unit.html",
        unit=unit,
        level_labels=_level_labels(),
        children=children,
        users=users,
        rename=rename or RenameForm(formdata=None, name=unit.name),
        move=move,
        retire=retire or RetireForm(formdata=None),
    ), status


@bp.get("/org-units/<code>")
@roles_required(Role.ADMIN)
def org_unit(code: str):
    return _unit_page(queries.get_org_unit_or_404(current_actor(), code))


@bp.post("/org-units/<code>/rename")
@roles_required(Role.ADMIN)
def rename_org_unit(code: str):
    actor = current_actor()
    unit = queries.get_org_unit_or_404(actor, code)
    form = RenameForm()
    if form.validate_on_submit():
        with _refusal_shown_on(form):
            services.rename_org_unit(actor, unit, form.name.data)
            return _done(_("Đã đổi tên đơn vị."), url_for("orgs.org_unit", code=unit.code))
    return _unit_page(unit, rename=form, status=400)


@bp.post("/org-units/<code>/move")
@roles_required(Role.ADMIN)
def move_org_unit(code: str):
    actor = current_actor()
    unit = queries.get_org_unit_or_404(actor, code)
    form = MoveForm()
    # Any visible unit is accepted here: the service gives the precise refusal.
    form.parent.choices = choices([(NO_PARENT, ""), *queries.unit_choices(actor)])
    if form.validate_on_submit():
        parent = queries.find_org_unit(actor, form.parent.data) if form.parent.data else None
        with _refusal_shown_on(form):
            count = services.move_org_unit(actor, unit, parent)
            return _done(
                _("Đã chuyển đơn vị (cùng %(n)d đơn vị cấp dưới).", n=count - 1),
                url_for("orgs.org_unit", code=unit.code),
            )
    return _unit_page(unit, move=form, status=400)


@bp.post("/org-units/<code>/retire")
@roles_required(Role.ADMIN)
def retire_org_unit(code: str):
    actor = current_actor()
    unit = queries.get_org_unit_or_404(actor, code)
    form = RetireForm()
    if form.validate_on_submit():
        with _refusal_shown_on(form):
            services.retire_org_unit(actor, unit)
            return _done(_("Đơn vị đã ngừng hoạt động."), url_for("orgs.org_unit", code=unit.code))
    return _unit_page(unit, retire=form, status=400)


# ---------------------------------------------------------------- users


def _fill_user_choices(form) -> None:
    form.role.choices = role_choices()
    form.org_unit.choices = choices(queries.unit_choices(current_actor()))


@bp.get("/users")
@roles_required(Role.ADMIN)
def users():
    actor = current_actor()
    filters = UserFilterForm(request.args)
    filters.role.choices = [*choices([("", _("Mọi vai trò"))]), *role_choices()]
    filters.org_unit.choices = choices([("", _("Mọi đơn vị")), *queries.unit_choices(actor)])
    valid = filters.validate()
    role = filters.role.data if valid else None
    unit = (
        queries.find_org_unit(actor, filters.org_unit.data)
        if valid and filters.org_unit.data
        else None
    )
    page = queries.users_page(actor, role=role or None, org_unit=unit, page=page_arg())
    args = {k: v for k, v in (("role", role), ("org_unit", unit.code if unit else None)) if v}
    return render_template("orgs/users.html", filters=filters, page=page, args=args), (
        200 if valid else 400
    )


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_user():
    actor = current_actor()
    form = UserCreateForm()
    _fill_user_choices(form)
    if form.validate_on_submit():
        with _refusal_shown_on(form):
            user = services.create_user(
                actor,
                username=form.username.data,
                role=form.role.data,
                org_unit=queries.find_org_unit(actor, form.org_unit.data),
                password=form.password.data,
                display_name=form.display_name.data,
            )
            return _done(_("Đã tạo tài khoản."), url_for("orgs.user", user_id=user.id))
    return render_template("orgs/user_new.html", form=form), _status(form)


def _user_page(user, form=None, status: int = 200):
    if form is None:
        form = UserEditForm(
            formdata=None,
            display_name=user.display_name,
            role=user.role,
            org_unit=user.org_unit.code,
        )
    _fill_user_choices(form)
    if user.org_unit.is_retired:  # keep the current (retired) unit selectable as it is
        form.org_unit.choices += choices([(user.org_unit.code, user.org_unit.name)])
    return render_template("orgs/user.html", user=user, form=form, confirm=ConfirmForm()), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def user(user_id: int):
    actor = current_actor()
    user = queries.get_user_or_404(actor, user_id)
    if request.method == "GET":
        return _user_page(user)
    form = UserEditForm()
    _fill_user_choices(form)
    form.org_unit.choices += choices([(user.org_unit.code, user.org_unit.name)])
    if form.validate_on_submit():
        with _refusal_shown_on(form):
            changed = services.update_user(
                actor,
                user,
                display_name=form.display_name.data,
                role=form.role.data,
                org_unit=queries.find_org_unit(actor, form.org_unit.data),
            )
            return _done(
                _("Đã lưu thay đổi.") if changed else _("Không có gì thay đổi."),
                url_for("orgs.user", user_id=user.id),
            )
    return _user_page(user, form, status=400)


def _account_action(user_id: int, action, done: str):
    actor = current_actor()
    user = queries.get_user_or_404(actor, user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("Yêu cầu không hợp lệ. Vui lòng thử lại."), "error")
        return _user_page(user, status=400)
    with _refusal_shown_on(form):  # no field of its own: the refusal is flashed
        action(actor, user)
        return _done(done, url_for("orgs.user", user_id=user.id))
    return _user_page(user, status=400)


@bp.post("/users/<int:user_id>/disable")
@roles_required(Role.ADMIN)
def disable_user(user_id: int):
    return _account_action(
        user_id,
        services.disable_user,
        _("Đã khoá tài khoản; mọi phiên đăng nhập và mã truy cập API của tài khoản đã bị thu hồi."),
    )


@bp.post("/users/<int:user_id>/enable")
@roles_required(Role.ADMIN)
def enable_user(user_id: int):
    return _account_action(user_id, services.enable_user, _("Đã mở khoá tài khoản."))


@bp.post("/users/<int:user_id>/reset-mfa")
@roles_required(Role.ADMIN)
def reset_mfa(user_id: int):
    from app.auth.services import reset_mfa as reset_second_factor

    return _account_action(
        user_id,
        reset_second_factor,
        _("Đã tắt xác thực hai bước; người dùng sẽ đăng ký lại ở lần đăng nhập tới."),
    )


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def reset_password(user_id: int):
    actor = current_actor()
    user = queries.get_user_or_404(actor, user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        with _refusal_shown_on(form):
            services.reset_password(actor, user, form.password.data)
            return _done(
                _(
                    "Đã đặt mật khẩu tạm thời; các phiên đăng nhập của tài khoản đã kết thúc. "
                    "Hãy trao mật khẩu trực tiếp cho người dùng."
                ),
                url_for("orgs.user", user_id=user.id),
            )
    return render_template("orgs/user_password.html", user=user, form=form), _status(form)
