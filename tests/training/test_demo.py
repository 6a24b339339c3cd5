"""The demo's training (acceptance: "the training indicator shows the demo's figures")."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.orgs.models import User
from app.reports import periods
from app.training.models import StaffInPost, TrainingSession
from tests.conftest import PASSWORD


@pytest.fixture
def demo(monkeypatch):
    from app.home.cli import _seeders

    monkeypatch.setattr(periods, "local_today", lambda: date(2026, 12, 20))
    for _name, mod in _seeders():
        mod.seed(PASSWORD)
        db.session.commit()


def _user(name: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == name))


def test_the_demo_seeds_training_once(demo):
    from app.training import demo as training_demo

    training_demo.seed(PASSWORD)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(TrainingSession.id))) == 4
    assert db.session.scalar(sa.select(sa.func.sum(StaffInPost.officers))) == 29


def test_the_training_indicator_shows_the_demos_figures(demo, client_for):
    client = client_for(_user("supervisor"))
    html = client.get("/reports/?period=2026").text.replace("\xa0", " ").replace("\u202f", " ")
    assert "62,1 % (18/29)" in html  # 18 officers trained in 2026 of 29 in post; target 100 %
    page = client.get("/reports/official/?kind=six_monthly&year=2026").text
    page = page.replace("\xa0", " ").replace("\u202f", " ")
    assert "51,7 % (15/29)" in page  # the first half, written the Vietnamese way
    assert "Chưa có số liệu" not in html + page
    listing = client_for(_user("caseworker")).get("/training/").text
    assert "Phòng, chống bạo lực trên cơ sở giới" in listing
