"""The order routes through the whole app, with the sandbox answering in-process."""

import jwt
import pytest
import sqlalchemy as sa

from banter_payments.orders.models import Order
from banter_payments.payments.models import Payment

PREFIX = "/api/payments"


def count_orders(dbsession) -> int:
    dbsession.rollback()
    return dbsession.scalar(sa.select(sa.func.count()).select_from(Order))


def create(testapp, auth, sku="coins.popular", user="alice", **kwargs):
    return testapp.post_json(f"{PREFIX}/orders", {"sku": sku}, headers=auth(user), **kwargs)


def pay(testapp, razorpay_order_id, outcome="success", method="upi"):
    return testapp.post_json(
        f"{PREFIX}/_sandbox/razorpay/checkout/{razorpay_order_id}/pay",
        {"outcome": outcome, "method": method},
    ).json


def balance(testapp, auth, user="alice", asset="coins"):
    return testapp.get(f"{PREFIX}/wallet", headers=auth(user)).json["balances"][asset]


def assert_error(response, status, code):
    assert response.status_int == status, response.text
    assert response.json["error"]["code"] == code
    assert set(response.json["error"]) == {"code", "message", "details"}


class TestCreate:
    def test_a_user_orders_a_catalog_item(self, testapp, auth):
        response = create(testapp, auth)
        assert response.status_int == 201
        order = response.json
        assert order["id"].startswith("ord_")
        assert order["sku"] == "coins.popular"
        assert order["userId"] == "alice"
        assert order["status"] == "created"
        assert order["isConfirmed"] is False
        assert (order["amount"], order["currency"]) == (44900, "INR")
        assert order["grants"] == {"coins": 600}
        assert order["razorpayOrderId"].startswith("order_")
        assert order["payment"] is None
        assert order["refundedAmount"] == 0 and order["refundStatus"] == "none"
        assert order["retryOf"] is None and order["attemptCount"] == 1
        assert order["paidAt"] is None and order["createdAt"].endswith("Z")
        checkout = order["checkout"]
        assert checkout["key"].startswith("rzp_test_")
        assert checkout["amount"] == 44900
        assert checkout["order_id"] == order["razorpayOrderId"]
        assert checkout["description"] == "Popular Pack"

    def test_the_gateway_order_points_back_at_ours(self, testapp, auth):
        order = create(testapp, auth).json
        remote = testapp.get(
            f"{PREFIX}/_sandbox/razorpay/v1/orders/{order['razorpayOrderId']}",
            extra_environ={"HTTP_AUTHORIZATION": _basic(testapp)},
        ).json
        assert remote["receipt"] == order["id"]
        assert remote["amount"] == 44900
        assert remote["notes"]["user_id"] == "alice"

    def test_an_unknown_sku_is_refused_and_stores_nothing(self, testapp, auth, dbsession):
        response = create(testapp, auth, sku="coins.nope", expect_errors=True)
        assert_error(response, 400, "validation_failed")
        assert "sku" in response.json["error"]["details"]
        assert count_orders(dbsession) == 0

    @pytest.mark.parametrize(
        "body",
        [
            b"{not json",
            b"[1, 2]",
            b'"coins.popular"',
            b"{}",
            b'{"sku": 5}',
            b'{"sku": null}',
            b'{"sku": "coins.popular", "amount": 1}',
            b'{"sku": ""}',
            b"[" * 5000 + b"]" * 5000,
            b'{"a":' * 3000 + b"1" + b"}" * 3000,
            b'{"sku": NaN}',
            b'{"sku": "coins.\\ud800"}',
            b"\xff\xfe not utf-8",
        ],
    )
    def test_malformed_bodies_are_400(self, testapp, auth, dbsession, body):
        response = testapp.post(f"{PREFIX}/orders", body, headers=auth("alice"),
                                content_type="application/json", expect_errors=True)
        assert_error(response, 400, "validation_failed")
        assert count_orders(dbsession) == 0

    def test_a_form_body_is_415(self, testapp, auth):
        response = testapp.post(f"{PREFIX}/orders", {"sku": "coins.popular"},
                                headers=auth("alice"), expect_errors=True)
        assert_error(response, 415, "unsupported_media_type")

    def test_a_gateway_failure_is_502_and_stores_nothing(self, settings, dbsession):
        import webtest

        from banter_payments import main
        from banter_payments.security import issue_token

        settings["razorpay.base_url"] = "http://127.0.0.1:9"  # nothing listens there
        settings["razorpay.timeout"] = "2"
        app = webtest.TestApp(main({}, **settings))
        token = issue_token(app.app.registry.settings, "alice", [])
        response = app.post_json(f"{PREFIX}/orders", {"sku": "coins.popular"},
                                 headers={"Authorization": f"Bearer {token}"},
                                 expect_errors=True)
        assert_error(response, 502, "gateway_error")
        assert "secret" not in response.text.lower()
        assert count_orders(dbsession) == 0


