"""What each role can do next: the cards on the home page.

Modules add their own entries with `register_panel`; a panel appears only when its endpoint
exists and the actor's role is allowed, so the home page never links to a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from app.permissions import Actor, Role


@dataclass(frozen=True)
class Panel:
    endpoint: str
    # The same words for everyone: the navigation is rendered once per role and language
    # (app/web/fragments.py). A description may be hers alone (her overdue referrals).
    title: LazyString
    description: LazyString
    roles: frozenset[Role]
    order: int = 50

    @property
    def url(self) -> str:
        return url_for(self.endpoint)


_PANELS: list[Panel] = []


def register_panel(endpoint: str, title, description, roles, order: int = 50) -> None:
    if any(p.endpoint == endpoint for p in _PANELS):
        return
    _PANELS.append(Panel(endpoint, title, description, frozenset(roles), order))


def panels_for(actor: Actor) -> list[Panel]:
    endpoints = current_app.view_functions
    return sorted(
        (p for p in _PANELS if actor.role in p.roles and p.endpoint in endpoints),
        key=lambda p: p.order,
    )


register_panel(
    "auth.change_password",
    _l("Đổi mật khẩu"),
    _l("Đặt mật khẩu mới cho tài khoản của bạn."),
    set(Role),
    order=90,
)
