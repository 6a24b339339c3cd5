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
    # Its description is hers (a count): drawn on every request, never kept.
    is_personal: bool = False

    @property
    def url(self) -> str:
        return url_for(self.endpoint)


_PANELS: list[Panel] = []


def register_panel(
    endpoint: str, title, description, roles, order: int = 50, *, is_personal: bool = False
) -> None:
    if any(p.endpoint == endpoint for p in _PANELS):
        return
    _PANELS.append(Panel(endpoint, title, description, frozenset(roles), order, is_personal))


def card_runs(panels: list[Panel]) -> list[tuple[tuple[str, ...] | None, list[Panel]]]:
    """The home page's cards in runs, in order: a run of panels the same for everyone comes
    with its key (their endpoints), under which its HTML is drawn once and kept (a dozen cards
    of translations and URLs were a fifth of a caseworker's home); a personal panel comes
    alone, with None, and is drawn on every request."""
    runs: list[tuple[tuple[str, ...] | None, list[Panel]]] = []
    for panel in panels:
        if panel.is_personal:
            runs.append((None, [panel]))
        elif runs and runs[-1][0] is not None:
            key, run = runs[-1]
            runs[-1] = ((*key, panel.endpoint), [*run, panel])
        else:
            runs.append(((panel.endpoint,), [panel]))
    return runs


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
