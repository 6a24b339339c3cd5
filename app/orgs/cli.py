"""`flask orgs import|load-official|add-central` and `flask users create`."""

from __future__ import annotations

import os

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app.auth.passwords import password_problems
from app.auth.services import normalize_username
from app.extensions import db
from app.imports.bounds import FileRefused, read_upload
from app.orgs import queries, services
from app.orgs.importing import LIMITS, read_org_csv
from app.permissions import Actor, Role

PASSWORD_ENV = "CAUNOI_NEW_USER_PASSWORD"  # noqa: S105  (the name of a variable)
PROGRESS_FROM = 500  # rows: smaller files import before a bar would be worth drawing

orgs_cli = AppGroup("orgs", help="Org units: import from CSV, load the official list.")
users_cli = AppGroup("users", help="User accounts.")


def _print_errors(errors: list[services.LineError]) -> None:
    for error in sorted(errors, key=lambda e: e.line):
        click.echo(f"Dòng {error.line}: {error.message}", err=True)


def _import(rows: list[services.ImportRow], via: str) -> int:
    actor = Actor.system("cli")
    if len(rows) < PROGRESS_FROM:
        return services.import_org_units(actor, rows, via=via)
    # Two passes: every line is checked, then every unit gets its path.
    with click.progressbar(length=2 * len(rows), label="Đang nhập") as bar:
        return services.import_org_units(actor, rows, via=via, tick=bar.update)


def _run_import(rows, shape_errors, via: str) -> int:
    if shape_errors:
        _print_errors(shape_errors + services.check_import(rows))
        raise click.ClickException("Không nhập gì: hãy sửa các dòng trên rồi chạy lại.")
    try:
        count = _import(rows, via)
    except services.ImportRefused as refused:
        db.session.rollback()
        _print_errors(refused.errors)
        raise click.ClickException(
            f"Không nhập gì: {len(refused.errors)} lỗi. Hãy sửa các dòng trên rồi chạy lại."
        ) from None
    db.session.commit()
    return count


@orgs_cli.command("import")
@click.argument("file", type=click.File("rb"))
def import_command(file):
    """Import org units from a UTF-8 CSV file with columns code, name, level, parent_code.

    level is one of central, province, district, commune, ward; parent_code is empty for the
    central unit and for a province at the top, and otherwise names a unit earlier in the file
    or already in the database. Every line is checked first: if any line is wrong, nothing is
    imported and each error is printed with its line.
    """
    try:
        data = read_upload(file, LIMITS)
    except FileRefused as exc:
        raise click.ClickException(str(exc)) from None
    rows, errors = read_org_csv(data)
    count = _run_import(rows, errors, via="csv")
    click.echo(f"Đã nhập {count} đơn vị.")


@orgs_cli.command("load-official")
@click.option("--province", "province", required=True, help="Official province code, e.g. 37.")
def load_official_command(province: str):
    """Load a province and its communes/wards from the official list (vietnam-provinces).

    The post-July-2025 structure: communes and wards directly under the province. Units whose
    code is already in the database are left unchanged, so running it twice adds nothing.
    """
    from app.orgs.official import UnknownProvince, official_rows

    try:
        rows = official_rows(province)
    except UnknownProvince:
        message = f"Không có tỉnh/thành phố mã {province} trong danh mục."
        raise click.ClickException(message) from None
    if not rows:
        click.echo("Không có gì mới: mọi đơn vị của tỉnh đã có trong hệ thống.")
        return
    count = _run_import(rows, [], via="vietnam-provinces")
    click.echo(f"Đã nhập {count} đơn vị.")


@orgs_cli.command("add-central")
@click.option("--code", required=True, help="Code of the central unit, e.g. TW.")
@click.option("--name", required=True, help="Name, e.g. Trung ương Hội LHPN Việt Nam.")
def add_central_command(code: str, name: str):
    """Create the central unit and move every active province at the top under it.

    For a provincial deployment that becomes national: one transaction, each move audited.
    Case codes, figures and users' scopes follow the provinces (they hold unit ids, not paths).
    """
    try:
        central, provinces = services.add_central_unit(Actor.system("cli"), code=code, name=name)
    except services.OrgError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    # Every path changed at once: PostgreSQL's statistics of the tree are stale until autovacuum
    # comes by, and until then it planned a subtree as one row (a province's list read the
    # whole tree for each case). Refreshed here, now.
    db.session.execute(sa.text("ANALYZE org_units"))
    db.session.commit()
    click.echo(
        f"Đã tạo đơn vị cấp Trung ương {central.code}, chuyển {len(provinces)} tỉnh/thành phố vào."
    )


def _password_from_prompt(username: str) -> str:
    for _attempt in range(3):
        password = click.prompt(
            "Mật khẩu", hide_input=True, confirmation_prompt="Nhập lại mật khẩu"
        )
        problems = password_problems(password, username)
        if not problems:
            return password
        for problem in problems:
            click.echo(problem, err=True)
    raise click.ClickException("Mật khẩu chưa đạt yêu cầu; chưa tạo tài khoản.")


@users_cli.command("create")
@click.option("--username", required=True, help="Username (stored in lower case).")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--org-unit", "org_unit_code", required=True, help="Official code of the org unit.")
@click.option("--display-name", default="", help="Name shown in the interface.")
def create_user_command(username: str, role: str, org_unit_code: str, display_name: str):
    """Create a user account (for example the first admin).

    The password is asked twice without being shown, or read from the environment variable
    CAUNOI_NEW_USER_PASSWORD when it is set (for scripts). It must meet the password policy.
    """
    actor = Actor.system("cli")
    unit = queries.find_org_unit(actor, org_unit_code.strip())
    if unit is None:
        raise click.ClickException(f"Không tìm thấy đơn vị có mã {org_unit_code}.")
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = _password_from_prompt(normalize_username(username))
    try:
        user = services.create_user(
            actor,
            username=username,
            role=role,
            org_unit=unit,
            password=password,
            display_name=display_name,
        )
    except services.OrgError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"Đã tạo tài khoản {user.username} ({user.role}, {unit.code}).")


commands = [orgs_cli, users_cli]
