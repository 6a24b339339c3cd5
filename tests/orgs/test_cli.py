from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.auth.passwords import verify_password
from app.extensions import db
from app.orgs.models import OrgUnit, User
from tests.conftest import audit_actions
from tests.orgs.conftest import NEW_PASSWORD, count, details, events, unit, user

HEADER = "code,name,level,parent_code\n"


@pytest.fixture
def runner(app):
    # Click 8.2+: result.output holds what went to stdout and stderr, in order.
    return app.test_cli_runner()


def _write(tmp_path, text: str, *, bom: bool = False, name: str = "units.csv"):
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return str(path)


# ---------------------------------------------------------------- import


def test_import_with_bom_vietnamese_names_and_parents_in_file_or_database(runner, world, tmp_path):
    csv = HEADER + (
        "38,Tỉnh Hà Nam,province,\n"
        "38-1,Huyện Bình Lục,district,38\n"
        '38-1-1,"Xã An Nội, Bình Lục",commune,38-1\n'
        "\n"
        "38-2,Phường Châu Sơn,ward,38\n"
        "37-A9,Xã Đông Sơn,commune,37-A\n"
    )
    result = runner.invoke(args=["orgs", "import", _write(tmp_path, csv, bom=True)])
    assert result.exit_code == 0, result.output
    assert "Đã nhập 5 đơn vị." in result.output
    province, district, commune = unit("38"), unit("38-1"), unit("38-1-1")
    assert commune.name == "Xã An Nội, Bình Lục"
    assert commune.path == f"/{province.id}/{district.id}/{commune.id}/"
    assert unit("38-2").path == f"/{province.id}/{unit('38-2').id}/"
    assert unit("37-A9").path.startswith(world.district_a.path)
    (event,) = events("org.imported")
    assert details(event) == {"count": 5, "via": "csv"}
    assert "org.created" not in audit_actions()


def test_import_is_all_or_nothing_with_line_numbers(runner, world, tmp_path):
    csv = HEADER + (
        "38,Tỉnh Hà Nam,province,\n"  # line 2: fine
        "38,Tỉnh Trùng,province,\n"  # 3: duplicate in file
        "37-A,Huyện Đã Có,district,38\n"  # 4: already in the database
        "38-1,Huyện,town,38\n"  # 5: bad level
        "38-2,,district,38\n"  # 6: empty name
        "38-3,Xã Lạc,commune,99\n"  # 7: unknown parent
        "38-4,Huyện Lạ,district,38-5\n"  # 8: parent only later in the file
        "38-5,Huyện Sau,district,38\n"  # 9: fine
        "38-6,Xã Dưới Xã,commune,37-A1\n"  # 10: commune under commune
        "38-7,Huyện Mồ Côi,district,\n"  # 11: district at the top
        "38-8,Xã,commune\n"  # 12: missing column
    )
    before = count(OrgUnit)
    result = runner.invoke(args=["orgs", "import", _write(tmp_path, csv)])
    assert result.exit_code == 1
    out = result.output
    expected = {
        3: "trùng với dòng 2",
        4: "đã có trong hệ thống",
        5: "Cấp đơn vị không hợp lệ",
        6: "Tên đơn vị không được để trống",
        7: "Không tìm thấy đơn vị cấp trên có mã 99",
        8: "nằm ở dòng 9",
        10: "cấp xã không thể trực thuộc đơn vị cấp xã",
        11: "Chỉ Trung ương và tỉnh/thành phố",
        12: "cần 4 cột",
    }
    for line, message in expected.items():
        assert any(ln.startswith(f"Dòng {line}:") and message in ln for ln in out.splitlines()), (
            line,
            out,
        )
    assert "Dòng 2:" not in out and "Dòng 9:" not in out
    assert "Không nhập gì" in out
    assert count(OrgUnit) == before
    assert "org.imported" not in audit_actions()


