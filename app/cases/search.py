"""Finding cases through their search tokens (app.crypto.blind_index), never by decrypting rows.

A search is a set of *probe groups*: every probe of a group must hold for a case (the words of
a name), and a case found by any group is found (name, phone, ID number). For each group the
database returns candidates by the truncated tags alone — newest first, within the caller's
scope, in batches — and each candidate is kept only if its stored proofs are the ones computed
for its own row, so false positives of the truncation and tokens moved between rows are
dropped. The words of a name are intersected in the database, walked from the word whose tag
has the fewest tokens, and each batch comes back with its tokens in the same round trip, so
a full name costs about what its rarest word's tag costs; a pair of words sharing one tag is
the exception (the database cannot tell them apart, the proofs must). The walk stops as soon
as enough cases are confirmed, so a common word costs about as much as a rare one;
`MAX_CANDIDATES` bounds the worst case (a rare word whose tag it shares with a very common
one) and is reported, not hidden.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.cases import search_province  # noqa: F401 (its flush listener keeps tokens' province)
from app.cases.models import Case, CaseSearchToken
from app.crypto import blind_index as bi
from app.crypto.keyring import keyring
from app.extensions import db
from app.orgs.models import OrgUnit
from app.orgs.queries import province_id_on_path

FIRST_BATCH = 60
MAX_BATCH = 2000
MAX_CANDIDATES = 20_000
_TOKENS = CaseSearchToken.__table__


def index_field(case: Case, field: str, value: str | None) -> None:
    """Replace the tokens of one indexed field of the case (it must have its id)."""
    if field not in bi.INDEXED_FIELDS:
        return
    db.session.execute(
        sa.delete(CaseSearchToken).where(
            CaseSearchToken.case_id == case.id, CaseSearchToken.field == field
        )
    )
    unit = db.session.get(OrgUnit, case.org_unit_id)
    province_id = province_id_on_path(db.session.connection(), unit.path if unit else None)
    rows = token_rows(keyring().index_key, case.id, field, value, province_id=province_id)
    if rows:
        db.session.execute(sa.insert(CaseSearchToken), rows)


def token_rows(key: bytes, case_id: int, field: str, value: str | None, **columns) -> list[dict]:
    """The rows to insert for one field of one case (also used by bulk loads), with `columns`
    (the case's `province_id`; a migration written before that column passes none)."""
    return [
        {
            **columns,
            "case_id": case_id,
            "field": t.field,
            "kind": t.kind,
            "tag": t.tag,
            "proof": t.proof,
            "proof_exact": t.proof_exact,
        }
        for t in bi.tokens_for(key, field, case_id, value)
    ]


def clear_index(case: Case) -> None:
    """Erasure: the case can no longer be found by anything it held."""
    db.session.execute(sa.delete(CaseSearchToken).where(CaseSearchToken.case_id == case.id))


# Aliases of the tokens table, one per word of a query (name_probes takes at most 8 words):
# built once, as building them is a visible share of a query's time.
_ALIASES = [_TOKENS.alias(f"t{i}") for i in range(9)]


# How many tokens each tag has, as last counted: only the order in which a query's tags are
# tried depends on it, never what is found, so a count some minutes old serves as well as a
# fresh one and spares a query walking every tag's index again. Counted in the province the
# search walks, when it walks one: that is the walk the order is for, and a common word's
# tokens in one province are a fraction of the country's (counting those of the country took
# longer than the search it ordered).
_COUNT_SECONDS = 300
_counts: dict[tuple[str, int, int | None], tuple[int, float]] = {}


def _tag_counts(probes: list[bi.Probe], province_id: int | None) -> list[int]:
    now = time.monotonic()
    stale = [p for p in probes if _counts.get((p.kind, p.tag, province_id), (0, 0.0))[1] <= now]
    if stale:
        counts = []
        for p in stale:
            count = sa.select(sa.func.count()).where(
                _TOKENS.c.kind == p.kind, _TOKENS.c.tag == p.tag
            )
            if province_id is not None:
                count = count.where(_TOKENS.c.province_id == province_id)
            counts.append(count.scalar_subquery())
        fresh = db.session.execute(sa.select(*counts)).one()
        for probe, count in zip(stale, fresh, strict=True):
            _counts[(probe.kind, probe.tag, province_id)] = (count, now + _COUNT_SECONDS)
    return [_counts[(p.kind, p.tag, province_id)][0] for p in probes]


def _by_selectivity(probes: list[bi.Probe], province_id: int | None = None) -> list[bi.Probe]:
    """The probes, the one whose tag has the fewest tokens first: the words of a name differ
    by an order of magnitude in how common they are (their tags with them), and driving by
    the smallest set tests the fewest rows against the others."""
    if len(probes) < 2:
        return probes
    counts = _tag_counts(probes, province_id)
    return [p for _, _, p in sorted(zip(counts, range(len(probes)), probes, strict=True))]


@dataclass(frozen=True)
class Scope:
    """Where a search looks. `condition` is a SQL condition on `Case` (the caller's visible
    cases). `province_id`: the province they lie in, when they do; only its tokens are walked
    (app.cases.search_province). `is_own`: they are a person's own cases (a volunteer's, an
    admin's grants), a few: their tokens are read case by case instead of walking a tag's
    tokens across the country."""

    condition: Any
    province_id: int | None = None
    is_own: bool = False


EVERY_CASE = Scope(condition=None)  # duplicate checks at intake look across the country


def _candidates(probes: list[bi.Probe], scope: Scope, below: int | None, limit: int):
    """Case ids having every probe's tag, newest first, below `below`, within the scope;
    `probes` come smallest tag first (`_by_selectivity`)."""
    # Drive by the smallest tag, walking its index in case order; the other tags are
    # correlated EXISTS probes, the next smallest first, so most rows fail at the first one.
    # Not joins: SQLite would carry the `below` bound across a join onto the other tables'
    # index and scan a range where one row was enough.
    # Two words sharing a tag are one condition here (the proofs tell them apart).
    first, *rest = {(p.kind, p.tag): p for p in probes}.values()
    t0 = _ALIASES[0]
    stmt = sa.select(t0.c.case_id).where(t0.c.kind == first.kind, t0.c.tag == first.tag)
    province_id = scope.province_id
    if province_id is not None:  # walks the province's index: (kind, tag, province, case)
        stmt = stmt.where(t0.c.province_id == province_id)
    for ti, probe in zip(_ALIASES[1:], rest, strict=False):
        other = sa.exists().where(
            ti.c.case_id == t0.c.case_id, ti.c.kind == probe.kind, ti.c.tag == probe.tag
        )
        if province_id is not None:
            # A case's tokens share its province: said here too, PostgreSQL no longer merges
            # the walk with every token of the other word in the country (63,000 at 1M).
            other = other.where(ti.c.province_id == province_id)
        stmt = stmt.where(other)
    if scope.is_own:
        # Her few cases drive: each one's tokens of the tag, through (kind, tag, case).
        stmt = stmt.where(t0.c.case_id.in_(sa.select(Case.id).where(scope.condition)))
    elif scope.condition is not None:
        stmt = stmt.join(Case, Case.id == t0.c.case_id).where(scope.condition)
    if below is not None:
        stmt = stmt.where(t0.c.case_id < below)
    return stmt.group_by(t0.c.case_id).order_by(t0.c.case_id.desc()).limit(limit)


def _candidate_tokens(probes: list[bi.Probe], scope: Scope, below: int | None, limit: int) -> dict:
    """The candidates (`_candidates`) with their stored tokens of the probes' tags, in one
    round trip: case id -> tokens, newest first. Every candidate has a token of the first
    probe's tag, so none is missing."""
    batch = _candidates(probes, scope, below, limit).subquery("batch")
    rows = db.session.execute(
        sa.select(
            _TOKENS.c.case_id,
            _TOKENS.c.kind,
            _TOKENS.c.field,
            _TOKENS.c.tag,
            _TOKENS.c.proof,
            _TOKENS.c.proof_exact,
        )
        .join(batch, batch.c.case_id == _TOKENS.c.case_id)
        # By tag only: a kind here leads SQLite to seek the lookup index once per tag and
        # candidate instead of reading the candidate's few tokens (`proves` checks the kind).
        .where(_TOKENS.c.tag.in_({p.tag for p in probes}))
        .order_by(_TOKENS.c.case_id.desc())
    ).all()
    by_case: dict[int, list] = defaultdict(list)
    for row in rows:
        by_case[row.case_id].append(row)
    return by_case


def _confirmed(key: bytes, probes: list[bi.Probe], by_case: dict) -> list[int]:
    """The candidates whose own row proves every probe, newest first."""
    return [
        case_id
        for case_id, tokens in by_case.items()
        if all(any(p.proves(key, case_id, t) for t in tokens) for p in probes)
    ]


def find_case_ids(
    groups: Iterable[list[bi.Probe]], scope: Scope = EVERY_CASE, limit: int = 25
) -> list[int]:
    """Ids of cases matching any group (all probes of it), newest first, at most `limit`,
    within `scope`."""
    key = keyring().index_key
    found: set[int] = set()
    for probes in groups:
        if not probes:
            continue
        probes = _by_selectivity(probes, scope.province_id)
        below, scanned, confirmed, batch_size = None, 0, [], FIRST_BATCH
        while len(confirmed) < limit and scanned < MAX_CANDIDATES:
            batch = _candidate_tokens(probes, scope, below, batch_size)
            if not batch:
                break
            confirmed += _confirmed(key, probes, batch)
            scanned += len(batch)
            below = min(batch)
            if len(batch) < batch_size:
                break
            # Ask next for about as many candidates as the confirmed share so far says are
            # needed (false candidates are the truncation at work, their share varies by word).
            missing = limit - len(confirmed)
            share = max(len(confirmed), 1) / scanned
            batch_size = max(FIRST_BATCH, min(MAX_BATCH, int(missing / share * 1.5) + 1))
        found.update(confirmed[:limit])
    return sorted(found, reverse=True)[:limit]


def probe_groups(term: str) -> list[list[bi.Probe]]:
    """What a search box term looks for: when it has letters, the words of a name (all of
    them); when it has digits, a whole phone number or ID number."""
    key = keyring().index_key
    groups = [bi.name_probes(key, term)] if any(c.isalpha() for c in term) else []
    if any(c.isdigit() for c in term):
        for kind in (bi.PHONE, bi.ID_NUMBER):
            probe = bi.value_probe(key, kind, term)
            if probe is not None:
                groups.append([probe])
    return [g for g in groups if g]