def _basic(testapp) -> str:
    import base64

    settings = testapp.app.registry.settings
    pair = f"{settings['razorpay.key_id']}:{settings['razorpay.key_secret']}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


class TestAuthentication:
    def test_no_token_is_401(self, testapp):
        response = testapp.post_json(f"{PREFIX}/orders", {"sku": "coins.popular"},
                                     expect_errors=True)
        assert_error(response, 401, "unauthenticated")

    def test_an_expired_token_is_401(self, testapp, auth):
        response = create(testapp, lambda user: auth(user, ttl_seconds=-120),
                          expect_errors=True)
        assert_error(response, 401, "unauthenticated")
        assert "expired" in response.json["error"]["message"]

    def test_a_token_signed_with_another_secret_is_401(self, testapp):
        token = jwt.encode({"sub": "alice", "exp": 4102444800}, "x" * 40, algorithm="HS256")
        response = testapp.get(f"{PREFIX}/orders", headers={"Authorization": f"Bearer {token}"},
                               expect_errors=True)
        assert_error(response, 401, "unauthenticated")

    def test_an_unsigned_token_is_401(self, testapp):
        token = jwt.encode({"sub": "alice", "exp": 4102444800}, None, algorithm="none")
        response = testapp.get(f"{PREFIX}/orders", headers={"Authorization": f"Bearer {token}"},
                               expect_errors=True)
        assert_error(response, 401, "unauthenticated")

    def test_a_token_without_exp_is_401(self, testapp, registry):
        token = jwt.encode({"sub": "alice"}, registry.settings["jwt.secret"], algorithm="HS256")
        response = testapp.get(f"{PREFIX}/orders", headers={"Authorization": f"Bearer {token}"},
                               expect_errors=True)
        assert_error(response, 401, "unauthenticated")

    def test_basic_auth_is_401(self, testapp):
        response = testapp.get(f"{PREFIX}/orders", headers={"Authorization": "Basic YTpi"},
                               expect_errors=True)
        assert_error(response, 401, "unauthenticated")


class TestReading:
    def test_another_users_order_is_404(self, testapp, auth):
        order = create(testapp, auth).json
        response = testapp.get(f"{PREFIX}/orders/{order['id']}", headers=auth("bob"),
                               expect_errors=True)
        assert_error(response, 404, "not_found")
        own = testapp.get(f"{PREFIX}/orders/{order['id']}", headers=auth("alice")).json
        assert own["id"] == order["id"]
        assert "checkout" not in own

    def test_an_admin_sees_any_order(self, testapp, auth):
        order = create(testapp, auth).json
        seen = testapp.get(f"{PREFIX}/orders/{order['id']}", headers=auth("root", "admin"))
        assert seen.json["userId"] == "alice"

    def test_list_is_newest_first_and_keyset_paginated(self, testapp, auth):
        ids = [create(testapp, auth, sku=sku).json["id"]
               for sku in ("coins.starter", "coins.basic", "coins.popular")]
        create(testapp, auth, user="bob")
        first = testapp.get(f"{PREFIX}/orders?limit=2", headers=auth("alice")).json
        assert [o["id"] for o in first["items"]] == [ids[2], ids[1]]
        assert first["nextCursor"]
        second = testapp.get(f"{PREFIX}/orders?limit=2&cursor={first['nextCursor']}",
                             headers=auth("alice")).json
        assert [o["id"] for o in second["items"]] == [ids[0]]
        assert second["nextCursor"] is None

    @pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "limit=1.5",
                                       "cursor=%ff%fe", "userId=%ff",
                                       "cursor=%%%", "cursor=bm90LWFuLW9yZGVy", "color=red"])
    def test_bad_list_queries_are_400(self, testapp, auth, query):
        response = testapp.get(f"{PREFIX}/orders?{query}", headers=auth("alice"),
                               expect_errors=True)
        assert_error(response, 400, "validation_failed")

    def test_only_admins_list_another_users_orders(self, testapp, auth):
        create(testapp, auth)
        denied = testapp.get(f"{PREFIX}/orders?userId=alice", headers=auth("bob"),
                             expect_errors=True)
        assert_error(denied, 404, "not_found")
        listed = testapp.get(f"{PREFIX}/orders?userId=alice", headers=auth("root", "admin"))
        assert len(listed.json["items"]) == 1


