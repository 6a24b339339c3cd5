"""The 07:30 digest: once a day, to those who asked for it, only with something unread."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.i18n import LOCAL_TZ
from app.notifications import delivery
from app.notifications.kinds import Kind
from app.notifications.models import Notification
from app.notifications.outbox import notify
from app.notifications.tasks import send_digests
from tests.notifications.conftest import give_settings


def _digests(user) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification).where(
                Notification.user_id == user.id, Notification.kind == Kind.DIGEST
            )
        )
    )


def test_the_digest_goes_once_after_half_past_seven(world, smtp):
    user = world.users["caseworker"]
    give_settings(user, digest=True, quiet=True)
    give_settings(world.users["caseworker_b"], digest=True)  # nothing unread: no digest
    notify([user], Kind.CASE_ASSIGNED, link="/cases/", params={"case": "NB-2026-00009"})
    notify([user], Kind.CASE_ASSIGNED, link="/cases/", params={"case": "NB-2026-00010"})
    db.session.commit()
    assert not smtp.messages  # a digest user gets no message per notification
    assert send_digests(datetime(2026, 3, 3, 7, 29, tzinfo=LOCAL_TZ)) == 0
    morning = datetime(2026, 3, 3, 7, 31, tzinfo=LOCAL_TZ)
    assert send_digests(morning) == 1
    assert send_digests(morning) == 0  # once a day
    [digest] = _digests(user)
    assert digest.params == {"count": 2}
    assert _digests(world.users["caseworker_b"]) == []
    db.session.commit()
    assert delivery.deliver_due(now=morning) == 1
    body = smtp.messages[-1].get_content()
    assert "Việc hôm nay: bạn có 1 thông báo chưa đọc." in body  # one digest unread
    assert "NB-2026" not in body
    assert send_digests(datetime(2026, 3, 4, 7, 45, tzinfo=LOCAL_TZ)) == 1  # the next day
