"""JSON Schema of ``GET /catalog``'s answer, for the OpenAPI document."""

from __future__ import annotations

_STRING = {"type": "string"}
_INTEGER = {"type": "integer"}
_MONEY = {"type": "integer", "minimum": 0, "description": "minor units"}

CATALOG = {
    "type": "object",
    "required": ["items"],
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["sku", "kind", "name", "amount", "currency", "grants"],
                "properties": {
                    "sku": _STRING, "kind": _STRING, "name": _STRING,
                    "description": _STRING, "amount": _MONEY, "currency": _STRING,
                    "grants": {"type": "object", "additionalProperties": _INTEGER},
                    "entitlements": {"type": "array", "items": _STRING},
                },
                "additionalProperties": True,
            },
        }
    },
}
