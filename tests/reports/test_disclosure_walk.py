"""Every page, file and API answer a supervisor can reach: no count reaches her that did not
come out of app.reports.disclosure.

The walk takes every GET route of the application, fills its arguments with every unit of the
supervisor's subtree, every fixed period, window, report kind and file format, and signs in as
the supervisor. For each answer it inspects what was rendered: the template's context, the
JSON body, the report handed to the Excel and CSV writers. A number there must be a figure of
the layer (of a protected kind) or one of the report's settings (app.reports.disclosure
.NOT_FIGURES); the only other numbers a supervisor may get are listed below, each with why
it is not a figure about people in the case files.
"""

from __future__ import annotations

import itertools

import pytest
from flask import template_rendered

from app.reports import disclosure, exports
from app.reports.disclosure import Unreleased, unreleased

# Context that every page gets from the application (who is signed in, the language, the
# configuration): not figures.
FRAMEWORK = frozenset(
    {"g", "request", "session", "config", "actor", "Role", "current_locale", "app_languages"}
)

# Pages that show a supervisor numbers that are not about the people in the case files.
NOT_ABOUT_CASES = {
    # Staff activity (app.audit.activity): counts of members of staff's actions, by kind and
    # by the staff member's own unit, and page numbers.
    "audit.index": {"counts", "page"},
    # The password rule's minimum length.
    "auth.change_password": {"min_length"},
    # The order of the cards on the home page.
    "home.index": {"card_runs"},
    # The API's description (lengths, bounds of fields).
    "cases_api.openapi": {"*"},
    # The signed-in session's own seconds left before its idle and absolute limits.
    "auth.session_state": {"*"},
}

# Endpoints that print figures: the walk must reach each (or it proves nothing).
FIGURE_ENDPOINTS = {
    "reports.dashboard",
    "reports.report",
    "reports.export",
    "reports_api.dashboard",
    "reports_api.report",
}

UNITS = ("", "37", "37-A", "37-B", "37-A1", "37-B1")
PERIODS = ("2026", "2026-H1", "2026-H2", "2025")
VALUES = {
    "fmt": ("xlsx", "csv"),
    "kind": ("six_monthly", "annual"),
    "year": ("2026", "2025"),
}
QUERIES = {
    "reports.dashboard": [
        {"unit": u, "period": p, "window": w}
        for u, p, w in itertools.product(UNITS, PERIODS, ("30", "60", "90", "period"))
    ],
    "reports_api.dashboard": [
        {"unit": u, "period": p, "window": w}
        for u, p, w in itertools.product(UNITS, PERIODS, ("90", "period"))
    ],
    "reports.report": [
        {"unit": u, "kind": k, "year": y}
        for u, k, y in itertools.product(UNITS, VALUES["kind"], VALUES["year"])
    ],
    "reports.export": [{"unit": u, "kind": "annual", "year": "2026"} for u in UNITS],
    "reports_api.report": [{"unit": u} for u in UNITS],
}


def _urls(app):
    """(endpoint, url) for every GET route, with every value its arguments can take."""
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            names = sorted(rule.arguments)
            choices = [VALUES.get(name, ("1",)) for name in names]
            for values in itertools.product(*choices):
                args = dict(zip(names, values, strict=True))
                for query in QUERIES.get(rule.endpoint, [{}]):
                    try:
                        url = url_for(
                            rule.endpoint, **args, **{k: v for k, v in query.items() if v}
                        )
                    except Exception:  # noqa: BLE001, S112 - an argument we cannot fill
                        continue
                    yield rule.endpoint, url


def _json_problems(body, path: str = "") -> list[str]:
    """Numbers in a JSON answer outside the layer's figures and the report's settings."""
    out: list[str] = []
    if isinstance(body, dict):
        if {"text", "value", "kind", "protected"} <= body.keys():
            if body["protected"] is not True:
                out.append(f"{path}: exact figure")
            return out
        for key, value in body.items():
            if key not in disclosure.NOT_FIGURES:
                out.extend(_json_problems(value, f"{path}.{key}"))
    elif isinstance(body, list):
        for n, value in enumerate(body):
            out.extend(_json_problems(value, f"{path}[{n}]"))
    elif isinstance(body, int | float) and not isinstance(body, bool):
        out.append(f"{path}: {body!r}")
    return out


def test_every_count_a_supervisor_gets_came_out_of_the_layer(
    app, client, world, known, login_as, monkeypatch
):
    login_as(world.users["supervisor"])
    rendered: list = []
    exported: list = []

    def record(sender, template, context, **extra):
        rendered.append(context)

    for name in ("to_xlsx", "to_csv"):
        original = getattr(exports, name)

        def spy(report, meta, _original=original):
            exported.append(report)
            return _original(report, meta)

        monkeypatch.setattr(exports, name, spy)
    reached, problems = set(), []
    template_rendered.connect(record, app)
    try:
        for endpoint, url in _urls(app):
            rendered.clear()
            exported.clear()
            response = client.get(url)
            if response.status_code != 200:
                continue
            reached.add(endpoint)
            allowed = FRAMEWORK | NOT_ABOUT_CASES.get(endpoint, set())
            for context in rendered:
                shown = {k: v for k, v in context.items() if k not in allowed}
                problems += [f"{endpoint} {url} {p}" for p in unreleased(shown)]
            for report in exported:
                problems += [f"{endpoint} {url} file {p}" for p in unreleased(report)]
            if response.is_json and "*" not in allowed:
                problems += [f"{endpoint} {url} {p}" for p in _json_problems(response.get_json())]
    finally:
        template_rendered.disconnect(record, app)
    assert FIGURE_ENDPOINTS <= reached, FIGURE_ENDPOINTS - reached
    assert problems == [], sorted({(p.split()[0], p.split()[2].split(".")[0]) for p in problems})


def test_a_layer_that_leaks_is_refused_by_every_renderer(
    client, world, known, login_as, monkeypatch
):
    """Sabotage the layer (true counts for everyone): pages, files and the API refuse to go
    out, so the check above is not idle."""

    def leaking(tally, *, protected, k):
        return disclosure.exact(tally)

    monkeypatch.setattr(disclosure, "count", leaking)
    login_as(world.users["supervisor"])
    for url in (
        "/reports/?period=2026-H1",
        "/reports/report?kind=six_monthly&year=2026",
        "/reports/report.csv?kind=annual&year=2026",
        "/reports/report.xlsx?kind=annual&year=2026",
        "/api/v1/reports/dashboard?period=2026",
        "/api/v1/reports/annual/2026",
    ):
        response = client.get(url)
        assert response.status_code == 500, url  # the error page: nothing of the report
        assert "Tổng cộng" not in response.get_data(as_text=True)
    with pytest.raises(Unreleased):
        disclosure.release(
            {"cells": [disclosure.count(disclosure.Tally(3, 7), protected=True, k=5)]}
        )
