"""The admin routes over stored deliveries: list, show, replay."""

from __future__ import annotations

import pytest

ADMIN = "/api/payments/admin/webhooks"


class Flaky:
    def __init__(self):
        self.broken = True

    def __call__(self, request, event, delivery):
        if self.broken:
            raise RuntimeError("downstream is down")


@pytest.fixture
def flaky():
    return Flaky()


@pytest.fixture
def configure(flaky):
    return lambda config: config.add_webhook_handler("payment.captured", flaky)


@pytest.fixture
def order(kit, dbsession):
    return kit.make_order(dbsession)


@pytest.fixture
def failed_delivery(kit, deliver, order):
    body = kit.event_body("payment.captured", kit.payment_entity(order.razorpay_order_id))
    response = deliver(body, "evt_failed")
    assert response.outcome == "failed"
    return response.json["deliveryId"]


def test_failed_deliveries_are_listed_for_admins(kit, testapp, auth, deliver, failed_delivery):
    deliver(kit.event_body("subscription.charged", extra_payload={"subscription": {}}),
            "evt_other")

    listed = testapp.get(ADMIN, {"status": "failed"}, headers=auth("ops", "admin")).json

    assert [item["id"] for item in listed["items"]] == [failed_delivery]
    [item] = listed["items"]
    assert (item["status"], item["event"], item["eventId"], item["eventStatus"],
            item["eventAttempts"], item["source"]) == (
        "failed", "payment.captured", "evt_failed", "failed", 1, "razorpay")
    assert item["error"] == "RuntimeError: downstream is down"
    assert "body" not in item and "traceback" not in item
    assert listed["nextCursor"] is None
    everything = testapp.get(ADMIN, headers=auth("ops", "admin")).json["items"]
    assert [i["status"] for i in everything] == ["ignored", "failed"]  # newest first


def test_the_list_pages_with_a_cursor(kit, testapp, auth, deliver, flaky):
    flaky.broken = False
    for number in range(5):
        deliver(kit.event_body("payment.captured", kit.payment_entity("order_unknown000001")),
                f"evt_{number}")
    seen, cursor = [], None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = testapp.get(ADMIN, query, headers=auth("ops", "admin")).json
        seen += [item["eventId"] for item in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == [f"evt_{n}" for n in reversed(range(5))]


@pytest.mark.parametrize("query", [{"status": "exploded"}, {"limit": "0"}, {"cursor": "zzz"},
                                   {"unknown": "1"}])
def test_bad_queries_are_refused(testapp, auth, query):
    response = testapp.get(ADMIN, query, headers=auth("ops", "admin"), status=400)
    assert response.json["error"]["code"] == "validation_failed"


@pytest.mark.parametrize(("method", "path"), [
    ("get", ADMIN), ("get", f"{ADMIN}/whd_x"), ("post", f"{ADMIN}/whd_x/replay"),
])
def test_only_admins_see_deliveries(testapp, auth, method, path):
    assert getattr(testapp, method)(path, status=401).json["error"]["code"] == "unauthenticated"
    response = getattr(testapp, method)(path, headers=auth("alice"), status=403)
    assert response.json["error"]["code"] == "forbidden"


def test_one_delivery_shows_its_body_headers_and_traceback(testapp, auth, failed_delivery):
    shown = testapp.get(f"{ADMIN}/{failed_delivery}", headers=auth("ops", "admin")).json
    assert shown["id"] == failed_delivery
    assert shown["headers"]["X-Razorpay-Event-Id"] == "evt_failed"
    assert '"event":"payment.captured"' in shown["body"]
    assert "RuntimeError: downstream is down" in shown["traceback"]
    testapp.get(f"{ADMIN}/whd_nothing", headers=auth("ops", "admin"), status=404)


def test_a_replay_processes_the_stored_delivery_again(kit, testapp, auth, dbsession, flaky,
                                                      order, failed_delivery):
    flaky.broken = False

    replayed = testapp.post_json(f"{ADMIN}/{failed_delivery}/replay", {},
                                 headers=auth("ops", "admin")).json

    assert (replayed["status"], replayed["source"], replayed["replayOf"],
            replayed["eventStatus"], replayed["eventAttempts"]) == (
        "processed", "replay", failed_delivery, "processed", 2)
    assert kit.reload(dbsession, order).status == "paid"
    assert kit.balance(dbsession, "alice") == 600
    # Razorpay's own retry now finds the event processed.
    body = kit.deliveries(dbsession)[0].body
    assert kit.webhook_headers(body, "evt_failed")
    assert testapp.post("/api/payments/webhooks/razorpay", body,
                        headers=kit.webhook_headers(body, "evt_failed")).json["status"] == (
        "duplicate")
    # Replaying a processed event re-applies it and changes nothing.
    again = testapp.post(f"{ADMIN}/{failed_delivery}/replay",
                         headers=auth("ops", "admin")).json
    assert again["status"] == "processed"
    assert kit.postings(dbsession, f"order:{order.id}") == 1


def test_a_replay_that_fails_again_is_recorded_and_reported(kit, testapp, auth, dbsession,
                                                            failed_delivery):
    replayed = testapp.post(f"{ADMIN}/{failed_delivery}/replay",
                            headers=auth("ops", "admin")).json
    assert (replayed["status"], replayed["eventStatus"], replayed["eventAttempts"]) == (
        "failed", "failed", 2)
    assert replayed["error"] == "RuntimeError: downstream is down"
    assert [d.outcome for d in kit.deliveries(dbsession)] == ["failed", "failed"]


def test_a_refused_delivery_cannot_be_replayed(testapp, auth, dbsession, kit):
    body = kit.event_body("payment.captured", kit.payment_entity("order_x"))
    refused = testapp.post("/api/payments/webhooks/razorpay", body,
                           headers={"X-Razorpay-Signature": "0" * 64}, status=400)
    delivery_id = refused.json["error"]["details"]["deliveryId"]
    response = testapp.post(f"{ADMIN}/{delivery_id}/replay", headers=auth("ops", "admin"),
                            status=409)
    assert response.json["error"]["code"] == "conflict"


def test_replay_takes_only_an_empty_body(testapp, auth, failed_delivery):
    response = testapp.post_json(f"{ADMIN}/{failed_delivery}/replay", {"force": True},
                                 headers=auth("ops", "admin"), status=400)
    assert response.json["error"]["code"] == "validation_failed"


def test_the_routes_are_in_the_openapi_document(testapp):
    paths = testapp.get("/api/payments/openapi.json").json["paths"]
    assert "post" in paths["/api/payments/webhooks/razorpay"]
    assert "security" not in paths["/api/payments/webhooks/razorpay"]["post"]
    assert paths["/api/payments/admin/webhooks"]["get"]["security"] == [{"bearer": []}]
    params = {p["name"] for p in paths["/api/payments/admin/webhooks"]["get"]["parameters"]}
    assert {"status", "event", "limit", "cursor"} <= params
    assert "post" in paths["/api/payments/admin/webhooks/{delivery_id}/replay"]
    assert "get" in paths["/api/payments/admin/webhooks/{delivery_id}"]
    assert "post" in paths["/api/payments/admin/reconcile"]
