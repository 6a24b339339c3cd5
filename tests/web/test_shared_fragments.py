"""Parts of every page rendered once and reused (app/web/fragments.py): each role, language and
mount point gets its own, the same HTML as rendering them every time, and nothing of one user
shows on another's page."""

from __future__ import annotations

import re

import flask_babel
import pytest

from app.home.panels import _PANELS
from app.notifications.kinds import Kind
from app.notifications.outbox import notify
from app.web.fragments import EXTENSION
from tests.conftest import sign_in

ROLES = ("caseworker", "supervisor", "volunteer", "partner", "auditor", "admin")
MOUNTS = ("", "/caunoi")


class NeverKeeps(dict):
    """A fragment store that forgets at once: every block is rendered anew."""

    def __setitem__(self, key, value):
        pass


@pytest.fixture(autouse=True)
def _fresh_g(fresh_g_per_request):
    """Each request chooses its language anew, as on a real server."""


@pytest.fixture
def clients(app, world):
    signed_in = {}
    for name in ROLES:
        client = app.test_client()
        assert sign_in(client, name).status_code == 302
        signed_in[name] = client
    return signed_in


def _page(client, path: str, lang: str, mount: str) -> str:
    with client.session_transaction() as session:
        session["lang"] = lang
    response = client.get(path, base_url=f"http://localhost{mount}/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # What may change between two renders of the same page: a fresh token, a second gone by.
    html = re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value=""', html)
    return re.sub(r'data-(idle|absolute)="\d+"', r'data-\1=""', html)


def _mainnav(html: str) -> str:
    return re.search(r'<nav class="mainnav".*?</nav>', html, re.S).group(0)


def test_every_role_language_and_mount_gets_the_page_rendered_every_time(app, clients, monkeypatch):
    # Interleaved, so that each combination follows one that filled the store with another.
    order = [(n, lang, m) for m in MOUNTS for lang in ("vi", "en") for n in ROLES]
    order += list(reversed(order))
    app.extensions[EXTENSION].clear()
    reused = {key: _page(clients[key[0]], "/home", key[1], key[2]) for key in order}
    monkeypatch.setitem(app.extensions, EXTENSION, NeverKeeps())
    for key in order:
        assert reused[key] == _page(clients[key[0]], "/home", key[1], key[2]), key


def test_each_role_sees_its_own_navigation(clients):
    caseworker = _mainnav(_page(clients["caseworker"], "/home", "vi", ""))
    supervisor = _mainnav(_page(clients["supervisor"], "/home", "vi", ""))
    assert 'href="/cases/"' in caseworker
    assert 'href="/cases/"' not in supervisor
    assert 'href="/reports/"' in supervisor
    assert _mainnav(_page(clients["caseworker"], "/home", "vi", "")) == caseworker


def test_each_language_and_mount_point_has_its_own_links_and_words(clients):
    client = clients["caseworker"]
    vi = _mainnav(_page(client, "/home", "vi", ""))
    en = _mainnav(_page(client, "/home", "en", ""))
    mounted = _page(client, "/home", "en", "/caunoi")
    assert ">Trang chủ</a>" in vi and ">Home</a>" in en
    assert 'href="/home"' in en and 'href="/caunoi/home"' in _mainnav(mounted)
    assert not re.search(r'(href|src|action|data-[a-z-]+)="/(?!caunoi/)', mounted)
    assert "/caunoi/" not in _page(client, "/home", "en", "")


def test_her_own_name_and_count_on_every_page(app, world, clients):
    other = app.test_client()
    assert sign_in(other, "caseworker_b").status_code == 302
    notify([world.users["caseworker"]], Kind.CASE_ASSIGNED, link="/cases/", params={})
    from app.extensions import db

    db.session.commit()
    mine = _page(clients["caseworker"], "/account/api-tokens", "vi", "")
    theirs = _page(other, "/account/api-tokens", "vi", "")
    assert 'name="username" value="caseworker"' in mine
    assert 'name="username" value="caseworker_b"' in theirs
    assert 'data-count="1"' in mine and 'data-count="0"' in theirs


def test_signed_out_pages_have_no_menu_and_signed_in_pages_do(app, clients):
    signed_in = _page(clients["admin"], "/home", "vi", "")
    signed_out = app.test_client().get("/auth/sign-in").get_data(as_text=True)
    assert 'class="menu-toggle"' in signed_in
    assert 'class="menu-toggle"' not in signed_out
    assert 'class="menu-toggle"' in _page(clients["admin"], "/home", "vi", "")


def test_navigation_words_are_fixed_text():
    # The navigation shows the panels' titles from a fragment shared by everyone of a role:
    # a title computed per user (like the overdue card's description) would leak into it.
    fixed = {flask_babel.gettext: 1, flask_babel.pgettext: 2}  # (context,) text
    for panel in _PANELS:
        title = panel.title
        assert fixed.get(title._func) == len(title._args), panel.endpoint
        assert all(isinstance(a, str) for a in title._args) and not title._kwargs, panel.endpoint


def _case_page_forms(html: str) -> str:
    """The case page up to its access history (which grows with each view, the page's own)."""
    end = re.search("Ai đã xem hoặc thay đổi hồ sơ này|Who viewed or changed this case", html)
    return html[html.index("<main") : end.start()]


def test_the_case_page_forms_are_the_same_kept_or_drawn_each_time(app, world, clients, monkeypatch):
    from app.extensions import db
    from tests.cases.conftest import open_case

    case = open_case(
        world.users["caseworker"], world.commune_a, assigned_to_id=world.users["volunteer"].id
    )
    db.session.commit()
    order = [(name, lang) for lang in ("vi", "en") for name in ("caseworker", "volunteer")]
    order += list(reversed(order))
    app.extensions[EXTENSION].clear()
    path = f"/cases/{case.code}"
    kept = {key: _case_page_forms(_page(clients[key[0]], path, key[1], "")) for key in order}
    monkeypatch.setitem(app.extensions, EXTENSION, NeverKeeps())
    for key in order:
        assert kept[key] == _case_page_forms(_page(clients[key[0]], path, key[1], "")), key
    # The caseworker's note form asks whether the note is sensitive; the volunteer's does not.
    assert 'name="is_sensitive"' in kept[("caseworker", "vi")]
    assert 'name="is_sensitive"' not in kept[("volunteer", "vi")]
    english = kept[("caseworker", "en")]
    assert 'name="priority"' in english and "Add need" in english
