"""A case's "who viewed or changed it": the newest on the case page, all of it a page at a time."""

from __future__ import annotations

import re

import pytest

from app.audit import services as audit
from app.cases.case_pages import HISTORY_ON_CASE_PAGE
from app.cases.history_routes import HISTORY_PAGE
from app.extensions import db
from app.permissions import Actor
from tests.conftest import audit_actions


def _viewed_by(case, names: list[str]) -> None:
    """One audited view of the case per name, in that order (the last is the newest)."""
    for name in names:
        audit.record(Actor.system(name), "case.viewed", case, details={"via": "page"})
    db.session.commit()


def _probes(body: str) -> list[str]:
    return re.findall(r"probe-\d+", body)


def _history_url(case) -> str:
    return f"/cases/{case.code}/access-history"


def test_case_page_shows_only_the_newest_and_links_to_the_rest(client, world, login_as, case_a):
    names = [f"probe-{i}" for i in range(40)]
    _viewed_by(case_a, names)
    login_as(world.users["caseworker"])
    body = client.get(f"/cases/{case_a.code}").get_data(as_text=True)
    # The page is read before her view is recorded (without SQLite's write lock): the 20
    # newest views before hers.
    assert _probes(body) == names[::-1][:HISTORY_ON_CASE_PAGE]
    assert f'href="{_history_url(case_a)}"' in body
    assert "Xem toàn bộ lịch sử truy cập" in body


def test_no_link_while_the_history_fits_on_the_case_page(client, world, login_as, case_a):
    login_as(world.users["caseworker"])
    body = client.get(f"/cases/{case_a.code}").get_data(as_text=True)
    assert "Mở hồ sơ" in body and _history_url(case_a) not in body


def test_history_pages_show_every_entry_once_while_views_are_added(client, world, login_as, case_a):
    names = [f"probe-{i}" for i in range(2 * HISTORY_PAGE + 7)]
    _viewed_by(case_a, names)
    login_as(world.users["caseworker"])
    url, seen, pages = _history_url(case_a), [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        seen += _probes(body)
        pages += 1
        # Views recorded between two pages are newer: they do not push older entries along.
        _viewed_by(case_a, [f"late-{pages}"])
        found = re.search(r'rel="next" href="([^"]+)"', body)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == names[::-1]
    assert pages == 3
    assert "late-" not in "".join(seen)


def test_each_history_page_is_audited_and_shown_in_the_history(client, world, login_as, case_a):
    login_as(world.users["caseworker"])
    before = audit_actions()
    body = client.get(_history_url(case_a)).get_data(as_text=True)
    assert audit_actions() == [*before, "case.history_viewed"]
    assert "Xem lịch sử truy cập hồ sơ" in body and "case.history_viewed" not in body
    assert "Lê Thị Mẫu" not in body  # who saw the case, never who she is


@pytest.mark.parametrize("bad", ["abc", "-1", "0", "1" * 25])
def test_a_malformed_cursor_is_refused_and_records_nothing(client, world, login_as, case_a, bad):
    login_as(world.users["caseworker"])
    before = audit_actions()
    assert client.get(f"{_history_url(case_a)}?before={bad}").status_code == 400
    assert audit_actions() == before


def test_whoever_cannot_open_the_case_gets_404_for_its_history(
    client, world, login_as, case_a, case_b
):
    # Every role of the world, for a case in and out of its scope: the history page answers as
    # the case page does (out of scope 404, never a hint that the case exists).
    for user in world.users.values():
        client.post("/auth/sign-out")
        login_as(user)
        for case in (case_a, case_b):
            page = client.get(f"/cases/{case.code}").status_code
            history = client.get(_history_url(case)).status_code
            assert history == page, (user.username, case.code, page, history)
    client.post("/auth/sign-out")
    login_as(world.users["caseworker_b"])
    before = audit_actions()
    assert client.get(_history_url(case_a)).status_code == 404
    assert client.get(f"{_history_url(case_a)}?before=5").status_code == 404
    assert "case.history_viewed" not in audit_actions()[len(before) :]


def test_signed_out_is_sent_to_sign_in(client, world, case_a):
    response = client.get(_history_url(case_a))
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


def test_history_page_in_english(client, world, login_as, case_a):
    _viewed_by(case_a, [f"probe-{i}" for i in range(HISTORY_PAGE + 1)])
    login_as(world.users["caseworker"])
    client.post("/language", data={"lang": "en", "next": "/cases/"})
    body = client.get(_history_url(case_a)).get_data(as_text=True)
    assert "Who viewed or changed this case" in body and "Older" in body
    assert "Case access history viewed" in body
