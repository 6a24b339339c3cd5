"""Finding cases through their search tokens (app.crypto.blind_index), never by decrypting rows.

A search is a set of *probe groups*: every probe of a group must hold for a case (the words of
a name), and a case found by any group is found (name, phone, ID number). For each group the
database returns candidates by the truncated tags alone — newest first, within the caller's
scope, in batches — and each candidate is kept only if its stored proofs are the ones computed
for its own row, so false positives of the truncation and tokens moved between rows are
dropped. The walk stops as soon as enough cases are confirmed, so a common word costs about as
much as a rare one; `MAX_CANDIDATES` bounds the worst case (a rare word whose tag it shares with
a very common one) and is reported, not hidden.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import sqlalchemy as sa

from app.cases.models import Case, CaseSearchToken
from app.crypto import blind_index as bi
from app.crypto.keyring import keyring
from app.extensions import db

BATCH = 400
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
    rows = token_rows(keyring().index_key, case.id, field, value)
    if rows:
        db.session.execute(sa.insert(CaseSearchToken), rows)


def token_rows(key: bytes, case_id: int, field: str, value: str | None) -> list[dict]:
    """The rows to insert for one field of one case (also used by bulk loads)."""
    return [
        {
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


def _candidates(probes: list[bi.Probe], scope, below: int | None, limit: int) -> list[int]:
    """Case ids having every probe's tag, newest first, below `below`."""
    # The last word of a Vietnamese name (the given name) is the most selective: drive by it.
    first, *rest = probes[::-1]
    t0 = _TOKENS.alias("t0")
    stmt = sa.select(t0.c.case_id).where(t0.c.kind == first.kind, t0.c.tag == first.tag)
    for i, probe in enumerate(rest, start=1):
        ti = _TOKENS.alias(f"t{i}")
        stmt = stmt.join(
            ti,
            sa.and_(ti.c.case_id == t0.c.case_id, ti.c.kind == probe.kind, ti.c.tag == probe.tag),
        )
    if scope is not None:
        stmt = stmt.join(Case, Case.id == t0.c.case_id).where(scope)
    if below is not None:
        stmt = stmt.where(t0.c.case_id < below)
    stmt = stmt.group_by(t0.c.case_id).order_by(t0.c.case_id.desc()).limit(limit)
    return list(db.session.execute(stmt).scalars())


def _confirmed(key: bytes, probes: list[bi.Probe], case_ids: list[int]) -> list[int]:
    """The candidates whose own row proves every probe."""
    rows = db.session.execute(
        sa.select(
            _TOKENS.c.case_id,
            _TOKENS.c.field,
            _TOKENS.c.tag,
            _TOKENS.c.proof,
            _TOKENS.c.proof_exact,
        ).where(
            _TOKENS.c.case_id.in_(case_ids),
            _TOKENS.c.kind.in_({p.kind for p in probes}),
            _TOKENS.c.tag.in_({p.tag for p in probes}),
        )
    )
    by_case = defaultdict(list)
    for row in rows:
        by_case[row.case_id].append(row)
    return [
        case_id
        for case_id in case_ids
        if all(any(p.proves(key, case_id, t) for t in by_case[case_id]) for p in probes)
    ]


def find_case_ids(groups: Iterable[list[bi.Probe]], scope=None, limit: int = 25) -> list[int]:
    """Ids of cases matching any group (all probes of it), newest first, at most `limit`.
    `scope` is a SQL condition on `Case` (the caller's visible cases) or None (every case)."""
    key = keyring().index_key
    found: set[int] = set()
    for probes in groups:
        if not probes:
            continue
        below, scanned, confirmed = None, 0, []
        while len(confirmed) < limit and scanned < MAX_CANDIDATES:
            batch = _candidates(probes, scope, below, BATCH)
            if not batch:
                break
            confirmed += _confirmed(key, probes, batch)
            scanned += len(batch)
            below = batch[-1]
            if len(batch) < BATCH:
                break
        found.update(confirmed[:limit])
    return sorted(found, reverse=True)[:limit]


def probe_groups(term: str) -> list[list[bi.Probe]]:
    """What a search box term looks for: the words of a name (all of them), and when it has
    digits, a whole phone number or ID number."""
    key = keyring().index_key
    groups = [bi.name_probes(key, term)]
    if any(c.isdigit() for c in term):
        for kind in (bi.PHONE, bi.ID_NUMBER):
            probe = bi.value_probe(key, kind, term)
            if probe is not None:
                groups.append([probe])
    return [g for g in groups if g]
