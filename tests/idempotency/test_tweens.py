"""Idempotency-Key semantics (API.md, after Stripe), on a route that counts its runs."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from banter_payments.clock import utcnow
from banter_payments.idempotency import services
from banter_payments.idempotency.models import IdempotencyKey

WORK = "/api/payments/_test/work"  # served by this directory's conftest


def post(testapp, body, key, status, headers=None, **kwargs):
    return testapp.post_json(WORK, body, headers={"Idempotency-Key": key, **(headers or {})},
                             status=status, **kwargs)


def test_without_a_key_every_request_runs(testapp, counter, keys):
    testapp.post_json(WORK, {}, status=201)
    testapp.post_json(WORK, {}, status=201)
    assert counter.calls == 2
    assert keys() == []


def test_the_same_request_twice_runs_once_and_answers_the_same(testapp, counter, keys, auth):
    first = post(testapp, {"echo": "a"}, "k-1", 201, auth("alice"))
    second = post(testapp, {"echo": "a"}, "k-1", 201, auth("alice"))
    assert counter.calls == 1
    assert first.json == second.json == {"call": 1, "attempt": 0, "echo": "a"}
    assert second.body == first.body
    assert second.content_type == "application/json"
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["X-Content-Type-Options"] == "nosniff"
    assert keys() == [("user:alice", "k-1", "completed", 201)]


def test_a_different_request_with_the_same_key_is_422(testapp, counter, auth):
    post(testapp, {"echo": "a"}, "k-1", 201, auth("alice"))
    response = post(testapp, {"echo": "b"}, "k-1", 422, auth("alice"))
    assert response.json["error"]["code"] == "idempotency_key_reused"
    other_path = testapp.post_json("/api/payments/orders", {"sku": "coins.popular"},
                                   headers={"Idempotency-Key": "k-1", **auth("alice")},
                                   status=422)
    assert other_path.json["error"]["code"] == "idempotency_key_reused"
    assert counter.calls == 1


def test_the_same_json_spelled_differently_is_the_same_request(testapp, counter, auth):
    headers = {"Idempotency-Key": "k-2", "Content-Type": "application/json", **auth("alice")}
    first = testapp.post(WORK, b'{"echo": "a", "n": 1}', headers=headers, status=201)
    again = testapp.post(WORK, b'{ "n" : 1,\n  "echo":"a" }', headers=headers, status=201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.body == first.body
    assert counter.calls == 1
    different = testapp.post(WORK, b'{"echo": "a", "n": 2}', headers=headers, status=422)
    assert different.json["error"]["code"] == "idempotency_key_reused"


def test_keys_are_scoped_to_the_caller(testapp, counter, keys, auth):
    assert post(testapp, {}, "k-1", 201, auth("alice")).json["call"] == 1
    assert post(testapp, {}, "k-1", 201, auth("bob")).json["call"] == 2
    assert post(testapp, {}, "k-1", 201).json["call"] == 3
    assert post(testapp, {}, "k-1", 201, extra_environ={"REMOTE_ADDR": "10.0.0.9"}).json[
        "call"] == 4
    assert post(testapp, {}, "k-1", 201).json["call"] == 3
    assert counter.calls == 4
    assert {row[0] for row in keys()} == {"user:alice", "user:bob", "anonymous:127.0.0.1",
                                          "anonymous:10.0.0.9"}


@pytest.mark.parametrize("key,reason", [
    ("k" * 256, "must be at most 255 characters"),
    ("bad\x01key", "must contain only printable ASCII characters"),
    ("tab\there", "must contain only printable ASCII characters"),
    ("caf\xe9", "must contain only printable ASCII characters"),
    ("", "must not be empty"),
])
def test_a_bad_key_is_400_and_changes_nothing(testapp, counter, keys, key, reason):
    response = post(testapp, {}, key, 400)
    assert response.json["error"] == {"code": "validation_failed",
                                      "message": "The request does not match the schema.",
                                      "details": {"Idempotency-Key": reason}}
    assert counter.calls == 0
    assert keys() == []


def test_a_key_of_255_printable_characters_is_fine(testapp, keys):
    key = ("abc-_ !~" * 40)[:255]
    post(testapp, {}, key, 201)
    assert keys()[0][1:] == (key, "completed", 201)


def test_a_request_that_failed_validation_stores_nothing(testapp, counter, keys):
    post(testapp, {"outcome": "invalid"}, "k-1", 400)
    assert keys() == []
    # the key is free: the corrected request (a different body) runs
    assert post(testapp, {"echo": "fixed"}, "k-1", 201).json["call"] == 2


def test_an_error_answer_of_an_operation_that_ran_is_replayed(testapp, counter, keys):
    first = post(testapp, {"outcome": "conflict"}, "k-1", 409)
    second = post(testapp, {"outcome": "conflict"}, "k-1", 409)
    assert counter.calls == 1
    assert second.json == first.json
    assert first.json["error"]["code"] == "conflict"
    assert second.headers["Idempotent-Replayed"] == "true"
    assert keys() == [("anonymous:127.0.0.1", "k-1", "completed", 409)]


@pytest.mark.parametrize("outcome,status", [("gateway", 502), ("crash", 500)])
def test_a_server_error_releases_the_key(testapp, counter, keys, outcome, status):
    post(testapp, {"outcome": outcome}, "k-1", status)
    assert keys() == []
    post(testapp, {"outcome": outcome}, "k-1", status)
    assert counter.calls == 2


def test_a_request_in_flight_elsewhere_gets_409(testapp, counter, dbsession):
    now = utcnow()
    outcome = services.claim(
        dbsession, scope="anonymous:127.0.0.1", key="k-1",
        request_fingerprint=services.fingerprint("POST", WORK, b"{}"), method="POST",
        path=WORK, token="another-process", now=now, lease_seconds=60, ttl_seconds=86400)
    dbsession.commit()
    assert outcome.kind == "claimed"
    response = post(testapp, {}, "k-1", 409)
    assert response.json["error"]["code"] == "idempotency_key_in_use"
    assert response.headers["Retry-After"] == "1"
    assert counter.calls == 0
    # the other request is still running: its claim is untouched
    row = dbsession.execute(sa.select(IdempotencyKey.status, IdempotencyKey.claim_token)).one()
    dbsession.rollback()
    assert tuple(row) == ("in_flight", "another-process")


def test_a_claim_whose_lease_ran_out_is_taken_over(testapp, counter, dbsession, keys):
    """A process that crashed mid-request cannot wedge a key past its lease."""
    past = utcnow() - dt.timedelta(minutes=10)
    services.claim(
        dbsession, scope="anonymous:127.0.0.1", key="k-1",
        request_fingerprint=services.fingerprint("POST", WORK, b"{}"), method="POST",
        path=WORK, token="crashed-process", now=past, lease_seconds=60, ttl_seconds=86400)
    dbsession.commit()
    assert post(testapp, {}, "k-1", 201).json["call"] == 1
    assert keys() == [("anonymous:127.0.0.1", "k-1", "completed", 201)]


def test_a_retried_attempt_reenters_its_own_claim(testapp, counter, keys):
    """pyramid_retry replays a request that lost a database race: not a duplicate."""
    response = post(testapp, {"outcome": "race"}, "k-1", 201)
    assert response.json == {"call": 2, "attempt": 1, "echo": None}
    assert keys() == [("anonymous:127.0.0.1", "k-1", "completed", 201)]
    assert post(testapp, {"outcome": "race"}, "k-1", 201).json == response.json


def test_get_requests_ignore_the_header(testapp, keys):
    testapp.get("/api/payments/catalog", headers={"Idempotency-Key": "k" * 300}, status=200)
    assert keys() == []


def test_webhooks_are_exempt(testapp, keys):
    response = testapp.post("/api/payments/webhooks/razorpay", b"{}", headers={
        "Idempotency-Key": "k-1", "Content-Type": "application/json",
        "X-Razorpay-Signature": "0" * 64}, expect_errors=True)
    assert response.status_int == 400
    assert keys() == []


def test_an_expired_key_is_forgotten(testapp, counter, dbsession):
    post(testapp, {}, "k-1", 201)
    dbsession.execute(sa.update(IdempotencyKey).values(
        expires_at=utcnow() - dt.timedelta(seconds=1)))
    dbsession.commit()
    assert post(testapp, {}, "k-1", 201).json["call"] == 2
