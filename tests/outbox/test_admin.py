"""Operators: list dead and pending messages, retry one, retry every dead one."""

from __future__ import annotations

import dataclasses

import pytest

LIST = "/api/payments/admin/outbox"


@pytest.fixture
def dead_and_pending(pay, receiver, deliverer, messages):
    receiver.status = 500
    pay()
    pay()
    worker = dataclasses.replace(deliverer.policy, max_attempts=1, circuit_failures=100)
    deliverer.policy = worker
    assert deliverer.run_batch().dead == 2
    receiver.status = 200
    pay()
    return messages()


def test_the_list_filters_by_status(testapp, auth, dead_and_pending):
    admin = auth("root", "admin")
    dead = testapp.get(LIST, {"status": "dead"}, headers=admin).json["items"]
    assert len(dead) == 2
    assert all(item["status"] == "dead" and item["attempts"] == 1 for item in dead)
    assert dead[0]["lastError"].startswith("HTTP 500")
    pending = testapp.get(LIST, {"status": "pending"}, headers=admin).json["items"]
    assert [item["status"] for item in pending] == ["pending"]
    page = testapp.get(LIST, {"limit": 2}, headers=admin).json
    rest = testapp.get(LIST, {"limit": 2, "cursor": page["nextCursor"]}, headers=admin).json
    assert len(page["items"]) == 2 and len(rest["items"]) == 1
    assert rest["nextCursor"] is None


def test_the_routes_are_for_admins_only(testapp, auth):
    testapp.get(LIST, status=401)
    testapp.get(LIST, headers=auth("alice"), status=403)
    testapp.post_json(f"{LIST}/obm_x/retry", {}, headers=auth("alice"), status=403)


def test_bad_queries_are_400(testapp, auth):
    admin = auth("root", "admin")
    testapp.get(LIST, {"status": "lost"}, headers=admin, status=400)
    testapp.get(LIST, {"cursor": "nope"}, headers=admin, status=400)
    testapp.get(LIST, {"what": "x"}, headers=admin, status=400)


def test_retrying_a_dead_message_delivers_it(testapp, auth, dead_and_pending, deliverer,
                                             messages, receiver):
    admin = auth("root", "admin")
    dead = [m for m in dead_and_pending if m["status"] == "dead"][0]
    answer = testapp.post_json(f"{LIST}/{dead['id']}/retry", {}, headers=admin).json
    assert answer["status"] == "pending" and answer["attempts"] == 0
    deliverer.run_batch()
    [row] = messages(id=dead["id"])
    assert row["status"] == "delivered"
    testapp.post_json(f"{LIST}/{dead['id']}/retry", {}, headers=admin, status=409)
    testapp.post_json(f"{LIST}/obm_missing/retry", {}, headers=admin, status=404)
    testapp.post_json(f"{LIST}/{dead['id']}/retry", {"x": 1}, headers=admin, status=400)


def test_the_routes_are_in_the_openapi_document(testapp):
    paths = testapp.get("/api/payments/openapi.json").json["paths"]
    assert "get" in paths["/api/payments/admin/outbox"]
    retry = paths["/api/payments/admin/outbox/{message_id}/retry"]["post"]
    assert {"200", "404", "409"} <= set(retry["responses"])


def test_retry_outbox_command_retries_every_dead_message(settings, dead_and_pending, kit,
                                                         tmp_path, messages, capsys):
    from banter_payments.scripts.worker import main

    ini = kit.write_ini(tmp_path / "app.ini", settings)
    assert main([ini, "retry-outbox", "--dead", "--endpoint", "other"]) == 0
    assert len(messages(status="dead")) == 2
    assert main([ini, "retry-outbox", "--dead"]) == 0
    assert '{"retried": 2}' in capsys.readouterr().out
    assert messages(status="dead") == []
    assert main([ini, "retry-outbox", "--id", "obm_missing"]) == 1
