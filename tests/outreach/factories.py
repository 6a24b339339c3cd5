"""Outreach factories."""

from __future__ import annotations

from datetime import date

import factory

from app.db import utcnow
from app.outreach.models import OutreachActivity, new_idempotency_key
from tests.factories import BaseFactory


class OutreachActivityFactory(BaseFactory):
    class Meta:
        model = OutreachActivity

    held_on = factory.LazyFunction(date.today)
    form = "group_talk"
    place = "community"
    reached_public = 10
    idempotency_key = factory.LazyFunction(new_idempotency_key)
    created_at = factory.LazyFunction(utcnow)
    updated_at = factory.LazyFunction(utcnow)

    @factory.post_generation
    def topics(obj, create, extracted, **kwargs):
        obj.topics = extracted if extracted is not None else ["hiv_sti"]
