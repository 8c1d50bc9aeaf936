"""The in-app inbox routes and the mail preferences."""

from __future__ import annotations

import pytest

from .conftest import PREFIX, send_mail

INBOX = f"{PREFIX}/notifications"


@pytest.fixture
def gifts(testapp, auth, fund):
    """``gifts(n)``: alice sends bob ``n`` gifts of 1..n coins; their ids, oldest first."""

    def send(count: int, to: str = "bob") -> list[str]:
        fund("alice", count * (count + 1))
        return [testapp.post_json(f"{PREFIX}/gifts", {"to": to, "coins": coins},
                                  headers=auth("alice"), status=201).json["id"]
                for coins in range(1, count + 1)]

    return send


def test_the_inbox_is_keyset_paged_newest_first(testapp, auth, gifts):
    ids = gifts(5)
    seen, cursor = [], None
    while True:
        query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
        page = testapp.get(INBOX + query, headers=auth("bob")).json
        seen += [item["reference"] for item in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == [f"gift:{gift_id}" for gift_id in reversed(ids)]


def test_read_one_read_all_and_the_unread_count(testapp, auth, gifts):
    gifts(3)
    count = f"{INBOX}/unread-count"
    assert testapp.get(count, headers=auth("bob")).json == {"unread": 3}
    items = testapp.get(INBOX, headers=auth("bob")).json["items"]
    read = testapp.post_json(f"{INBOX}/{items[0]['id']}/read", {}, headers=auth("bob")).json
    assert read["read"] is True and read["readAt"]
    assert testapp.get(count, headers=auth("bob")).json == {"unread": 2}
    unread = testapp.get(f"{INBOX}?unread=true", headers=auth("bob")).json["items"]
    assert [i["id"] for i in unread] == [i["id"] for i in items[1:]]
    again = testapp.post_json(f"{INBOX}/{items[0]['id']}/read", {}, headers=auth("bob")).json
    assert again["readAt"] == read["readAt"]
    assert testapp.post_json(f"{INBOX}/read-all", {}, headers=auth("bob")).json == {
        "marked": 2, "unread": 0}
    assert testapp.get(f"{INBOX}?unread=true", headers=auth("bob")).json["items"] == []


def test_another_users_notification_is_not_found(testapp, auth, gifts):
    gifts(1)
    [item] = testapp.get(INBOX, headers=auth("bob")).json["items"]
    response = testapp.post_json(f"{INBOX}/{item['id']}/read", {}, headers=auth("alice"),
                                 status=404)
    assert response.json["error"]["code"] == "not_found"
    testapp.post_json(f"{INBOX}/ntf_nothing/read", {}, headers=auth("bob"), status=404)
    assert testapp.get(f"{INBOX}/unread-count", headers=auth("bob")).json == {"unread": 1}


@pytest.mark.parametrize("query", ["?unread=yes", "?limit=0", "?limit=101", "?cursor=zzz",
                                   "?other=1"])
def test_bad_queries_are_validation_errors(testapp, auth, query):
    response = testapp.get(INBOX + query, headers=auth("bob"), status=400)
    assert response.json["error"]["code"] == "validation_failed"


def test_every_route_wants_a_token(testapp):
    for method, path in [("get", INBOX), ("get", f"{INBOX}/unread-count"),
                         ("post", f"{INBOX}/read-all"), ("get", f"{INBOX}/preferences")]:
        response = getattr(testapp, method)(path, status=401)
        assert response.json["error"]["code"] == "unauthenticated"


class TestPreferences:
    def test_every_kind_is_mailed_by_default_and_receipts_are_locked(self, testapp, auth):
        prefs = testapp.get(f"{INBOX}/preferences", headers=auth("bob")).json
        assert set(prefs["email"].values()) == {True}
        assert "gift_received" in prefs["email"]
        assert prefs["locked"] == ["purchase_succeeded", "subscription_charged"]

    def test_a_kind_turned_off_is_in_app_only(self, testapp, auth, gifts, registry):
        prefs = testapp.put_json(f"{INBOX}/preferences", {"email": {"gift_received": False}},
                                 headers=auth("bob")).json
        assert prefs["email"]["gift_received"] is False
        gifts(1)
        assert send_mail(registry) == 0
        [item] = testapp.get(INBOX, headers=auth("bob")).json["items"]
        assert item["emailed"] is False
        testapp.put_json(f"{INBOX}/preferences", {"email": {"gift_received": True}},
                         headers=auth("bob"))
        gifts(1)
        assert send_mail(registry) == 1

    @pytest.mark.parametrize(("body", "field"), [
        ({"email": {"purchase_succeeded": False}}, "email.purchase_succeeded"),
        ({"email": {"no_such_kind": False}}, "email"),
        ({"email": {"gift_received": "no"}}, "email.gift_received"),
        ({"push": {}}, "push"),
    ])
    def test_refused_changes_change_nothing(self, testapp, auth, body, field):
        response = testapp.put_json(f"{INBOX}/preferences", body, headers=auth("bob"),
                                    status=400)
        assert response.json["error"]["code"] == "validation_failed"
        assert field in response.json["error"]["details"]
        prefs = testapp.get(f"{INBOX}/preferences", headers=auth("bob")).json
        assert set(prefs["email"].values()) == {True}


class TestOptionalReceipts:
    @pytest.fixture
    def settings(self, settings):
        settings["notifications.receipts_optional"] = "true"
        settings["notifications.email_kinds"] = "purchase_succeeded gift_received"
        return settings

    def test_receipts_may_be_turned_off_when_the_operator_allows(self, testapp, auth):
        prefs = testapp.put_json(f"{INBOX}/preferences",
                                 {"email": {"purchase_succeeded": False}},
                                 headers=auth("bob")).json
        assert prefs == {"email": {"purchase_succeeded": False, "gift_received": True},
                         "locked": []}

    def test_only_the_mailed_kinds_are_offered(self, testapp, auth):
        testapp.put_json(f"{INBOX}/preferences", {"email": {"payment_failed": False}},
                         headers=auth("bob"), status=400)
