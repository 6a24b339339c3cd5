"""The case list page: one query for its rows, totals that follow changes, erased and
restricted rows, one audit event per page, nothing read after the commit."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event

from app.audit.models import AuditEvent
from app.cases import queries, rights
from app.extensions import db
from app.permissions import Actor
from tests.cases.conftest import open_case


def _codes(body: str) -> list[str]:
    return [part.split('"')[0] for part in body.split('href="/cases/NB-')[1:]]


def _next_link(body: str) -> str | None:
    marker = 'href="/cases/?after='
    if marker not in body:
        return None
    return "/cases/?after=" + body.split(marker)[1].split('"')[0].replace("&amp;", "&")


def test_keyset_pages_show_every_case_exactly_once_while_cases_are_added(client, world, login_as):
    existing = {open_case(world.users["caseworker"], world.commune_a).code for _ in range(60)}
    login_as(world.users["caseworker"])
    seen: list[str] = []
    url = "/cases/"
    while url:
        body = client.get(url).get_data(as_text=True)
        seen += ["NB-" + c for c in _codes(body)]
        # Someone opens cases while the list is walked: no page shifts, none repeats.
        for _ in range(7):
            open_case(world.users["caseworker"], world.commune_a)
        url = _next_link(body)
    assert len(seen) == len(set(seen)), "a case was shown twice"
    assert set(seen) == existing, "a case was skipped"  # the added ones are newer than the
    #                                                      cursor: on pages already walked


def _link(body: str, direction: str) -> str | None:
    marker = f'href="/cases/?{direction}='
    if marker not in body:
        return None
    return f"/cases/?{direction}=" + body.split(marker)[1].split('"')[0].replace("&amp;", "&")


def test_pages_over_many_units_keep_the_order_both_ways(client, world, login_as):
    """A province's list is read unit by unit on PostgreSQL (queries._page_ids): cases of four
    units, opened in turn, come back newest first across units, each once, forwards and back,
    with and without a filter."""
    from app.permissions import Role
    from tests.factories import UserFactory

    boss = UserFactory(username="province_cw", role=Role.CASEWORKER, org_unit=world.province)
    units = [world.commune_a, world.commune_b, world.district_a, world.province]
    opened = [open_case(boss, units[i % 4]).code for i in range(57)]
    login_as(boss)
    for query in ("", "&category=health"):
        seen, pages, url = [], [], "/cases/?after=99999999999" + query
        while url:
            body = client.get(url).get_data(as_text=True)
            pages.append(["NB-" + c for c in _codes(body)])
            seen += pages[-1]
            url = _link(body, "after")
        assert seen == opened[::-1], query
        back, url = [], _link(body, "before")
        while url:
            body = client.get(url).get_data(as_text=True)
            back.insert(0, ["NB-" + c for c in _codes(body)])
            url = _link(body, "before")
        assert back == pages[:-1], query


def test_previous_page_and_filters_follow_the_keyset(client, world, login_as):
    codes = [open_case(world.users["caseworker"], world.commune_a).code for _ in range(30)]
    login_as(world.users["caseworker"])
    first = client.get("/cases/?attention=").get_data(as_text=True)
    second = client.get(_next_link(first)).get_data(as_text=True)
    assert ["NB-" + c for c in _codes(second)] == codes[:5][::-1]
    back = 'href="/cases/?before='
    assert back in second
    again = client.get(
        "/cases/?before=" + second.split(back)[1].split('"')[0].replace("&amp;", "&")
    ).get_data(as_text=True)
    assert _codes(again) == _codes(first) and back not in again
    assert "30 hồ sơ" in first
    beyond = client.get("/cases/?after=99999999999999999999").get_data(as_text=True)
    assert _codes(beyond) == _codes(first)  # out of range: the first page, not a 500


def test_count_is_capped(client, world, login_as, monkeypatch):
    monkeypatch.setattr(queries, "COUNT_CAP", 10)
    for _ in range(12):
        open_case(world.users["caseworker"], world.commune_a)
    login_as(world.users["caseworker"])
    assert queries.capped_count(
        queries.filtered_cases(Actor.from_user(world.users["caseworker"])), 10
    ) == (10, True)


def test_newest_first_scoped_and_one_event_per_page(client, world, login_as):
    mine = [open_case(world.users["caseworker"], world.commune_a).code for _ in range(3)]
    other = open_case(world.users["caseworker_b"], world.commune_b).code
    login_as(world.users["caseworker"])
    before = db.session.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar()
    body = client.get("/cases/").get_data(as_text=True)
    assert ["NB-" + c for c in _codes(body)] == mine[::-1] and other not in body
    assert "Lê Thị Mẫu" in body
    events = list(
        db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.object_type == "case_list")
        ).scalars()
    )
    assert len(events) == 1 and all(code in events[0].details for code in mine)
    after = db.session.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar()
    assert after == before + 1


def test_erased_and_restricted_rows(client, world, login_as):
    actor = Actor.from_user(world.users["caseworker"])
    erased = open_case(world.users["caseworker"], world.commune_a)
    restricted = open_case(world.users["caseworker"], world.commune_a)
    rights.erase_case(actor, erased, erased.code, "her_request")
    rights.restrict_processing(actor, restricted)
    db.session.commit()
    login_as(world.users["caseworker"])
    body = client.get("/cases/").get_data(as_text=True)
    erased_row = body.split(f'href="/cases/{erased.code}"')[1].split("</tr>")[0]
    restricted_row = body.split(f'href="/cases/{restricted.code}"')[1].split("</tr>")[0]
    assert "[đã xoá vĩnh viễn]" in erased_row and "Lê Thị" not in erased_row
    assert "Hạn chế xử lý" in restricted_row and "Lê Thị Mẫu" in restricted_row


def test_list_page_reads_nothing_after_its_commit(app, client, world, login_as):
    for _ in range(3):
        open_case(world.users["caseworker"], world.commune_a)
    login_as(world.users["caseworker"])
    client.get("/cases/")
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement.split()[0].upper())

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert client.get("/cases/").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    # The session, the bell's unread count, the rows, the transfers, the audit head; no count
    # on a single page, and no query after the audit event's writes (rendering runs outside
    # the transaction).
    last_write = max(i for i, s in enumerate(statements) if s in ("INSERT", "UPDATE"))
    assert "SELECT" not in statements[last_write:]
    assert statements.count("SELECT") <= 5


def test_list_page_query_is_scoped(world):
    open_case(world.users["caseworker"], world.commune_a)
    open_case(world.users["caseworker_b"], world.commune_b)
    actor = Actor.from_user(world.users["caseworker_b"])
    page, rows = queries.list_page(queries.filtered_cases(actor))
    assert page.total == 1 and page.next_after is None and len(rows) == 1
    assert rows[0][1].startswith("NB-") and rows[0][7] == world.commune_b.name


def test_incoming_transfers_are_listed_with_an_accept_button(client, world, login_as):
    from app.cases import services

    case = open_case(world.users["caseworker"], world.commune_a)
    services.request_transfer(Actor.from_user(world.users["caseworker"]), case, world.commune_b.id)
    login_as(world.users["caseworker_b"])
    body = client.get("/cases/").get_data(as_text=True)
    assert f'action="/cases/{case.code}/transfer/accept"' in body
    assert f'<span class="mono">{case.code}</span> · ' in body
