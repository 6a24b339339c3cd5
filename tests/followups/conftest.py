"""Fixtures of the follow-up tests: the referral loop's case, fresh `g` per request."""

from __future__ import annotations

import pytest

from tests.notifications.conftest import client_for  # noqa: F401  (fixture)
from tests.referrals.conftest import loop  # noqa: F401  (fixture)


@pytest.fixture(autouse=True)
def _fresh_g(fresh_g_per_request):
    """Each test-client request starts with an empty `g`, as on a real server."""