class TestServiceOrders:
    BODY = {"amount": 25000, "currency": "INR", "externalRef": "job-42",
            "sourceApp": "jobs", "userId": "alice",
            "customer": {"email": "alice@example.com", "contact": "+919999999999",
                         "name": "Alice"}}

    def test_a_service_orders_an_amount_for_its_own_object(self, testapp, auth):
        response = testapp.post_json(f"{PREFIX}/orders", self.BODY,
                                     headers=auth("jobs-backend", "service"))
        assert response.status_int == 201
        order = response.json
        assert (order["amount"], order["sourceApp"], order["externalRef"]) == (
            25000, "jobs", "job-42")
        assert order["sku"] is None and order["grants"] == {}
        assert order["checkout"]["prefill"] == {"name": "Alice", "email": "alice@example.com",
                                                "contact": "+919999999999"}
        # The user it is for sees it too.
        assert testapp.get(f"{PREFIX}/orders/{order['id']}", headers=auth("alice")).json

    def test_a_second_open_order_for_the_same_object_is_409(self, testapp, auth, dbsession):
        testapp.post_json(f"{PREFIX}/orders", self.BODY, headers=auth("svc", "service"))
        response = testapp.post_json(f"{PREFIX}/orders", self.BODY,
                                     headers=auth("svc", "service"), expect_errors=True)
        assert_error(response, 409, "conflict")
        assert count_orders(dbsession) == 1

    @pytest.mark.parametrize(
        "change",
        [
            {"amount": 250.5}, {"amount": -100}, {"amount": 0}, {"amount": "25000"},
            {"amount": True}, {"currency": "inr"}, {"currency": "RUPEES"},
            {"externalRef": ""}, {"sourceApp": "has spaces"}, {"metadata": [1]},
            {"customer": {"email": "not-an-email"}}, {"customer": {"phone": "1"}},
            {"colour": "red"}, {"currency": "XYZ"}, {"currency": "USD"}, {"amount": 99},
        ],
    )
    def test_bad_service_bodies_are_400(self, testapp, auth, dbsession, change):
        body = {**self.BODY, **change}
        response = testapp.post_json(f"{PREFIX}/orders", body, headers=auth("svc", "service"),
                                     expect_errors=True)
        assert_error(response, 400, "validation_failed")
        assert count_orders(dbsession) == 0

    def test_a_user_cannot_send_a_service_body(self, testapp, auth, dbsession):
        response = testapp.post_json(f"{PREFIX}/orders", self.BODY, headers=auth("alice"),
                                     expect_errors=True)
        assert_error(response, 400, "validation_failed")
        assert count_orders(dbsession) == 0


