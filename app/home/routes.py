from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from app.extensions import csrf, db
from app.followups.forms import TickForm
from app.permissions import ALL_ROLES, current_actor, public, roles_required
from app.web.security import same_site_path

bp = Blueprint("home", __name__, template_folder="templates")


@bp.get("/")
@public
def root():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    return redirect(url_for("auth.sign_in"))


@bp.get("/home")
@roles_required(*ALL_ROLES)
def index():
    from app.home.panels import card_runs, panels_for
    from app.home.today import today_for

    actor = current_actor()
    return render_template(
        "home/index.html",
        card_runs=card_runs(panels_for(actor)),
        today=today_for(actor),
        tick=TickForm(),
    )


@bp.post("/language")
@public
def set_language():
    lang = request.form.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(same_site_path(request.form.get("next")) or "/")


@bp.get("/health")
@public
@csrf.exempt
def health():
    db.session.execute(sa.text("SELECT 1"))
    db.session.rollback()
    return jsonify(status="ok")
