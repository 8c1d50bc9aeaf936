"""``GET /wallet``, ``GET /wallet/transactions`` and the host's ``POST /wallet/debits``."""

from __future__ import annotations

import datetime as dt

import pytest

from banter_payments.clock import isoformat, utcnow
from banter_payments.wallet.services import grant_entitlement

WALLET = "/api/payments/wallet"
TRANSACTIONS = "/api/payments/wallet/transactions"
DEBITS = "/api/payments/wallet/debits"


def error(response) -> tuple[int, str]:
    return response.status_int, response.json["error"]["code"]


class TestWallet:
    def test_needs_a_token(self, testapp):
        assert error(testapp.get(WALLET, status=401)) == (401, "unauthenticated")

    def test_a_new_user_has_zero_of_every_enabled_asset(self, testapp, auth):
        response = testapp.get(WALLET, headers=auth("alice"))
        assert response.json == {"userId": "alice", "balances": {"coins": 0, "credits": 0},
                                 "entitlements": {}}

    def test_balances_and_entitlements(self, testapp, auth, ledger, dbsession):
        expires = utcnow().replace(microsecond=0) + dt.timedelta(days=30)
        ledger.grant("alice", {"coins": 600}, "order:1", "Purchase of Popular Pack")
        ledger.grant("alice", {"credits": 500}, "order:2", "Purchase of Standard")
        ledger.debit("alice", "credits", 20, "host:1", "AI reply")
        grant_entitlement(dbsession, "alice", "premium", "sub:1:1", expires_at=expires)
        dbsession.commit()

        body = testapp.get(WALLET, headers=auth("alice")).json
        assert body["balances"] == {"coins": 600, "credits": 480}
        assert body["entitlements"] == {"premium": {
            "active": True, "until": isoformat(expires), "source": "sub",
            "grantedAt": body["entitlements"]["premium"]["grantedAt"],
            "expiresAt": isoformat(expires)}}

    def test_an_asset_no_plugin_enables_is_not_shown(self, testapp, auth, ledger, dbsession):
        ledger.grant("alice", {"gems": 5}, "g", "Gems")
        dbsession.commit()
        assert testapp.get(WALLET, headers=auth("alice")).json["balances"] == {
            "coins": 0, "credits": 0}

    def test_another_users_wallet_is_for_admins_and_services(self, testapp, auth, ledger,
                                                              dbsession):
        ledger.grant("bob", {"coins": 7}, "g", "Grant")
        dbsession.commit()
        assert error(testapp.get(WALLET, {"userId": "bob"}, headers=auth("alice"),
                                 status=404)) == (404, "not_found")
        for role in ("admin", "service"):
            body = testapp.get(WALLET, {"userId": "bob"}, headers=auth("ops", role)).json
            assert (body["userId"], body["balances"]["coins"]) == ("bob", 7)
        own = testapp.get(WALLET, {"userId": "alice"}, headers=auth("alice")).json
        assert own["userId"] == "alice"

    def test_unknown_query_parameters_are_refused(self, testapp, auth):
        assert error(testapp.get(WALLET, {"user": "bob"}, headers=auth("alice"),
                                 status=400)) == (400, "validation_failed")


