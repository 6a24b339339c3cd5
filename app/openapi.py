"""A small registry of OpenAPI 3 paths: each module adds its own; the API serves the merge.

The merge also states what every operation shares, so that no module can forget it and the
document matches every answer (schemathesis checks it in CI, tests/fuzz): the JSON error body,
401 without a valid token, 403 for a role the operation refuses, 404 where a path names an
object (out of range ids too), 400 where a query or a body can be malformed, and the ranges of
ids and pages.
"""

from __future__ import annotations

import copy

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from app.web.params import MAX_ID, MAX_PAGE

ERROR = {
    "type": "object",
    "required": ["error", "status"],
    "properties": {
        "error": {"type": "string", "description": "in the user's language"},
        "status": {"type": "integer"},
        "fields": {
            "type": "object",
            "description": "per field, what is wrong with it (invalid input only)",
        },
        "message": {"type": "string"},
    },
}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_SHARED_ERRORS = {
    "400": "Malformed query or body",
    "401": "No valid bearer token",
    "403": "Your role may not use this operation",
    "404": "Not found, out of range or outside your scope",
}

_PATHS: dict[str, dict[str, dict]] = {}
_SCHEMAS: dict[str, dict] = {}


def register_path(path: str, method: str, spec: dict) -> None:
    """Add (or replace) the operation `method` of `path` (OpenAPI path template, e.g.
    "/api/v1/cases/{code}")."""
    _PATHS.setdefault(path, {})[method.lower()] = copy.deepcopy(spec)


def paged_response(description: str, item: dict) -> dict:
    """The 200 response of a paginated list endpoint: items of `item`, page, pages, total."""
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "items": {"type": "array", "items": item},
                        "page": {"type": "integer"},
                        "pages": {"type": "integer"},
                        "total": {"type": "integer"},
                    },
                }
            }
        },
    }


# Response bodies are described from the marshmallow schemas that dump them (apispec), so the
# document cannot drift from what the API returns. Nested schemas are written inline.
_MARSHMALLOW = MarshmallowPlugin(schema_name_resolver=lambda schema: None)
APISpec("Cầu Nối API", "1", "3.0.3", plugins=[_MARSHMALLOW])


def body_of(schema) -> dict:
    """The OpenAPI schema of a marshmallow schema (class or instance)."""
    return _MARSHMALLOW.converter.schema2jsonschema(schema)


def with_properties(schema: dict, **properties: dict) -> dict:
    """`schema` (an object) with more properties that the endpoint adds to the dump."""
    out = copy.deepcopy(schema)
    out.setdefault("properties", {}).update(properties)
    return out


def json_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def register_schema(name: str, schema: dict) -> None:
    _SCHEMAS[name] = copy.deepcopy(schema)


def _bound(param: dict) -> None:
    schema = param.setdefault("schema", {"type": "string"})
    if schema.get("type") != "integer":
        return
    if param.get("in") == "path" or param.get("name", "").endswith("_id"):
        schema.setdefault("minimum", 0 if param.get("in") == "path" else 1)
        schema.setdefault("maximum", MAX_ID)
    elif param.get("name") in ("page", "per_page"):
        schema.setdefault("minimum", 1)
        schema.setdefault("maximum", MAX_PAGE)


def _complete(operation: dict) -> dict:
    """What every operation shares (the module docstring says why)."""
    params = operation.get("parameters", [])
    for param in params:
        _bound(param)
    responses = operation.setdefault("responses", {})
    shared = {"401", "403"}
    if any(p.get("in") == "path" for p in params):
        shared.add("404")
    if any(p.get("in") == "query" for p in params) or "requestBody" in operation:
        shared.add("400")
    for code in sorted(shared):
        responses.setdefault(code, {"description": _SHARED_ERRORS[code]})
    for code, response in responses.items():
        if code.startswith(("4", "5")) and "content" not in response:
            response["content"] = {"application/json": {"schema": _ERROR_REF}}
    return operation


def document(title: str = "Cầu Nối API", version: str = "1") -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": version},
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": copy.deepcopy(ERROR), **copy.deepcopy(_SCHEMAS)},
        },
        "security": [{"bearer": []}],
        "paths": {
            path: {method: _complete(copy.deepcopy(op)) for method, op in ops.items()}
            for path, ops in sorted(_PATHS.items())
        },
    }
