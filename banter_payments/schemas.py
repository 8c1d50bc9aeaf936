"""Strict colander types and the schema → JSON Schema translation.

colander is lenient by default: ``Int`` turns ``1.9`` into ``1`` and ``"7"`` into ``7``,
``String`` turns ``5`` into ``"5"``, and ``Mapping`` drops unknown keys. For money that is
a bug factory, so these types accept exactly the JSON type they name and mappings reject
unknown keys. The same schema objects produce the OpenAPI document (``to_json_schema``),
so what the document says and what the views accept cannot drift apart.
"""

from __future__ import annotations

import re
from typing import Any

import colander

from .errors import ValidationFailed


class StrictInt(colander.SchemaType):
    """A JSON integer: no floats, no strings, no booleans."""

    def serialize(self, node, appstruct):
        return colander.null if appstruct is colander.null else appstruct

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return colander.null
        if isinstance(cstruct, bool) or not isinstance(cstruct, int):
            raise colander.Invalid(node, "must be an integer")
        return cstruct


class StrictString(colander.SchemaType):
    """A JSON string, optionally stripped; control characters are refused."""

    _CONTROL = re.compile(r"[\x00-\x1f\x7f]")

    def __init__(self, allow_empty: bool = False):
        self.allow_empty = allow_empty

    def serialize(self, node, appstruct):
        return colander.null if appstruct is colander.null else appstruct

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return colander.null
        if not isinstance(cstruct, str):
            raise colander.Invalid(node, "must be a string")
        if self._CONTROL.search(cstruct):
            raise colander.Invalid(node, "must not contain control characters")
        if cstruct == "" and not self.allow_empty:
            raise colander.Invalid(node, "must not be empty")
        return cstruct


class StrictBool(colander.SchemaType):
    def serialize(self, node, appstruct):
        return colander.null if appstruct is colander.null else appstruct

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return colander.null
        if not isinstance(cstruct, bool):
            raise colander.Invalid(node, "must be true or false")
        return cstruct


class FreeMapping(colander.SchemaType):
    """A JSON object of any shape (metadata); only its size is bounded."""

    def __init__(self, max_keys: int = 32):
        self.max_keys = max_keys

    def serialize(self, node, appstruct):
        return colander.null if appstruct is colander.null else appstruct

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return colander.null
        if not isinstance(cstruct, dict):
            raise colander.Invalid(node, "must be an object")
        if len(cstruct) > self.max_keys:
            raise colander.Invalid(node, f"must have at most {self.max_keys} keys")
        return cstruct


def StrictMapping() -> colander.Mapping:  # noqa: N802 - reads like a type at call sites
    return colander.Mapping(unknown="raise")


class StrictSchema(colander.MappingSchema):
    """A JSON object that refuses unknown keys."""

    schema_type = staticmethod(StrictMapping)


def validate(schema: colander.SchemaNode, data: Any, where: str = "body") -> Any:
    """Deserialize ``data`` or raise ``ValidationFailed`` naming every bad field.

    ``where`` ("body" or "query") names the whole input when a problem is not one field's.
    """
    if isinstance(schema.typ, colander.Mapping) and not isinstance(data, dict):
        raise ValidationFailed(f"The {where} must be a JSON object.")
    if isinstance(schema.typ, colander.Mapping) and schema.typ.unknown == "raise":
        known = {child.name for child in schema.children}
        unknown = sorted(str(key) for key in data if key not in known)
        if unknown:
            raise ValidationFailed(details={key: "is not a field of this request"
                                            for key in unknown})
    try:
        return schema.deserialize(data)
    except colander.Invalid as exc:
        details = {key or where: message for key, message in exc.asdict().items()}
        raise ValidationFailed(details=details) from None


def to_json_schema(node: colander.SchemaNode) -> dict[str, Any]:
    """JSON Schema (as OpenAPI 3.0 uses it) for a colander node."""
    typ = node.typ
    result: dict[str, Any]
    if isinstance(typ, colander.Mapping):
        properties = {child.name: to_json_schema(child) for child in node.children}
        required = [child.name for child in node.children if child.required]
        result = {"type": "object", "properties": properties}
        if required:
            result["required"] = required
        if typ.unknown == "raise":
            result["additionalProperties"] = False
    elif isinstance(typ, colander.Sequence):
        result = {"type": "array", "items": to_json_schema(node.children[0])}
    elif isinstance(typ, StrictInt | QueryInt):
        result = {"type": "integer"}
    elif isinstance(typ, StrictBool):
        result = {"type": "boolean"}
    elif hasattr(typ, "json_schema"):  # before its base classes: it knows better
        result = typ.json_schema()
    elif isinstance(typ, FreeMapping):
        result = {"type": "object", "maxProperties": typ.max_keys}
    elif isinstance(typ, StrictString):
        result = {"type": "string", "pattern": "^[^\\x00-\\x1f\\x7f]*$"}
        if not typ.allow_empty:
            result["minLength"] = 1
    elif isinstance(typ, colander.String):
        result = {"type": "string"}
    else:
        raise TypeError(f"no JSON Schema for colander type {type(typ).__name__} "
                        f"(give it a json_schema() method)")
    _apply_validator(node.validator, result)
    if node.description:
        result["description"] = node.description
    if node.missing is None:
        result["nullable"] = True
    elif node.missing not in (colander.required, colander.drop, colander.null):
        result["default"] = node.missing
    return result


def _apply_validator(validator, result: dict[str, Any]) -> None:
    if validator is None:
        return
    if isinstance(validator, colander.All):
        for inner in validator.validators:
            _apply_validator(inner, result)
    elif isinstance(validator, colander.Range):
        if validator.min is not None:
            result["minimum"] = validator.min
        if validator.max is not None:
            result["maximum"] = validator.max
    elif isinstance(validator, colander.Length):
        lo, hi = ("minLength", "maxLength") if result.get("type") == "string" else (
            "minItems", "maxItems")
        if validator.min is not None:
            result[lo] = validator.min
        if validator.max is not None:
            result[hi] = validator.max
    elif isinstance(validator, colander.OneOf):
        result["enum"] = list(validator.choices)
    elif isinstance(validator, colander.Regex):
        result["pattern"] = validator.match_object.pattern


class QueryInt(colander.SchemaType):
    """An integer given in a query string (``?limit=20``): digits only."""

    def serialize(self, node, appstruct):
        return colander.null if appstruct is colander.null else str(appstruct)

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or cstruct == "":
            return colander.null
        if not isinstance(cstruct, str) or not cstruct.isdigit() or len(cstruct) > 9:
            raise colander.Invalid(node, "must be a whole number")
        return int(cstruct)


class QueryBool(colander.SchemaType):
    """A flag in a query string: ``true`` or ``false``."""

    def serialize(self, node, appstruct):
        return colander.null if appstruct is colander.null else str(appstruct).lower()

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or cstruct == "":
            return colander.null
        if cstruct not in ("true", "false"):
            raise colander.Invalid(node, "must be true or false")
        return cstruct == "true"

    def json_schema(self) -> dict:
        return {"type": "boolean"}


class PageQuery(StrictSchema):
    """``?limit=&cursor=`` as API.md defines lists."""

    limit = colander.SchemaNode(QueryInt(), missing=20, validator=colander.Range(1, 100))
    cursor = colander.SchemaNode(StrictString(), missing=None,
                                 validator=colander.Length(max=200))