class TestTransactions:
    @pytest.fixture
    def history(self, ledger, dbsession):
        ledger.grant("alice", {"coins": 600}, "order:ord_1", "Purchase of Popular Pack")
        ledger.grant("alice", {"credits": 100}, "order:ord_2", "Purchase of Basic")
        ledger.transfer("alice", "bob", "coins", 50, "gift:gft_1", "Gift", kind="gift",
                        from_description="Gift to bob", to_description="Gift from alice")
        ledger.debit("alice", "credits", 10, "host:job-7", "AI reply")
        dbsession.commit()

    def test_newest_first_with_reference_and_description(self, testapp, auth, history):
        body = testapp.get(TRANSACTIONS, headers=auth("alice")).json
        assert body["nextCursor"] is None
        assert [(i["asset"], i["amount"], i["balanceAfter"], i["kind"], i["reference"],
                 i["description"]) for i in body["items"]] == [
            ("credits", -10, 90, "spend", "host:job-7", "AI reply"),
            ("coins", -50, 550, "gift", "gift:gft_1", "Gift to bob"),
            ("credits", 100, 100, "purchase", "order:ord_2", "Purchase of Basic"),
            ("coins", 600, 600, "purchase", "order:ord_1", "Purchase of Popular Pack"),
        ]
        assert set(body["items"][0]) == {"id", "asset", "amount", "balanceAfter", "kind",
                                         "reference", "description", "createdAt"}
        bob = testapp.get(TRANSACTIONS, headers=auth("bob")).json["items"]
        assert [(i["amount"], i["description"]) for i in bob] == [(50, "Gift from alice")]

    def test_pages_follow_the_cursor(self, testapp, auth, history):
        first = testapp.get(TRANSACTIONS, {"limit": "3"}, headers=auth("alice")).json
        assert len(first["items"]) == 3 and first["nextCursor"]
        second = testapp.get(TRANSACTIONS, {"limit": "3", "cursor": first["nextCursor"]},
                             headers=auth("alice")).json
        assert [i["reference"] for i in second["items"]] == ["order:ord_1"]
        assert second["nextCursor"] is None

    def test_asset_filter(self, testapp, auth, history):
        body = testapp.get(TRANSACTIONS, {"asset": "coins"}, headers=auth("alice")).json
        assert [i["amount"] for i in body["items"]] == [-50, 600]

    @pytest.mark.parametrize("query", [
        {"asset": "gems"}, {"asset": "Coins!"}, {"limit": "0"}, {"limit": "101"},
        {"limit": "-1"}, {"limit": "ten"}, {"cursor": "not-a-cursor"}, {"cursor": "ZTA"},
        {"cursor": "%%%"}, {"cursor": "x" * 300}, {"page": "2"},
    ])
    def test_bad_queries_are_400(self, testapp, auth, history, query):
        response = testapp.get(TRANSACTIONS, query, headers=auth("alice"), status=400)
        assert error(response) == (400, "validation_failed")

    def test_a_cursor_past_every_entry_is_an_empty_page(self, testapp, auth, history):
        from banter_payments.ledger.cursors import encode_cursor

        body = testapp.get(TRANSACTIONS, {"cursor": encode_cursor(1)},
                           headers=auth("alice")).json
        assert body == {"items": [], "nextCursor": None}
        last = testapp.get(TRANSACTIONS, {"cursor": encode_cursor(2**63 - 1)},
                           headers=auth("alice")).json
        assert len(last["items"]) == 4
        beyond = testapp.get(TRANSACTIONS, {"cursor": encode_cursor(2**63)},
                             headers=auth("alice"), status=400)
        assert error(beyond) == (400, "validation_failed")

    def test_another_users_history_is_not_found(self, testapp, auth, history):
        response = testapp.get(TRANSACTIONS, {"userId": "bob"}, headers=auth("alice"),
                               status=404)
        assert error(response) == (404, "not_found")
        admin = testapp.get(TRANSACTIONS, {"userId": "bob"}, headers=auth("ops", "admin"))
        assert [i["amount"] for i in admin.json["items"]] == [50]