class TestVerify:
    def test_checkout_then_verify_pays_and_grants_once(self, testapp, auth, dbsession):
        order = create(testapp, auth).json
        checkout = pay(testapp, order["razorpayOrderId"])
        verified = testapp.post_json(f"{PREFIX}/verify", checkout, headers=auth("alice")).json
        assert verified["status"] == "paid"
        assert verified["isConfirmed"] is True
        assert verified["paidAt"] is not None
        assert verified["payment"]["razorpayPaymentId"] == checkout["razorpay_payment_id"]
        assert verified["payment"]["status"] == "captured"
        assert verified["payment"]["method"] == "upi"
        assert balance(testapp, auth) == 600
        again = testapp.post_json(f"{PREFIX}/verify", checkout, headers=auth("alice")).json
        assert again["status"] == "paid"
        assert balance(testapp, auth) == 600
        dbsession.rollback()
        assert dbsession.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1

    def test_camel_case_names_are_accepted(self, testapp, auth):
        order = create(testapp, auth).json
        checkout = pay(testapp, order["razorpayOrderId"])
        body = {"razorpayOrderId": checkout["razorpay_order_id"],
                "razorpayPaymentId": checkout["razorpay_payment_id"],
                "razorpaySignature": checkout["razorpay_signature"]}
        assert testapp.post_json(f"{PREFIX}/verify", body,
                                 headers=auth("alice")).json["status"] == "paid"

    def test_a_forged_signature_is_refused_and_changes_nothing(self, testapp, auth):
        order = create(testapp, auth).json
        checkout = pay(testapp, order["razorpayOrderId"])
        forged = dict(checkout, razorpay_signature="0" * 64)
        response = testapp.post_json(f"{PREFIX}/verify", forged, headers=auth("alice"),
                                     expect_errors=True)
        assert_error(response, 400, "signature_invalid")
        shown = testapp.get(f"{PREFIX}/orders/{order['id']}", headers=auth("alice")).json
        assert shown["status"] == "created"
        assert balance(testapp, auth) == 0

    def test_a_signature_for_another_order_is_refused(self, testapp, auth):
        first = create(testapp, auth).json
        second = create(testapp, auth, sku="coins.starter").json
        paid_second = pay(testapp, second["razorpayOrderId"])
        mixed = dict(paid_second, razorpay_order_id=first["razorpayOrderId"])
        response = testapp.post_json(f"{PREFIX}/verify", mixed, headers=auth("alice"),
                                     expect_errors=True)
        assert_error(response, 400, "signature_invalid")
        assert balance(testapp, auth) == 0

    def test_another_users_order_is_404(self, testapp, auth):
        order = create(testapp, auth).json
        checkout = pay(testapp, order["razorpayOrderId"])
        response = testapp.post_json(f"{PREFIX}/verify", checkout, headers=auth("mallory"),
                                     expect_errors=True)
        assert_error(response, 404, "not_found")
        assert balance(testapp, auth) == 0
        assert balance(testapp, auth, user="mallory") == 0

    def test_a_non_ascii_signature_is_refused_not_a_500(self, testapp, auth):
        order = create(testapp, auth).json
        checkout = pay(testapp, order["razorpayOrderId"])
        response = testapp.post_json(f"{PREFIX}/verify",
                                     dict(checkout, razorpay_signature="é" * 64),
                                     headers=auth("alice"), expect_errors=True)
        assert_error(response, 400, "signature_invalid")

    def test_an_unknown_order_is_404(self, testapp, auth):
        response = testapp.post_json(
            f"{PREFIX}/verify",
            {"razorpay_order_id": "order_nope", "razorpay_payment_id": "pay_nope",
             "razorpay_signature": "0" * 64},
            headers=auth("alice"), expect_errors=True)
        assert_error(response, 404, "not_found")

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"razorpay_order_id": "order_x", "razorpay_payment_id": "pay_x"},
            {"razorpay_order_id": 1, "razorpay_payment_id": "pay_x",
             "razorpay_signature": "s"},
            {"razorpay_order_id": "order_x", "razorpayOrderId": "order_y",
             "razorpay_payment_id": "pay_x", "razorpay_signature": "s"},
            {"razorpay_order_id": "order_x", "razorpay_payment_id": "pay_x",
             "razorpay_signature": "s", "status": "captured"},
        ],
    )
    def test_bad_verify_bodies_are_400(self, testapp, auth, body):
        response = testapp.post_json(f"{PREFIX}/verify", body, headers=auth("alice"),
                                     expect_errors=True)
        assert_error(response, 400, "validation_failed")

    def test_a_correctly_signed_payment_of_another_order_is_409_and_noted(
            self, testapp, auth, registry, dbsession):
        """Even a valid signature cannot make one order's payment pay another order:
        the state machine compares what the gateway says with the order."""
        import hashlib
        import hmac

        cheap = create(testapp, auth, sku="coins.starter").json
        dear = create(testapp, auth, sku="coins.ultimate").json
        paid_cheap = pay(testapp, cheap["razorpayOrderId"])
        secret = registry.settings["razorpay.key_secret"].encode()
        message = f"{dear['razorpayOrderId']}|{paid_cheap['razorpay_payment_id']}".encode()
        body = {"razorpay_order_id": dear["razorpayOrderId"],
                "razorpay_payment_id": paid_cheap["razorpay_payment_id"],
                "razorpay_signature": hmac.new(secret, message, hashlib.sha256).hexdigest()}
        response = testapp.post_json(f"{PREFIX}/verify", body, headers=auth("alice"),
                                     expect_errors=True)
        assert_error(response, 409, "conflict")
        assert set(response.json["error"]["details"]) == {"orderId", "amount"}
        assert balance(testapp, auth) == 0
        dbsession.rollback()
        noted = dbsession.get(Order, dear["id"])
        assert noted.status == "created"
        assert "does not match" in noted.anomaly
        shown = testapp.get(f"{PREFIX}/orders/{dear['id']}", headers=auth("ops", "admin")).json
        assert shown["anomaly"] == noted.anomaly
        own = testapp.get(f"{PREFIX}/orders/{dear['id']}", headers=auth("alice")).json
        assert "anomaly" not in own

    def test_a_failed_payment_does_not_pay(self, testapp, auth):
        order = create(testapp, auth).json
        failure = pay(testapp, order["razorpayOrderId"], outcome="failure")
        assert failure["error"]["reason"] == "payment_failed"
        shown = testapp.get(f"{PREFIX}/orders/{order['id']}", headers=auth("alice")).json
        assert shown["status"] in ("created", "attempted")
        assert balance(testapp, auth) == 0


