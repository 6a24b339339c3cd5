"""A caseworker's search walks her province's tokens only (app.cases.search_province): each token
carries its case's province, from the intake, through a transfer to another province and a
commune moved into another province; and the existing tokens take theirs in the migration."""

from __future__ import annotations

import sqlalchemy as sa

from app.cases import queries, services
from app.cases.models import CaseSearchToken
from app.extensions import db
from app.orgs import services as orgs
from app.orgs.models import User
from app.permissions import Actor
from tests.cases.conftest import open_case
from tests.cases.test_central import nation  # noqa: F401 (fixture)


def _actor(username: str) -> Actor:
    return Actor.from_user(db.session.scalars(sa.select(User).filter_by(username=username)).one())


def _provinces_of_tokens(case) -> set[int | None]:
    return set(
        db.session.scalars(
            sa.select(CaseSearchToken.province_id).where(CaseSearchToken.case_id == case.id)
        )
    )


def _found(username: str, term: str) -> list[str]:
    return [case.code for case in queries.search_cases(_actor(username), term)]


def test_tokens_carry_the_province_and_each_caseworker_finds_her_own(world, nation):  # noqa: F811
    _central, bac_ninh, far_commune = nation
    here = open_case(world.users["caseworker"], world.commune_a, full_name="Đỗ Thị Duyên")
    there = open_case(_user_at(bac_ninh), far_commune, full_name="Đỗ Thị Duyên")
    assert _provinces_of_tokens(here) == {world.province.id}
    assert _provinces_of_tokens(there) == {bac_ninh.id}
    assert _found("cw_nb", "Đỗ Thị Duyên") == [here.code]
    assert _found("cw_bn", "Duyên") == [there.code]


def test_the_walk_stays_in_the_province(world, nation):  # noqa: F811
    """A token stamped with another province is not walked: the search reads the province's
    index, not every token of the name in the country (it would be found without it)."""
    case = open_case(world.users["caseworker"], world.commune_a, full_name="Hồ Thị Mai")
    _bac_ninh = nation[1]
    db.session.execute(
        sa.update(CaseSearchToken)
        .where(CaseSearchToken.case_id == case.id)
        .values(province_id=_bac_ninh.id)
    )
    db.session.commit()
    assert _found("cw_nb", "Hồ Thị Mai") == []
    assert _found("cw_bn", "Hồ Thị Mai") == []  # her province's tokens, but not her scope


def test_a_transfer_to_another_province_moves_the_tokens(world, nation):  # noqa: F811
    _central, bac_ninh, far_commune = nation
    case = open_case(world.users["caseworker"], world.commune_a, full_name="Lý Thị Thơ")
    services.request_transfer(_actor("caseworker"), case, bac_ninh.id)
    db.session.commit()
    services.accept_transfer(_actor("cw_bn"), case)
    db.session.commit()
    assert _provinces_of_tokens(case) == {bac_ninh.id}
    assert _found("cw_bn", "Lý Thị Thơ") == [case.code]
    assert _found("cw_nb", "Lý Thị Thơ") == []


def test_a_commune_moved_to_another_province_takes_its_cases_tokens(world, nation):  # noqa: F811
    _central, bac_ninh, _far = nation
    case = open_case(world.users["caseworker"], world.commune_a, full_name="Vũ Thị Hạnh")
    other = open_case(world.users["caseworker_b"], world.commune_b, full_name="Vũ Thị Hạnh")
    moved = orgs.move_org_unit(Actor.system("test"), world.commune_a, bac_ninh)
    db.session.commit()
    assert moved == 1
    assert _provinces_of_tokens(case) == {bac_ninh.id}
    assert _provinces_of_tokens(other) == {world.province.id}  # not moved, not touched
    assert _found("cw_bn", "Vũ Thị Hạnh") == [case.code]
    assert _found("cw_nb", "Vũ Thị Hạnh") == [other.code]


