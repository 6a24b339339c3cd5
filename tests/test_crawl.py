"""Crawls of the demo province as a supervisor and as a partner (issue #11, points 4 and 5).

Every page and export each role can reach is fetched: every GET route of the url_map with real
ids from the seeded demo, then every link found on the pages, and the API with a personal token.
A supervisor must never see a case code or a case-level audit attribute; a partner never a case
code. The crawl also asserts that the pages answered 200: a crawl of 404s would prove nothing.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import deque
from datetime import date
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa

from app.audit import activity
from app.audit.actions import ACTIONS
from app.cases import tokens
from app.cases.consents import ALL_PURPOSES, RECORD
from app.cases.models import Case
from app.extensions import db
from app.orgs.models import User
from app.permissions import Actor, Role
from app.referrals.models import PartnerOrganization, PartnerService, Referral
from tests.conftest import PASSWORD
from tests.factories import UserFactory
from tests.referrals.conftest import forget_signed_in_user

CODE = re.compile(r"[A-Z]{1,4}-\d{4}-\d{5,}")
HREF = re.compile(r"""href="([^"#]+)""")
MAX_PAGES = 300
# Links that end the session or change state through GET are not followed.
NOT_FOLLOWED = ("/auth/sign-out", "/static/", "/language")
# Case-level audit attributes: the actions on a case and its referrals, consent purposes and
# methods. (Staff activity shows kinds of work, never these.)
CASE_ACTIONS = sorted(
    a
    for a in ACTIONS
    if activity.kind_of(a) in ("case_work", "referral_work") and a != "case.searched"
)
PURPOSES = sorted(p for p in ALL_PURPOSES if p != RECORD)
CONSENT_METHODS = ("thumbprint",)


@pytest.fixture
def demo(db):
    """The whole demo (org units, users, cases, referrals, outreach, plans) in this test's
    transaction, and some case activity so that the audit trail has case-level events."""
    from app.home.cli import _seeders

    for _name, mod in _seeders():
        mod.seed(PASSWORD)
        db.session.commit()
    cases = list(db.session.execute(sa.select(Case).order_by(Case.id)).scalars())
    assert len(cases) >= 20 and db.session.scalar(sa.select(sa.func.count(Referral.id))) >= 5
    caseworker = db.session.execute(sa.select(User).where(User.username == "caseworker")).scalar()
    from app.cases import services as case_services

    for case in cases[:10]:
        case_services.record_view(Actor.from_user(caseworker), case, via="web")
    db.session.commit()
    return cases


def _user(username: str) -> User:
    return db.session.execute(sa.select(User).where(User.username == username)).scalar_one()


def _text(response) -> str:
    if response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
        with zipfile.ZipFile(io.BytesIO(response.get_data())) as book:
            return " ".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
    return response.get_data(as_text=True)


def _route_urls(app, role: Role, values: dict[str, list]) -> list[str]:
    """Every GET route the role is allowed through, built with each real value of its args."""
    urls = []
    for rule in app.url_map.iter_rules():
        roles = getattr(app.view_functions[rule.endpoint], "permission_roles", None)
        if "GET" not in rule.methods or not isinstance(roles, frozenset) or role not in roles:
            continue
        combos = [{}]
        for arg in rule.arguments:
            combos = [{**c, arg: v} for c in combos for v in values.get(arg, [])]
        urls += [rule.build(c)[1] for c in combos]
    return urls


def _crawl(client, start: list[str]) -> dict[str, tuple[int, str]]:
    """Breadth-first from `start`, following same-site links: url -> (status, text)."""
    seen: dict[str, tuple[int, str]] = {}
    queue = deque(start)
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen or url.startswith("/api/") or url.startswith(NOT_FOLLOWED):
            continue
        response = client.get(url)
        text = _text(response)
        seen[url] = (response.status_code, text)
        if response.status_code == 200 and response.mimetype == "text/html":
            for href in HREF.findall(text):
                link = urljoin(url, href.replace("&amp;", "&"))
                parts = urlsplit(link)
                if not parts.netloc and parts.path.startswith("/"):
                    queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return seen


def _api(app, user: User, urls: list[str]) -> dict[str, tuple[int, str]]:
    _token, plain = tokens.create_api_token(Actor.from_user(user), "crawl")
    db.session.commit()
    forget_signed_in_user()
    api = app.test_client()
    out = {}
    for url in urls:
        response = api.get(url, headers={"Authorization": f"Bearer {plain}"})
        out[url] = (response.status_code, response.get_data(as_text=True))
    return out


def _no_case_code(pages: dict[str, tuple[int, str]], codes: list[str]) -> None:
    for url, (_status, text) in pages.items():
        assert not CODE.search(text), (url, CODE.search(text).group(0))
        leaked = [c for c in codes if c in text]
        assert not leaked, (url, leaked[:3])


