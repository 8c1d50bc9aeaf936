"""``POST /gifts``: one posting, one Gift, an event; every bad gift changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from banter_gifting.events import GiftSent
from banter_gifting.models import Gift
from banter_gifting.services import GiftLimits, posting_balance, send_gift
from pyramid.exceptions import ConfigurationConflictError, ConfigurationError

from banter_payments.api import OPERATIONS_KEY
from banter_payments.errors import RateLimited
from banter_payments.events import Committed
from banter_payments.ledger.checker import check_ledger
from banter_payments.schemas import to_json_schema

GIFTS = "/api/payments/gifts"


def error(response) -> tuple[int, str]:
    return response.status_int, response.json["error"]["code"]


def gift_count(dbsession) -> int:
    return dbsession.scalar(sa.select(sa.func.count()).select_from(Gift))


class TestSending:
    def test_a_gift_moves_coins_and_records_it(self, testapp, auth, fund, ledger, dbsession):
        fund("alice", 500)
        response = testapp.post_json(GIFTS, {"to": "bob", "coins": 120, "note": "gg"},
                                     headers=auth("alice"), status=201)

        body = response.json
        assert {k: v for k, v in body.items() if k not in ("id", "createdAt")} == {
            "from": "alice", "to": "bob", "coins": 120, "note": "gg",
            "reference": f"gift:{body['id']}", "balance": 380}
        assert body["id"].startswith("gft_")
        assert ledger.balances("alice", ["coins"]) == {"coins": 380}
        assert ledger.balances("bob", ["coins"]) == {"coins": 120}
        gift = dbsession.get(Gift, body["id"])
        assert (gift.sender_id, gift.recipient_id, gift.coins, gift.note) == (
            "alice", "bob", 120, "gg")
        assert ledger.posting(f"gift:{gift.id}").id == gift.posting_id
        assert check_ledger(dbsession) == []

    def test_both_sides_see_it_in_their_history(self, testapp, auth, fund):
        fund("alice", 500)
        testapp.post_json(GIFTS, {"to": "bob", "coins": 50}, headers=auth("alice"))
        mine = testapp.get("/api/payments/wallet/transactions", headers=auth("alice")).json
        theirs = testapp.get("/api/payments/wallet/transactions", headers=auth("bob")).json
        assert [(i["amount"], i["kind"], i["description"]) for i in mine["items"]][0] == (
            -50, "gift", "Gift to bob")
        assert [(i["amount"], i["description"]) for i in theirs["items"]] == [
            (50, "Gift from alice")]

    def test_a_gift_fires_gift_sent_then_committed(self, host_app, auth, fund):
        seen = []

        def configure(config):
            config.add_subscriber(lambda event: seen.append(("now", event.gift.coins)),
                                  GiftSent)
            config.add_subscriber(lambda event: seen.append(("after", event.event.gift.id)),
                                  Committed, for_event=GiftSent)

        app = host_app(configure)
        fund("alice", 100)
        body = app.post_json(GIFTS, {"to": "bob", "coins": 10}, headers=auth("alice")).json
        assert seen == [("now", 10), ("after", body["id"])]

    def test_no_event_after_a_refused_gift(self, host_app, auth, fund):
        seen = []
        app = host_app(lambda config: config.add_subscriber(seen.append, Committed,
                                                            for_event=GiftSent))
        fund("alice", 5)
        app.post_json(GIFTS, {"to": "bob", "coins": 10}, headers=auth("alice"), status=422)
        assert seen == []

    def test_needs_a_token(self, testapp):
        response = testapp.post_json(GIFTS, {"to": "bob", "coins": 1}, status=401)
        assert error(response) == (401, "unauthenticated")


class TestBadGifts:
    """Each answers the API.md error and changes no balance."""

    @pytest.fixture(autouse=True)
    def funded(self, fund):
        fund("alice", 1000)

    def assert_unchanged(self, ledger, dbsession):
        assert ledger.balance("alice", "coins") == 1000
        assert ledger.balance("bob", "coins") == 0
        assert gift_count(dbsession) == 0
        dbsession.rollback()  # SQLite: release the write lock before the next request

    @pytest.mark.parametrize("body", [
        {"to": "bob", "coins": 0},
        {"to": "bob", "coins": -5},
        {"to": "bob", "coins": 1.5},
        {"to": "bob", "coins": 10.0},
        {"to": "bob", "coins": "10"},
        {"to": "bob", "coins": True},
        {"to": "bob", "coins": None},
        {"to": "bob", "coins": 10_001},
        {"to": "bob", "coins": 10**30},
        {"to": "bob"},
        {"coins": 10},
        {"to": "", "coins": 10},
        {"to": 42, "coins": 10},
        {"to": "b" * 129, "coins": 10},
        {"to": " bob", "coins": 10},
        {"to": "   ", "coins": 10},
        {"to": "bob", "coins": 10, "note": "n" * 281},
        {"to": "bob", "coins": 10, "note": ""},
        {"to": "bob", "coins": 10, "from": "carol"},
        ["bob", 10],
    ])
    def test_malformed_gifts_are_400(self, testapp, auth, ledger, dbsession, body):
        response = testapp.post_json(GIFTS, body, headers=auth("alice"), status=400)
        assert error(response) == (400, "validation_failed")
        self.assert_unchanged(ledger, dbsession)

    def test_a_gift_to_oneself_is_400(self, testapp, auth, ledger, dbsession):
        response = testapp.post_json(GIFTS, {"to": "alice", "coins": 10},
                                     headers=auth("alice"), status=400)
        assert error(response) == (400, "validation_failed")
        assert response.json["error"]["details"] == {
            "to": "You cannot send a gift to yourself."}
        self.assert_unchanged(ledger, dbsession)

    def test_a_gift_beyond_the_balance_is_422(self, testapp, auth, ledger, dbsession):
        response = testapp.post_json(GIFTS, {"to": "bob", "coins": 1001},
                                     headers=auth("alice"), status=422)
        assert error(response) == (422, "insufficient_funds")
        assert response.json["error"]["details"] == {"asset": "coins", "balance": 1000,
                                                     "required": 1001}
        self.assert_unchanged(ledger, dbsession)

    def test_a_gift_from_someone_without_coins_is_422(self, testapp, auth, ledger, dbsession):
        response = testapp.post_json(GIFTS, {"to": "bob", "coins": 1},
                                     headers=auth("carol"), status=422)
        assert error(response) == (422, "insufficient_funds")
        assert ledger.balance("carol", "coins") == 0
        self.assert_unchanged(ledger, dbsession)

    def test_a_gift_to_an_unknown_user_is_404(self, host_app, auth, ledger, dbsession):
        app = host_app(lambda config: config.set_user_directory(
            lambda request, user_id: user_id in {"alice", "bob"}))
        response = app.post_json(GIFTS, {"to": "mallory", "coins": 10},
                                 headers=auth("alice"), status=404)
        assert error(response) == (404, "not_found")
        assert ledger.balance("mallory", "coins") == 0
        self.assert_unchanged(ledger, dbsession)
        app.post_json(GIFTS, {"to": "bob", "coins": 10}, headers=auth("alice"), status=201)

    def test_a_gift_to_a_blocked_user_is_403(self, host_app, auth, ledger, dbsession):
        app = host_app(lambda config: config.set_block_check(
            lambda request, sender, recipient: {sender, recipient} == {"alice", "bob"}))
        response = app.post_json(GIFTS, {"to": "bob", "coins": 10}, headers=auth("alice"),
                                 status=403)
        assert error(response) == (403, "forbidden")
        assert response.json["error"]["message"] == "You cannot send gifts to this user."
        self.assert_unchanged(ledger, dbsession)

    def test_past_the_daily_cap_is_429_until_midnight_utc(self, host_app, auth, ledger,
                                                          dbsession):
        app = host_app(**{"gifting.daily_cap_coins": "100"})
        app.post_json(GIFTS, {"to": "bob", "coins": 60}, headers=auth("alice"), status=201)
        app.post_json(GIFTS, {"to": "carol", "coins": 40}, headers=auth("alice"), status=201)
        response = app.post_json(GIFTS, {"to": "bob", "coins": 1}, headers=auth("alice"),
                                 status=429)
        assert error(response) == (429, "rate_limited")
        assert response.json["error"]["details"] == {
            "dailyCapCoins": 100, "sentTodayCoins": 100, "remainingCoins": 0}
        assert 1 <= int(response.headers["Retry-After"]) <= 86400
        assert ledger.balance("alice", "coins") == 900
        assert gift_count(dbsession) == 2

    def test_settings_move_the_gift_range(self, host_app, auth, ledger):
        app = host_app(**{"gifting.min_coins": "10", "gifting.max_coins": "20"})
        for coins, status in ((9, 400), (21, 400), (10, 201), (20, 201)):
            app.post_json(GIFTS, {"to": "bob", "coins": coins}, headers=auth("alice"),
                          status=status)
        assert ledger.balance("bob", "coins") == 30


class TestPolicy:
    def test_friends_only_with_the_hosts_check(self, host_app, auth, fund, ledger):
        friends = {frozenset({"alice", "bob"})}
        app = host_app(
            lambda config: config.set_friendship_check(
                lambda request, a, b: frozenset({a, b}) in friends),
            **{"gifting.policy": "friends"},
        )
        fund("alice", 100)
        app.post_json(GIFTS, {"to": "bob", "coins": 10}, headers=auth("alice"), status=201)
        response = app.post_json(GIFTS, {"to": "carol", "coins": 10}, headers=auth("alice"),
                                 status=403)
        assert error(response) == (403, "forbidden")
        assert response.json["error"]["message"] == "You can only send gifts to your friends."
        assert ledger.balances("carol", ["coins"]) == {"coins": 0}
        assert ledger.balance("alice", "coins") == 90

    def test_friends_is_the_default_and_needs_a_check(self, host_app):
        with pytest.raises(ConfigurationError, match="needs the host app's friendship check"):
            host_app(**{"gifting.policy": ""})

    def test_a_host_policy_replaces_the_built_in_one(self, host_app, auth, fund):
        def policy(request, sender, recipient):
            return True if recipient.startswith("vip-") else "Gifts go to VIPs only."

        app = host_app(lambda config: config.set_gift_policy(policy),
                       **{"gifting.policy": "friends"})
        fund("alice", 100)
        app.post_json(GIFTS, {"to": "vip-bob", "coins": 10}, headers=auth("alice"),
                      status=201)
        response = app.post_json(GIFTS, {"to": "bob", "coins": 10}, headers=auth("alice"),
                                 status=403)
        assert response.json["error"]["message"] == "Gifts go to VIPs only."

    def test_a_policy_saying_false_gets_a_generic_reason(self, host_app, auth, fund):
        app = host_app(lambda config: config.set_gift_policy(
            "tests.plugins.banter_gifting.test_gifts.refuse_everything"))
        fund("alice", 100)
        response = app.post_json(GIFTS, {"to": "bob", "coins": 10}, headers=auth("alice"),
                                 status=403)
        assert response.json["error"]["message"] == (
            "You are not allowed to send a gift to this user.")

    def test_two_gift_policies_conflict(self, host_app):
        def one_policy(config):
            config.set_gift_policy(refuse_everything)

        def another_policy(config):
            config.set_gift_policy(lambda request, sender, recipient: True)

        def configure(config):
            config.include(one_policy)
            config.include(another_policy)

        with pytest.raises(ConfigurationConflictError):
            host_app(configure)

    @pytest.mark.parametrize(("directive", "value", "message"), [
        ("set_gift_policy", 42,
         "config.set_gift_policy: gift policy must be a callable or its dotted name, got 42"),
        ("set_friendship_check", None, "config.set_friendship_check: friendship check must "
                                       "be a callable or its dotted name, got None"),
        ("set_block_check", "tests.nowhere.blocked",
         "config.set_block_check: block check 'tests.nowhere.blocked' cannot be imported"),
        ("set_user_directory", "not a dotted name!",
         "config.set_user_directory: user directory 'not a dotted name!' cannot be imported"),
    ])
    def test_the_policy_directives_refuse_what_is_not_callable(self, host_app, directive,
                                                                value, message):
        with pytest.raises(ConfigurationError) as caught:
            host_app(lambda config: getattr(config, directive)(value))
        assert message in str(caught.value)


def refuse_everything(request, sender_id, recipient_id):
    return False


class TestStartUp:
    def test_refuses_to_start_without_coins(self, host_app):
        with pytest.raises(ConfigurationError, match="banter_gifting needs the 'coins' asset"):
            host_app(**{"banter_payments.plugins": "banter_gifting"})

    def test_coins_may_come_after_gifting(self, host_app, auth, fund):
        """Listed in either order, both plugins are there and a gift moves coins."""
        app = host_app(**{"banter_payments.plugins": "banter_gifting\nbanter_coins"})
        skus = {item["sku"] for item in app.get("/api/payments/catalog").json["items"]}
        assert "coins.popular" in skus
        fund("alice", 50)
        app.post_json(GIFTS, {"to": "bob", "coins": 20}, headers=auth("alice"), status=201)
        wallet = app.get("/api/payments/wallet", headers=auth("bob")).json
        assert wallet["balances"]["coins"] == 20

    @pytest.mark.parametrize(("name", "value", "message"), [
        ("gifting.policy", "everyone",
         "setting gifting.policy: must be one of friends, allow_all; got 'everyone'"),
        ("gifting.min_coins", "0", "setting gifting.min_coins: must be at least 1; got '0'"),
        ("gifting.max_coins", "ten",
         "setting gifting.max_coins: must be a whole number; got 'ten'"),
        ("gifting.daily_cap_coins", "-1",
         "setting gifting.daily_cap_coins: must be at least 1; got '-1'"),
        ("gifting.max_coins", "0", "setting gifting.max_coins: must be at least 1; got '0'"),
        ("gifting.max_coins", str(10**12 + 1),
         "setting gifting.max_coins: must be at most 1000000000000"),
        ("gifting.min_coins", "50",
         "setting gifting.max_coins must be at least gifting.min_coins"),
    ])
    def test_bad_settings_stop_start_up(self, host_app, name, value, message):
        overrides = {name: value}
        if name == "gifting.min_coins" and value == "50":
            overrides["gifting.max_coins"] = "10"
        with pytest.raises(ConfigurationError) as caught:
            host_app(**overrides)
        assert message in str(caught.value)

    def test_the_environment_overrides_nothing_it_does_not_name(self, host_app,
                                                                 monkeypatch):
        """Gifting's settings declare no environment variable: a stray one is ignored,
        the ini value stands."""
        monkeypatch.setenv("GIFTING_MAX_COINS", "7")
        app = host_app(**{"gifting.max_coins": "500"})
        assert app.app.registry.settings["gifting.max_coins"] == 500

    def test_the_openapi_document_shows_the_configured_range(self, host_app):
        app = host_app(**{"gifting.max_coins": "500"})
        operation = app.app.registry[OPERATIONS_KEY][("payments.gifts.create", "POST")]
        schema = to_json_schema(operation.body)
        assert schema["properties"]["coins"] == {
            "type": "integer", "minimum": 1, "maximum": 500,
            "description": "a whole number of coins, 1-500"}
        assert schema["required"] == ["to", "coins"]


class TestDailyCapService:
    """The cap counts today's gifts only (UTC), via the service with a fixed clock."""

    def test_yesterdays_gifts_do_not_count(self, ledger, dbsession, fund):
        fund("alice", 1000)
        limits = GiftLimits(daily_cap_coins=100)
        yesterday = dt.datetime(2030, 1, 1, 23, 59, tzinfo=dt.UTC)
        send_gift(ledger, "alice", "bob", 100, None, limits, now=yesterday)
        dbsession.commit()
        today = dt.datetime(2030, 1, 2, 0, 0, 30, tzinfo=dt.UTC)
        with pytest.raises(RateLimited) as caught:
            send_gift(ledger, "alice", "bob", 100, None, limits,
                      now=yesterday + dt.timedelta(seconds=30))
        dbsession.rollback()
        assert caught.value.headers == {"Retry-After": "30"}
        gift, balance = send_gift(ledger, "alice", "bob", 100, None, limits, now=today)
        dbsession.commit()
        assert balance == 800
        assert ledger.balance("bob", "coins") == 200