class TestHostDebits:
    @pytest.fixture
    def funded(self, ledger, dbsession):
        ledger.grant("alice", {"credits": 100}, "order:1", "Purchase")
        dbsession.commit()

    def debit(self, testapp, auth, status, **changes):
        body = {"userId": "alice", "asset": "credits", "amount": 30,
                "reference": "job-42", "description": "AI reply", **changes}
        return testapp.post_json(DEBITS, body, headers=auth("host-app", "service"),
                                 status=status)

    def test_a_debit_answers_201_and_its_replay_200_with_the_same_body(
            self, testapp, auth, ledger, funded):
        first = self.debit(testapp, auth, 201, metadata={"job": 42})
        assert {k: v for k, v in first.json.items() if k not in ("id", "createdAt")} == {
            "userId": "alice", "asset": "credits", "amount": 30, "reference": "job-42",
            "description": "AI reply", "balance": 70,
            "metadata": {"by": "host-app", "job": 42},
        }
        again = self.debit(testapp, auth, 200, metadata={"job": 42})
        assert again.json == first.json
        assert ledger.balance("alice", "credits") == 70

    def test_the_caller_cannot_overwrite_who_made_the_debit(self, testapp, auth, funded):
        debit = self.debit(testapp, auth, 201, metadata={"by": "someone-else"})
        assert debit.json["metadata"] == {"by": "host-app"}

    def test_the_same_reference_with_another_amount_is_409(self, testapp, auth, ledger,
                                                          funded):
        self.debit(testapp, auth, 201)
        response = self.debit(testapp, auth, 409, amount=31)
        assert error(response) == (409, "conflict")
        assert ledger.balance("alice", "credits") == 70

    def test_a_short_balance_is_422_and_takes_nothing(self, testapp, auth, ledger, funded):
        response = self.debit(testapp, auth, 422, amount=101)
        assert error(response) == (422, "insufficient_funds")
        assert response.json["error"]["details"] == {"asset": "credits", "balance": 100,
                                                     "required": 101}
        assert ledger.balance("alice", "credits") == 100

    def test_host_references_cannot_replay_the_cores(self, testapp, auth, ledger, funded):
        """A host reference lives in its own namespace: "order:1" is not the grant."""
        response = self.debit(testapp, auth, 201, reference="order:1", amount=1)
        assert response.json["reference"] == "order:1"
        assert ledger.balance("alice", "credits") == 99

    @pytest.mark.parametrize("changes", [
        {"amount": 0}, {"amount": -5}, {"amount": 1.5}, {"amount": "5"}, {"amount": True},
        {"amount": 10**16}, {"asset": "gems"}, {"asset": ""}, {"userId": ""},
        {"reference": ""}, {"reference": "r" * 191}, {"description": ""},
        {"extra": 1}, {"metadata": "x"},
    ])
    def test_bad_bodies_are_400_and_take_nothing(self, testapp, auth, ledger, funded,
                                                 changes):
        response = self.debit(testapp, auth, 400, **changes)
        assert error(response) == (400, "validation_failed")
        assert ledger.balance("alice", "credits") == 100

    def test_only_services_may_debit(self, testapp, auth, ledger, funded):
        for headers in (auth("alice"), auth("ops", "admin")):
            response = testapp.post_json(DEBITS, {"userId": "alice", "asset": "credits",
                                                  "amount": 1, "reference": "r"},
                                         headers=headers, status=403)
            assert error(response) == (403, "forbidden")
        assert ledger.balance("alice", "credits") == 100


class TestEntitlementDescribers:
    """A plugin that sells a right says more of it in GET /wallet; one per right."""

    @pytest.fixture
    def app(self, settings):
        from pyramid.config import Configurator

        with Configurator(settings=settings) as config:
            config.include("banter_payments")
            config.add_entitlement_describer(
                "vip", lambda request, user_id, name: {"active": False, "until": None,
                                                       "source": "club", "tier": "gold"})
        return config.make_wsgi_app()

    def test_a_described_right_is_shown_even_when_no_grant_is_active(self, testapp, auth):
        shown = testapp.get(WALLET, headers=auth("alice")).json["entitlements"]
        assert shown == {"vip": {"active": False, "until": None, "source": "club",
                                 "tier": "gold"}}

    def test_a_describer_cannot_hide_a_right_a_grant_keeps_active(self, testapp, auth,
                                                                  dbsession):
        grant_entitlement(dbsession, "alice", "vip", "order:1", expires_at=None)
        dbsession.commit()
        shown = testapp.get(WALLET, headers=auth("alice")).json["entitlements"]["vip"]
        assert (shown["active"], shown["source"]) == (True, "order")


def test_two_describers_of_one_right_are_a_conflict(settings):
    from pyramid.config import Configurator
    from pyramid.exceptions import ConfigurationConflictError

    def describe(request, user_id, name):
        return None

    with pytest.raises(ConfigurationConflictError):
        with Configurator(settings=settings) as config:
            config.include("banter_payments")
            config.add_entitlement_describer("vip", describe)
            config.add_entitlement_describer("vip", lambda request, user_id, name: None)
