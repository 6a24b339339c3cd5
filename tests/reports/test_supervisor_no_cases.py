"""Supervisors see aggregates only: every case page and case API answers them 404."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

CASE_BLUEPRINTS = ("cases", "cases_api")
# Endpoints of the cases blueprints that are not about a case (public, or one's own account).
NOT_CASE_PAGES = {"cases_api.openapi"}


def _case_rules(app):
    rules = []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rpartition(".")[0]
        if blueprint in CASE_BLUEPRINTS and rule.endpoint not in NOT_CASE_PAGES:
            if "/cases" in rule.rule:
                rules.append(rule)
    return rules


def _url(rule, code: str) -> str:
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]
        values[arg] = 1 if isinstance(converter, IntegerConverter) else code
    return rule.build(values)[1]


def test_cases_blueprints_exist(app):
    """The walk below covers the case pages and the case API, both with case codes in them."""
    rules = _case_rules(app)
    paths = {rule.rule for rule in rules}
    assert {"/cases/<code>", "/api/v1/cases/<code>", "/cases/"} <= paths
    assert sum(1 for rule in rules if "code" in rule.arguments) >= 10


def _supervisor_token(world) -> str:
    from app.cases.tokens import create_api_token
    from app.extensions import db
    from app.permissions import Actor

    _token, plain = create_api_token(Actor.from_user(world.users["supervisor"]), "reports")
    db.session.commit()
    return plain


def test_supervisor_gets_404_on_every_case_url(app, client, world, known, login_as):
    """Every URL naming a case answers 404 (page and API, in the supervisor's own subtree);
    the case pages that name no case (list, intake, import) are refused outright."""
    rules = _case_rules(app)
    assert rules, "no case routes to walk"
    login_as(world.users["supervisor"])
    headers = {"Authorization": f"Bearer {_supervisor_token(world)}"}
    code = known["c1"].code  # a case inside the supervisor's own subtree
    failures = []
    for rule in rules:
        url = _url(rule, code)
        names_a_case = bool(rule.arguments)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            api = url.startswith("/api/")
            response = client.open(
                url, method=method, json={} if api else None, headers=headers if api else None
            )
            allowed = {404} if names_a_case else {403, 404}
            if response.status_code not in allowed:
                failures.append((method, url, response.status_code))
    assert not failures, "\n".join(map(str, failures))