def test_a_caseworker_above_the_provinces_walks_every_province(world, nation):  # noqa: F811
    from tests.factories import UserFactory

    central, bac_ninh, far_commune = nation
    here = open_case(world.users["caseworker"], world.commune_a, full_name="Mai Thị Trang")
    there = open_case(_user_at(bac_ninh), far_commune, full_name="Mai Thị Trang")
    UserFactory(username="cw_tw", role="caseworker", org_unit=central)
    db.session.commit()
    assert sorted(_found("cw_tw", "Mai Thị Trang")) == sorted([here.code, there.code])


def _user_at(unit) -> User:
    return db.session.scalars(sa.select(User).filter_by(org_unit_id=unit.id)).first()


def test_a_volunteer_finds_her_own_cases_only(world):
    mine = open_case(world.users["volunteer"], world.commune_a, full_name="Chu Thị Hiền")
    open_case(world.users["caseworker"], world.commune_a, full_name="Chu Thị Hiền")
    assert _found("volunteer", "Chu Thị Hiền") == [mine.code]
    assert _found("volunteer_b", "Hiền") == []


def _plan(actor: Actor, term: str) -> str:
    from app.cases.search import _by_selectivity, _candidates, probe_groups

    scope = queries._search_scope(actor, queries.visible_cases(actor))
    probes = _by_selectivity(probe_groups(term)[0])
    stmt = _candidates(probes, scope, None, 60)
    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    return "\n".join(row[-1] for row in db.session.execute(sa.text("EXPLAIN QUERY PLAN " + sql)))


def test_what_drives_each_search(world):
    """A caseworker's search walks her province's index; a volunteer's reads her own cases'
    tokens by case (SQLite's plan; PostgreSQL plans by its statistics)."""
    import pytest

    if db.engine.dialect.name != "sqlite":
        pytest.skip("[run on the other database] SQLite's plan; PostgreSQL plans by statistics")
    open_case(world.users["volunteer"], world.commune_a, full_name="Chu Thị Hiền")
    caseworker = _plan(_actor("caseworker"), "Hiền")
    assert "ix_case_search_tokens_province (kind=? AND tag=? AND province_id=?)" in caseworker
    # The name's other words are looked up in the province too (a case's tokens share it).
    two_words = _plan(_actor("caseworker"), "Chu Hiền")
    assert "ix_case_search_tokens_province (kind=? AND tag=? AND province_id=? AND case_id=?)" in (
        two_words
    )
    volunteer = _plan(_actor("volunteer"), "Hiền")
    assert "SEARCH t0 USING COVERING INDEX ix_case_search_tokens_lookup" in volunteer
    assert "(kind=? AND tag=? AND case_id=?)" in volunteer.splitlines()[0]


def test_the_words_are_counted_in_the_province(world, nation, monkeypatch):  # noqa: F811
    """The order of a name's words is counted where the walk goes: a word common in another
    province does not count against it in hers."""
    from app.cases import search
    from app.crypto import blind_index as bi
    from app.crypto.keyring import keyring

    monkeypatch.setattr(search, "_counts", {})
    _central, bac_ninh, far_commune = nation
    for i in range(4):
        open_case(_user_at(bac_ninh), far_commune, full_name=f"Quách Thị Nga {i}")
    open_case(world.users["caseworker"], world.commune_a, full_name="Quách Thị Nga")
    quach = bi.name_probes(keyring().index_key, "Quách")[0]

    def count(province_id=None):
        stmt = sa.select(sa.func.count()).where(
            CaseSearchToken.kind == quach.kind, CaseSearchToken.tag == quach.tag
        )
        if province_id is not None:
            stmt = stmt.where(CaseSearchToken.province_id == province_id)
        return db.session.scalar(stmt)

    assert count(world.province.id) + 4 <= count()
    assert search._tag_counts([quach], world.province.id) == [count(world.province.id)]
    assert search._tag_counts([quach], None) == [count()]


def test_inside_the_province_each_caseworker_finds_her_own_subtree(world):
    """The province's walk is only a bound: each case found is still tested against her scope
    (its unit's path), district by district."""
    a = open_case(world.users["caseworker"], world.commune_a, full_name="Tạ Thị Loan")
    b = open_case(world.users["caseworker_b"], world.commune_b, full_name="Tạ Thị Loan")
    assert _found("caseworker", "Tạ Thị Loan") == [a.code]
    assert _found("caseworker_b", "Tạ Thị Loan") == [b.code]
