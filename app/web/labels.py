"""One place where templates find the users' words for the codes they show.

Each module keeps its own labels next to its codes; this gathers those a template needs but whose
module does not register them itself, so no page prints `high`, `verbal` or `case.viewed`
(tests/test_field_crawl.py walks every page of every role looking for raw codes).
"""

from __future__ import annotations

from app.audit.action_labels import action_label, object_label
from app.cases.forms import METHOD_CHOICES, PRIORITY_CHOICES


def _from_choices(choices):
    table = {value: label for value, label in choices if value}

    def label(code) -> str:
        if not code:
            return ""
        found = table.get(str(code))
        return str(found) if found is not None else str(code)

    return label


need_priority_label = _from_choices(PRIORITY_CHOICES)
consent_method_label = _from_choices(METHOD_CHOICES)

TEMPLATE_LABELS = {
    "audit_action_label": action_label,
    "audit_object_label": object_label,
    "need_priority_label": need_priority_label,
    "consent_method_label": consent_method_label,
}
