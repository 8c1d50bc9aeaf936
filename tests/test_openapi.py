"""The served OpenAPI document matches the routes the app actually has."""

from openapi_spec_validator import validate
from pyramid.interfaces import IRoutesMapper

from banter_payments.api import OPERATIONS_KEY

# Routes that are not part of the REST contract: the mounted emulator speaks Razorpay's
# API, documented by Razorpay; the demo serves pages.
UNDOCUMENTED = {"payments.sandbox.razorpay", "demo.index", "demo.redirect", "demo.asset"}


def test_the_document_is_valid_openapi(testapp):
    document = testapp.get("/api/payments/openapi.json").json
    validate(document)
    assert document["openapi"].startswith("3.")


def test_every_route_is_documented_and_every_operation_is_routed(registry):
    routes = {route.name for route in registry.getUtility(IRoutesMapper).get_routes()}
    operations = {name for name, _method in registry[OPERATIONS_KEY]}
    assert routes - UNDOCUMENTED - operations == set()
    assert operations - routes == set()


def test_the_document_lists_the_api_md_routes(testapp):
    paths = testapp.get("/api/payments/openapi.json").json["paths"]
    expected = {
        "/api/payments/health": {"get"},
        "/api/payments/catalog": {"get"},
        "/api/payments/orders": {"get", "post"},
        "/api/payments/orders/{order_id}": {"get"},
        "/api/payments/orders/{order_id}/retry": {"post"},
        "/api/payments/verify": {"post"},
        "/api/payments/openapi.json": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path


def test_request_bodies_come_from_the_validating_schemas(testapp):
    paths = testapp.get("/api/payments/openapi.json").json["paths"]
    create = paths["/api/payments/orders"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    variants = {variant["title"]: variant for variant in create["oneOf"]}
    assert variants["user"]["required"] == ["sku"]
    assert variants["user"]["additionalProperties"] is False
    assert variants["service"]["properties"]["amount"]["type"] == "integer"
    assert variants["service"]["properties"]["amount"]["minimum"] == 1


def test_the_answers_every_operation_can_give_are_documented(testapp):
    paths = testapp.get("/api/payments/openapi.json").json["paths"]
    create = paths["/api/payments/orders"]["post"]["responses"]
    assert {"201", "400", "401", "409", "413", "415", "422", "429", "502"} <= set(create)
    assert "403" not in create
    health = paths["/api/payments/health"]["get"]["responses"]
    assert set(health) == {"200", "503"}


def test_string_rules_are_in_the_schema(testapp):
    paths = testapp.get("/api/payments/openapi.json").json["paths"]
    verify = paths["/api/payments/verify"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    signature = verify["properties"]["razorpay_signature"]
    assert signature["minLength"] == 1
    assert signature["pattern"] == "^[^\\x00-\\x1f\\x7f]*$"
    assert signature["nullable"] is True


def test_a_type_with_its_own_json_schema_is_documented_by_it(testapp):
    """Refund notes are a FreeMapping with stricter rules: the document must carry the
    rules (values are strings or integers), not the base class's "any object"."""
    paths = testapp.get("/api/payments/openapi.json").json["paths"]
    body = paths["/api/payments/orders/{order_id}/refunds"]["post"]["requestBody"]
    notes = body["content"]["application/json"]["schema"]["properties"]["notes"]
    assert notes["additionalProperties"] == {
        "oneOf": [{"type": "string", "maxLength": 256}, {"type": "integer"}]}
