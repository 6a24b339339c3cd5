from __future__ import annotations

from datetime import date

import pytest
from flask import g

from app.extensions import db
from app.orgs.models import OrgLevel
from app.reports import periods
from tests.conftest import sign_in
from tests.factories import OrgUnitFactory
from tests.reports.factories import Population

TODAY = date(2026, 7, 20)


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(periods, "local_today", lambda: TODAY)
    return TODAY


def assert_protected(text: str, true_count: int, k: int = 5) -> None:
    """A protected count as printed: "0" only for nobody, never 1..k-1, else "<k" or a number
    of at least k within the layer's width of the truth (app.reports.disclosure)."""
    from app.reports.disclosure import WIDTH

    if true_count == 0:
        assert text == "0"
        return
    assert text not in {str(n) for n in range(k)}, (text, true_count)
    if text != f"<{k}":
        value = int(text.replace(".", ""))
        assert value >= k and abs(value - true_count) <= WIDTH, (text, true_count)


def forget_user() -> None:
    # The tests' app context outlives each request, and with it `g`: forget the last user.
    g.pop("actor", None)
    g.pop("_login_user", None)


def second_client(client, username: str):
    """(another test client signed in as `username`, the sign-in response), without the first
    client's user leaking into it through `g`."""
    other = client.application.test_client()
    forget_user()
    response = sign_in(other, username)
    forget_user()
    return other, response


@pytest.fixture
def population(world):
    return Population()


@pytest.fixture
def known(world, population):
    """A population whose connected rate is known by hand (first half of 2026).

    Commune A1 (district A) and commune B1 (district B):
      c1  A1 need 10/01, service 05/02 (26 days)                     connected at 30/60/90/period
      c2  A1 need 10/01, service 09/02 (30 days: window edge)        connected at 30/60/90/period
      c3  A1 need 10/01, service 10/02 (31 days)                     connected at 60/90/period
      c4  B1 declined its only need                                   apart: declined
      c5  B1 erased, need 01/03, enrolled 20/03                       connected everywhere
      c6  B1 need 01/03, completed but entered-in-error               not connected
      c7  B1 need 01/03, service received but consent withdrawn       not connected
      c8  A1 need 31/12/2025 (outside the period)                     not counted
      c9  A1 need 30/06 (period edge), service 15/07                  connected at 30, not "period"
      c10 B1 two needs (health 01/04, legal 01/04), legal received 11/04; health failed
      c11 A1 need 01/05, referral requested, respond_by 01/06: overdue; rejected other one
    """
    p = population
    a1, b1 = world.commune_a, world.commune_b
    cases = {}

    def add(name, unit, identified, completed=None, *, status="completed", **kw):
        case = p.case(unit, **kw)
        need = p.need(case, identified)
        if completed or status != "completed":
            p.referral(case, need, status, completed_on=completed)
        cases[name] = case
        return case, need

    add("c1", a1, date(2026, 1, 10), date(2026, 2, 5))
    add("c2", a1, date(2026, 1, 10), date(2026, 2, 9))
    add("c3", a1, date(2026, 1, 10), date(2026, 2, 10))
    c4 = p.case(b1)
    p.need(c4, date(2026, 2, 1), status="declined")
    cases["c4"] = c4
    c5, n5 = add("c5", b1, date(2026, 3, 1), None, status="draft", erased=True)
    p.referral(c5, n5, "completed", completed_on=date(2026, 3, 20), outcome="enrolled")
    add("c6", b1, date(2026, 3, 1), date(2026, 3, 5), status="entered-in-error")
    add("c7", b1, date(2026, 3, 1), date(2026, 3, 5), withdrawn=True)
    add("c8", a1, date(2025, 12, 31), date(2026, 1, 5))
    add("c9", a1, date(2026, 6, 30), date(2026, 7, 15))
    c10 = p.case(b1)
    health = p.need(c10, date(2026, 4, 1), "health")
    legal = p.need(c10, date(2026, 4, 1), "legal_aid")
    p.referral(c10, health, "failed", reason_code="no_show")
    p.referral(c10, legal, "completed", completed_on=date(2026, 4, 11))
    cases["c10"] = c10
    c11 = p.case(a1)
    n11 = p.need(c11, date(2026, 5, 1))
    p.referral(c11, n11, "requested", sent=date(2026, 5, 2), respond_by=date(2026, 6, 1))
    p.referral(
        c11, n11, "rejected", reason_code="no_capacity", responded=None, sent=date(2026, 5, 1)
    )
    cases["c11"] = c11
    return cases


@pytest.fixture
def bac_ninh(world, population):
    """A second province with one connected case (need 01/02, service received 20/02)."""
    province = OrgUnitFactory(code="27", name="Tỉnh Bắc Ninh", level=OrgLevel.PROVINCE)
    commune = OrgUnitFactory(code="27-X1", name="Xã Xa Lạ", level=OrgLevel.COMMUNE, parent=province)
    case = population.case(commune)
    need = population.need(case, date(2026, 2, 1))
    population.referral(case, need, "completed", completed_on=date(2026, 2, 20))
    db.session.commit()
    return province
