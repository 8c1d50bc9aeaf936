"""``docs/api.md`` says what the code does: its routes are the served OpenAPI document's
routes (every bundled plugin enabled), and its error codes are codes the code emits."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import banter_payments
from banter_payments.errors import APIError

ROOT = Path(__file__).resolve().parent.parent
API_MD = (ROOT / "docs" / "api.md").read_text()
PREFIX = "/api/payments"
ROUTE_ROW = re.compile(r"^\| (GET|POST|PUT|PATCH|DELETE) \| `(/[^`]*)` \|", re.MULTILINE)
ERROR_ROW = re.compile(r"^\| (\d{3}) \| `([a-z_]+)` \|", re.MULTILINE)


@pytest.fixture
def settings(settings):
    settings["banter_payments.plugins"] = ("banter_coins\nbanter_credits\nbanter_gifting\n"
                                           "banter_subscriptions\nbanter_notifications")
    settings["gifting.policy"] = "allow_all"
    return settings


def test_the_routes_of_api_md_are_the_routes_of_the_openapi_document(testapp):
    paths = testapp.get(f"{PREFIX}/openapi.json").json["paths"]
    served = {(method.upper(), path.removeprefix(PREFIX))
              for path, operations in paths.items() for method in operations}
    documented = set(ROUTE_ROW.findall(API_MD))
    assert documented, "docs/api.md has no route table"
    assert documented - served == set(), "in docs/api.md, not served"
    assert served - documented == set(), "served, not in docs/api.md"


def _emitted_codes() -> set[tuple[int, str]]:
    """(status, code) pairs the code can answer: every ``APIError`` class, and every
    literal ``error_response(request, status, "code", ...)`` in the packages."""
    import banter_coins  # noqa: F401 - plugins define errors of their own too
    import banter_credits  # noqa: F401
    import banter_gifting  # noqa: F401
    import banter_notifications  # noqa: F401

    pairs = set()
    pending = [APIError]
    while pending:
        cls = pending.pop()
        pairs.add((cls.status, cls.code))
        pending.extend(cls.__subclasses__())
    roots = [Path(banter_payments.__file__).parent, ROOT / "plugins"]
    for path in (p for root in roots for p in root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "error_response"
                    and len(node.args) >= 3
                    and all(isinstance(a, ast.Constant) for a in node.args[1:3])):
                pairs.add((node.args[1].value, node.args[2].value))
    return pairs


def test_every_error_of_the_table_is_one_the_code_emits():
    documented = {(int(status), code) for status, code in ERROR_ROW.findall(API_MD)}
    assert len(documented) >= 10, "docs/api.md has no error table"
    assert documented - _emitted_codes() == set()


def test_every_error_the_code_defines_is_in_the_table():
    documented = {(int(status), code) for status, code in ERROR_ROW.findall(API_MD)}
    internal = {(400, "bad_request"), (500, "internal_error")}  # a base class; a bug
    assert _emitted_codes() - internal - documented == set()