class TestRetry:
    def failed_order(self, testapp, auth, flush):
        order = create(testapp, auth).json
        pay(testapp, order["razorpayOrderId"], outcome="failure")
        flush()
        return order

    def test_a_failed_order_is_retried_once(self, testapp, auth, flush_webhooks):
        order = self.failed_order(testapp, auth, flush_webhooks)
        shown = testapp.get(f"{PREFIX}/orders/{order['id']}", headers=auth("alice")).json
        assert shown["payment"]["status"] == "failed"
        retry = testapp.post_json(f"{PREFIX}/orders/{order['id']}/retry", {},
                                  headers=auth("alice"))
        assert retry.status_int == 201
        new = retry.json
        assert new["id"] != order["id"]
        assert new["retryOf"] == order["id"]
        assert new["attemptCount"] == 2
        assert new["sku"] == "coins.popular"
        assert new["checkout"]["order_id"] == new["razorpayOrderId"] != order["razorpayOrderId"]
        again = testapp.post_json(f"{PREFIX}/orders/{order['id']}/retry", {},
                                  headers=auth("alice"), expect_errors=True)
        assert_error(again, 409, "conflict")

    def test_a_paid_order_cannot_be_retried(self, testapp, auth):
        order = create(testapp, auth).json
        checkout = pay(testapp, order["razorpayOrderId"])
        testapp.post_json(f"{PREFIX}/verify", checkout, headers=auth("alice"))
        response = testapp.post_json(f"{PREFIX}/orders/{order['id']}/retry", {},
                                     headers=auth("alice"), expect_errors=True)
        assert_error(response, 409, "conflict")

    def test_an_order_that_has_not_failed_cannot_be_retried(self, testapp, auth):
        order = create(testapp, auth).json
        response = testapp.post_json(f"{PREFIX}/orders/{order['id']}/retry", {},
                                     headers=auth("alice"), expect_errors=True)
        assert_error(response, 409, "conflict")

    def test_another_users_order_cannot_be_retried(self, testapp, auth, flush_webhooks):
        order = self.failed_order(testapp, auth, flush_webhooks)
        response = testapp.post_json(f"{PREFIX}/orders/{order['id']}/retry", {},
                                     headers=auth("bob"), expect_errors=True)
        assert_error(response, 404, "not_found")


class TestMethods:
    @pytest.mark.parametrize(
        ("method", "path", "allowed"),
        [
            ("PUT", "/orders", ["GET", "POST"]),
            ("DELETE", "/orders/ord_x", ["GET"]),
            ("GET", "/verify", ["POST"]),
            ("POST", "/health", ["GET"]),
        ],
    )
    def test_a_wrong_method_on_a_real_path_is_405_with_allow(self, testapp, auth, method,
                                                              path, allowed):
        response = testapp.request(f"{PREFIX}{path}", method=method, headers=auth("alice"),
                                   expect_errors=True)
        assert_error(response, 405, "method_not_allowed")
        assert response.json["error"]["details"]["allowed"] == allowed
        assert "POST" in response.headers["Allow"] or "GET" in response.headers["Allow"]

    @pytest.mark.parametrize("path", ["/orders/%ff", "/orders/%ff/retry"])
    def test_a_path_that_is_not_utf8_is_400(self, testapp, auth, path):
        response = testapp.get(f"{PREFIX}{path}", headers=auth("alice"), expect_errors=True)
        assert_error(response, 400, "validation_failed")

    def test_an_unknown_path_is_still_404(self, testapp):
        assert_error(testapp.get(f"{PREFIX}/nowhere", expect_errors=True), 404, "not_found")


class TestErrorMessages:
    def test_messages_are_readable_not_redacted(self, testapp, auth):
        unauthenticated = testapp.get(f"{PREFIX}/orders", expect_errors=True).json
        assert unauthenticated["error"]["message"] == "A bearer token is required."
        body = {"razorpay_order_id": "order_x", "razorpay_payment_id": "pay_x",
                "razorpay_signature": 5}
        invalid = testapp.post_json(f"{PREFIX}/verify", body, headers=auth("alice"),
                                    expect_errors=True).json
        assert invalid["error"]["details"] == {"razorpay_signature": "must be a string"}
        missing = testapp.post_json(f"{PREFIX}/verify", {}, headers=auth("alice"),
                                    expect_errors=True).json
        assert missing["error"]["details"]["razorpay_signature"] == "Required"
        assert "REDACTED" not in str(unauthenticated) + str(invalid) + str(missing)