class TestRoundTrips:
    """What one gift costs the database: each concern once, nothing read back."""

    def test_a_gift_runs_each_statement_once(self, ledger, dbsession, fund):
        fund("alice", 100)
        fund("bob", 1)
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(" ".join(statement.split()[:3]).upper())

        engine = dbsession.get_bind()
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            gift, balance = send_gift(ledger, "alice", "bob", 30, None, GiftLimits())
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
        dbsession.commit()

        assert balance == 70
        # The sender's lock (SQLite serializes writers with BEGIN IMMEDIATE instead).
        lock = ["LOCK"] if engine.dialect.name in ("postgresql", "mysql") else []
        # MariaDB has no UPDATE ... RETURNING: a balance update is the row locked, the
        # UPDATE, the balance read back (db.update_returning).
        update = (["SELECT", "UPDATE", "SELECT"] if engine.dialect.name == "mysql"
                  else ["UPDATE"])
        kinds = ["LOCK" if "PG_ADVISORY_XACT_LOCK" in s or "GET_LOCK" in s else
                 "RELEASE SAVEPOINT" if s.startswith("RELEASE") else s.split()[0]
                 for s in statements if not s.startswith("BEGIN")]
        assert kinds == lock + [
            "SELECT",  # the daily cap's sum
            "SAVEPOINT",
            "SELECT",  # both accounts
            "INSERT",  # the posting
            *update, *update,  # the balances, in ascending account id order
            "INSERT",  # the entries
            "RELEASE SAVEPOINT",
            "INSERT",  # the gift
        ], "\n".join(statements)

    def test_a_replays_sender_balance_comes_from_its_entries(self, ledger, dbsession, fund):
        fund("alice", 100)
        ledger.transfer("alice", "bob", "coins", 30, "gift:x", "Gift")
        dbsession.commit()
        replay = ledger.transfer("alice", "bob", "coins", 30, "gift:x", "Gift")
        assert replay.replayed is True
        assert posting_balance(replay, "alice") == 70