def test_import_refuses_a_file_that_is_not_utf8(runner, world, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(HEADER.encode() + "38,Tỉnh Hà Nam,province,\n".encode("utf-16-le"))
    result = runner.invoke(args=["orgs", "import", str(path)])
    assert result.exit_code == 1
    assert "Dòng 2:" in result.output
    assert unit("38") is None


def test_import_refuses_a_wrong_header(runner, world, tmp_path):
    result = runner.invoke(args=["orgs", "import", _write(tmp_path, "ma,ten\n38,Tỉnh\n")])
    assert result.exit_code == 1
    assert "Dòng 1:" in result.output


def test_large_import_shows_progress(runner, world, tmp_path):
    lines = ["38,Tỉnh Lớn,province,"] + [f"38-{n},Xã Số {n},commune,38" for n in range(600)]
    result = runner.invoke(args=["orgs", "import", _write(tmp_path, HEADER + "\n".join(lines))])
    assert result.exit_code == 0, result.output
    assert "Đang nhập" in result.output
    assert "Đã nhập 601 đơn vị." in result.output
    province = unit("38")
    under = db.session.scalar(
        sa.select(sa.func.count()).where(OrgUnit.path.startswith(province.path))
    )
    assert under == 601


# ---------------------------------------------------------------- official list


def test_load_official_ninh_binh(runner, world):
    result = runner.invoke(args=["orgs", "load-official", "--province", "37"])
    assert result.exit_code == 0, result.output
    assert "Đã nhập 129 đơn vị." in result.output
    direct = list(
        db.session.execute(
            sa.select(OrgUnit).where(
                OrgUnit.parent_id == world.province.id, OrgUnit.level.in_(["commune", "ward"])
            )
        ).scalars()
    )
    assert len(direct) == 129
    assert all(u.path == f"{world.province.path}{u.id}/" for u in direct)
    assert {u.level for u in direct} == {"commune", "ward"}
    assert all(len(u.code) == 5 and u.code.isdigit() for u in direct)
    assert any(u.name.startswith("Phường ") for u in direct)
    assert details(events("org.imported")[-1]) == {"count": 129, "via": "vietnam-provinces"}
    again = runner.invoke(args=["orgs", "load-official", "--province", "37"])
    assert again.exit_code == 0 and "Không có gì mới" in again.output
    assert len(events("org.imported")) == 1


def test_load_official_creates_the_province_when_missing(runner, world):
    result = runner.invoke(args=["orgs", "load-official", "--province", "1"])
    assert result.exit_code == 0, result.output
    hanoi = unit("01")
    assert hanoi.name == "Thành phố Hà Nội" and hanoi.level == "province"
    assert db.session.scalar(sa.select(sa.func.count()).where(OrgUnit.parent_id == hanoi.id)) > 100


def test_load_official_unknown_province(runner, world):
    result = runner.invoke(args=["orgs", "load-official", "--province", "99"])
    assert result.exit_code == 1
    assert unit("99") is None


# ---------------------------------------------------------------- users create


def test_users_create_prompts_twice_for_a_hidden_password(runner, world):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "First.Admin",
            "--role",
            "admin",
            "--org-unit",
            "37",
        ],
        input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output
    created = user("first.admin")
    assert created.role == "admin" and created.org_unit_id == world.province.id
    assert verify_password(created.password_hash, NEW_PASSWORD)
    event = events("user.created")[-1]
    assert event.actor_username == "cli" and event.actor_user_id is None


def test_users_create_reprompts_a_weak_password(runner, world):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "second",
            "--role",
            "volunteer",
            "--org-unit",
            "37-A1",
        ],
        input=f"short\nshort\n{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "12 ký tự" in result.output
    assert user("second") is not None


def test_users_create_reads_the_environment(runner, world, monkeypatch):
    help_text = runner.invoke(args=["users", "create", "--help"]).output
    assert "CAUNOI_NEW_USER_PASSWORD" in help_text
    monkeypatch.setenv("CAUNOI_NEW_USER_PASSWORD", NEW_PASSWORD)
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "scripted",
            "--role",
            "caseworker",
            "--org-unit",
            "37-B",
        ]
    )
    assert result.exit_code == 0, result.output
    assert verify_password(user("scripted").password_hash, NEW_PASSWORD)


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["--username", "weak", "--role", "admin", "--org-unit", "37"], "short", "12 ký tự"),
        (
            ["--username", "admin", "--role", "admin", "--org-unit", "37"],
            NEW_PASSWORD,
            "đã được dùng",
        ),
        (
            ["--username", "nobody", "--role", "admin", "--org-unit", "XX"],
            NEW_PASSWORD,
            "Không tìm thấy đơn vị",
        ),
    ],
)
def test_users_create_refusals(runner, world, monkeypatch, args, password, message):
    monkeypatch.setenv("CAUNOI_NEW_USER_PASSWORD", password)
    before = count(User)
    result = runner.invoke(args=["users", "create", *args])
    assert result.exit_code == 1
    assert message in result.output
    assert count(User) == before
    assert "user.created" not in audit_actions()
