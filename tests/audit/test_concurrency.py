"""Appends from many threads / connections at once: one gapless chain that verifies."""

from __future__ import annotations

import threading
from collections import Counter

from app.audit import services
from app.extensions import db as _db
from app.permissions import Actor, Role

THREADS = 8
PER_THREAD = 25


def _hammer(committed, threads: int, per_thread: int, events_per_tx: int = 1) -> list:
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        actor = Actor(
            user_id=n, username=f"worker{n}", role=Role.CASEWORKER, org_unit_id=None, org_path=None
        )
        try:
            with committed.app.app_context():
                barrier.wait()
                for _ in range(per_thread // events_per_tx):
                    for _ in range(events_per_tx):
                        services.record(
                            actor, "case.viewed", object_type="case", object_ref=f"NB-2026-{n:05d}"
                        )
                    _db.session.commit()
                _db.session.remove()
        except BaseException as exc:  # noqa: BLE001 (reported by the test)
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not any(w.is_alive() for w in workers), "a worker hung"
    return errors


def _check(committed, threads: int, per_thread: int) -> None:
    total = threads * per_thread
    seqs = [r[0] for r in committed.execute("SELECT seq FROM audit_events ORDER BY seq")]
    assert seqs == list(range(1, total + 1)), "the sequence has gaps or duplicates"
    per_user = Counter(r[0] for r in committed.execute("SELECT actor_username FROM audit_events"))
    assert set(per_user.values()) == {per_thread} and len(per_user) == threads
    result = committed.verify()
    assert result.ok, result.problem
    assert (result.checked, result.head_seq) == (total, total)


def test_threads_append_one_chain_on_sqlite(committed_sqlite):
    errors = _hammer(committed_sqlite, THREADS, PER_THREAD)
    assert errors == []
    _check(committed_sqlite, THREADS, PER_THREAD)


def test_connections_append_one_chain_on_postgresql(committed_postgres):
    with committed_postgres.app.app_context():
        assert _db.engine.dialect.name == "postgresql"
    errors = _hammer(committed_postgres, THREADS, PER_THREAD, events_per_tx=5)
    assert errors == []
    _check(committed_postgres, THREADS, PER_THREAD)
    # Every transaction really waited on the head row lock: the head is exactly the last event.
    head = committed_postgres.execute("SELECT last_seq FROM audit_head")[0][0]
    assert head == THREADS * PER_THREAD
    assert (
        committed_postgres.execute("SELECT count(DISTINCT prev_hash) FROM audit_events")[0][0]
        == THREADS * PER_THREAD
    )
