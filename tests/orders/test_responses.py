"""Real answers conform to the response schemas the OpenAPI document publishes."""

import pytest
from openapi_schema_validator import OAS30Validator

PREFIX = "/api/payments"


@pytest.fixture
def document(testapp):
    return testapp.get(f"{PREFIX}/openapi.json").json


def schema_of(document, path, method, status):
    return document["paths"][f"{PREFIX}{path}"][method]["responses"][str(status)][
        "content"]["application/json"]["schema"]


def conforms(schema, instance):
    errors = list(OAS30Validator(schema).iter_errors(instance))
    assert errors == [], [error.message for error in errors]


def test_order_answers_conform(testapp, auth, document):
    created = testapp.post_json(f"{PREFIX}/orders", {"sku": "coins.popular"},
                                headers=auth("alice")).json
    conforms(schema_of(document, "/orders", "post", 201), created)
    checkout = testapp.post_json(
        f"{PREFIX}/_sandbox/razorpay/checkout/{created['razorpayOrderId']}/pay",
        {"outcome": "success", "method": "card"}).json
    paid = testapp.post_json(f"{PREFIX}/verify", checkout, headers=auth("alice")).json
    conforms(schema_of(document, "/verify", "post", 200), paid)
    shown = testapp.get(f"{PREFIX}/orders/{created['id']}", headers=auth("ops", "admin")).json
    conforms(schema_of(document, "/orders/{order_id}", "get", 200), shown)
    page = testapp.get(f"{PREFIX}/orders", headers=auth("alice")).json
    conforms(schema_of(document, "/orders", "get", 200), page)


def test_a_service_order_conforms(testapp, auth, document):
    created = testapp.post_json(
        f"{PREFIX}/orders",
        {"amount": 5000, "currency": "INR", "externalRef": "job-1", "sourceApp": "jobs",
         "metadata": {"k": "v"}}, headers=auth("svc", "service")).json
    conforms(schema_of(document, "/orders", "post", 201), created)


def test_the_catalog_conforms(testapp, document):
    conforms(schema_of(document, "/catalog", "get", 200), testapp.get(f"{PREFIX}/catalog").json)


def test_the_schema_catches_a_wrong_answer(document):
    """The check above can fail: a float amount does not conform."""
    schema = schema_of(document, "/catalog", "get", 200)
    bad = {"items": [{"sku": "x", "kind": "k", "name": "n", "amount": 1.5,
                      "currency": "INR", "grants": {}}]}
    assert list(OAS30Validator(schema).iter_errors(bad))