def _ok(pages, *, prefixes: tuple[str, ...]) -> set[str]:
    return {
        url for url, (status, _t) in pages.items() if status == 200 and url.startswith(prefixes)
    }


def test_supervisor_crawl_finds_no_case_code_and_no_case_level_audit(app, client, demo, login_as):
    codes = [c.code for c in demo]
    service = db.session.execute(sa.select(PartnerService)).scalars().first()
    year = date.today().year
    values = {
        "code": codes[:2],
        "org_id": [str(service.organization_id)],
        "service_id": [str(service.id)],
        "fmt": ["xlsx", "csv"],
        "kind": ["six_monthly", "annual"],
        "year": [year],
    }
    supervisor = _user("supervisor")
    login_as(supervisor)
    start = _route_urls(app, Role.SUPERVISOR, values)
    start += [f"/reports/report.{fmt}?kind=annual&year={year}" for fmt in ("xlsx", "csv")]
    start += ["/audit/?kind=case_work", "/audit/export.csv?kind=referral_work"]
    pages = _crawl(client, start)
    api_urls = [u for u in start if u.startswith("/api/")]
    pages.update(_api(app, supervisor, api_urls))

    # The pages a supervisor works with answered, with their exports.
    answered = _ok(pages, prefixes=("/",))
    for must in ("/home", "/reports/", "/reports/report", "/audit/", "/audit/export.csv"):
        assert must in answered or any(u.startswith(must + "?") for u in answered), must
    assert _ok(pages, prefixes=("/reports/report.xlsx",)) and _ok(
        pages, prefixes=("/reports/report.csv",)
    )
    assert _ok(pages, prefixes=("/api/v1/reports/dashboard",))
    assert _ok(pages, prefixes=(f"/api/v1/reports/annual/{year}",))
    assert len(answered) >= 20, sorted(answered)
    # A case is out of her reach, by page and by API.
    for code in codes[:2]:
        assert pages[f"/cases/{code}"][0] == 404 and pages[f"/api/v1/cases/{code}"][0] == 404

    _no_case_code(pages, codes)
    for url, (status, text) in pages.items():
        if status != 200:
            continue
        for attribute in (*CASE_ACTIONS, *PURPOSES, *CONSENT_METHODS):
            assert attribute not in text, (url, attribute)
    header = pages["/audit/export.csv"][1].lstrip("\ufeff").splitlines()[0]
    assert header.split(",") == list(activity.EXPORT_COLUMNS)
    # The staff activity is there (so the absence above is not an empty page).
    assert "caseworker" in pages["/audit/"][1] and "Làm việc với hồ sơ" in pages["/audit/"][1]


def test_partner_crawl_finds_no_case_code(app, client, demo, login_as):
    codes = [c.code for c in demo]
    partner = _user("partner")
    assert partner.partner_organization_id is not None
    referrals = list(
        db.session.execute(
            sa.select(Referral).where(Referral.organization_id == partner.partner_organization_id)
        ).scalars()
    )
    assert len(referrals) >= 2
    org = db.session.get(PartnerOrganization, partner.partner_organization_id)
    values = {
        "code": codes[:2],
        "referral_id": [r.id for r in referrals],
        "org_id": [str(org.id)],
        "service_id": [str(s.id) for s in org.services],
    }
    login_as(partner)
    start = _route_urls(app, Role.PARTNER, values)
    pages = _crawl(client, start)
    api_urls = [u for u in start if u.startswith("/api/")]
    pages.update(_api(app, partner, api_urls))
    # The FHIR export of each of her referrals (caseworker's token until partners have theirs).
    province = db.session.get(User, _user("supervisor").id).org_unit
    caseworker = UserFactory(username="cw_province", role=Role.CASEWORKER, org_unit=province)
    db.session.commit()
    fhir = _api(app, caseworker, [f"/api/v1/referrals/{r.id}/fhir" for r in referrals])
    pages.update(fhir)

    answered = _ok(pages, prefixes=("/",))
    for referral in referrals:
        for url in (
            f"/referrals/{referral.id}",
            f"/referrals/{referral.id}/slip",
            f"/api/v1/referrals/{referral.id}",
            f"/api/v1/referrals/{referral.id}/fhir",
        ):
            assert url in answered, url
        assert referral.partner_reference in pages[f"/referrals/{referral.id}"][1]
        assert referral.partner_reference in pages[f"/referrals/{referral.id}/slip"][1]
    assert "/referrals/" in answered and "/api/v1/referrals" in answered and "/home" in answered
    for code in codes[:2]:
        assert pages[f"/cases/{code}"][0] == 404
    # Some women agreed to be recognised: the clinic sees its own reference for them instead.
    assert any(re.search(r"KH-\w{4}-\w{4}", text) for _s, text in pages.values())
    _no_case_code(pages, codes)
