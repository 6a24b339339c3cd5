"""A small registry of OpenAPI 3 paths: each module adds its own; the API serves the merge."""

from __future__ import annotations

import copy

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


def register_schema(name: str, schema: dict) -> None:
    _SCHEMAS[name] = copy.deepcopy(schema)


def document(title: str = "Cầu Nối API", version: str = "1") -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": version},
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": copy.deepcopy(_SCHEMAS),
        },
        "security": [{"bearer": []}],
        "paths": {p: copy.deepcopy(ops) for p, ops in sorted(_PATHS.items())},
    }
