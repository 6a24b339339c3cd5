"""The JSON shape of a report (marshmallow): the same cells as the pages, never a case."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.reports.disclosure import NOTE, WIDTH


class CellSchema(Schema):
    """A figure of app.reports.disclosure: its printed text, its number when published, and
    what kind of figure it is (count, rate, median, activity, staff, setting)."""

    text = fields.String()
    value = fields.Float(allow_none=True)
    suppressed = fields.Boolean()
    kind = fields.Function(lambda f: str(f.kind))
    protected = fields.Boolean()


class RowSchema(Schema):
    key = fields.String()
    label = fields.String()
    is_total = fields.Boolean()
    cells = fields.Dict(keys=fields.String(), values=fields.Nested(CellSchema))


class TargetSchema(Schema):
    indicator = fields.String()
    label = fields.String()
    target = fields.Float()
    actual = fields.Nested(CellSchema, attribute="figure")
    status = fields.String()


class PlanProgressSchema(Schema):
    plan_id = fields.Function(lambda p: p.plan.id)
    name = fields.Function(lambda p: p.plan.name)
    number = fields.Function(lambda p: p.plan.number)
    period_start = fields.Function(lambda p: p.plan.period_start.isoformat())
    period_end = fields.Function(lambda p: p.plan.period_end.isoformat())
    targets = fields.List(fields.Nested(TargetSchema))


class ReportSchema(Schema):
    org_unit = fields.Function(lambda r: r.unit.code)
    period_start = fields.Function(lambda r: r.period.start.isoformat())
    period_end = fields.Function(lambda r: r.period.end.isoformat())
    window = fields.String()
    suppression_k = fields.Function(lambda r: r.k if r.protected else None)
    connected_target = fields.Float()
    rows = fields.List(fields.Nested(RowSchema))
    months = fields.List(fields.Nested(RowSchema))
    categories = fields.List(fields.Nested(RowSchema))
    statuses = fields.List(fields.Nested(RowSchema))
    reasons = fields.List(fields.Nested(RowSchema))
    plans = fields.List(fields.Nested(PlanProgressSchema))
    people_reached = fields.Dict(
        keys=fields.String(), values=fields.Nested(CellSchema), attribute="reached"
    )
    communes_with_activity = fields.Nested(CellSchema, attribute="communes")
    disclosure = fields.Function(
        lambda r: (
            {"method": "cell-key", "k": r.k, "width": WIDTH, "note": NOTE} if r.protected else None
        )
    )
