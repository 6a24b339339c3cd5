"""The scheduled clean-up of expired sign-in sessions."""

from __future__ import annotations

from datetime import timedelta

from app.auth.models import AuthSession
from app.auth.sessions import end_expired_sessions
from app.db import utcnow


def test_expired_sessions_are_ended_and_old_ones_forgotten(app, db, world):
    user = world.users["caseworker"]
    now = utcnow()
    live = AuthSession(token_hash="a" * 64, user_id=user.id, created_at=now, last_seen_at=now)
    idle = AuthSession(
        token_hash="b" * 64,
        user_id=user.id,
        created_at=now - timedelta(hours=1),
        last_seen_at=now - timedelta(hours=1),
    )
    too_long = AuthSession(
        token_hash="c" * 64,
        user_id=user.id,
        created_at=now - timedelta(hours=13),
        last_seen_at=now,
    )
    old = AuthSession(
        token_hash="d" * 64,
        user_id=user.id,
        created_at=now - timedelta(days=40),
        last_seen_at=now - timedelta(days=40),
        ended_at=now - timedelta(days=31),
        end_reason="signed_out",
    )
    db.session.add_all([live, idle, too_long, old])
    db.session.flush()
    ended, deleted = end_expired_sessions()
    db.session.expire_all()
    assert (ended, deleted) == (2, 1)
    assert live.ended_at is None
    assert idle.end_reason == "idle"
    assert too_long.end_reason == "absolute"
    assert db.session.get(AuthSession, old.id) is None
