"""Every way the gateway can fail becomes one 502 ``GatewayError``, without secrets."""

import json
import time

import pytest
import razorpay
import requests

from banter_payments.errors import GatewayError
from banter_payments.gateway.razorpay import RazorpayGateway
from banter_payments.gateway.transport import inprocess_session

BASE = "http://gateway.test"
SECRET = "the-key-secret-never-to-be-shown"


def gateway_answering(status: int, body: bytes, delay: float = 0.0,
                      content_type: str = "application/json") -> RazorpayGateway:
    def app(environ, start_response):
        if delay:
            time.sleep(delay)
        start_response(f"{status} X", [("Content-Type", content_type)])
        return [body]

    client = razorpay.Client(session=inprocess_session(app, BASE), auth=("rzp_test_k", SECRET),
                             base_url=BASE)
    return RazorpayGateway(client, "rzp_test_k", SECRET, timeout=5)


def razorpay_error(code: str, description: str) -> bytes:
    return json.dumps({"error": {"code": code, "description": description}}).encode()


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (400, razorpay_error("BAD_REQUEST_ERROR", "The id provided does not exist"),
         "bad_request"),
        (401, razorpay_error("BAD_REQUEST_ERROR", "The api key provided is invalid"),
         "bad_request"),
        (502, razorpay_error("GATEWAY_ERROR", "bank down"), "gateway_failure"),
        (500, razorpay_error("SERVER_ERROR", "oops"), "gateway_failure"),
        (503, b"<html>maintenance</html>", "unreachable"),
        (200, b"not json at all", "unreachable"),
        (200, b"[1, 2, 3]", "bad_answer"),
    ],
)
def test_gateway_failures_become_gateway_error(status, body, reason):
    gateway = gateway_answering(status, body)
    with pytest.raises(GatewayError) as info:
        gateway.fetch_payment("pay_123")
    assert info.value.status == 502
    assert info.value.code == "gateway_error"
    assert info.value.details["reason"] == reason
    assert SECRET not in info.value.message


def test_an_unreachable_gateway_is_a_gateway_error():
    client = razorpay.Client(auth=("rzp_test_k", SECRET), base_url="http://127.0.0.1:9")
    gateway = RazorpayGateway(client, "rzp_test_k", SECRET, timeout=2)
    with pytest.raises(GatewayError) as info:
        gateway.create_order(10000, "INR", "ord_1", {}, True)
    assert info.value.details["reason"] == "unreachable"


def test_every_call_carries_the_configured_timeout():
    seen = {}

    class Recording(requests.Session):
        def request(self, method, url, **kwargs):
            seen[url] = kwargs.get("timeout")
            raise requests.Timeout("slow")

    client = razorpay.Client(session=Recording(), auth=("k", SECRET), base_url=BASE)
    gateway = RazorpayGateway(client, "k", SECRET, timeout=3.5)
    calls = [
        lambda: gateway.create_order(10000, "INR", "r", {}, True),
        lambda: gateway.fetch_order("order_1"),
        lambda: gateway.fetch_order_payments("order_1"),
        lambda: gateway.fetch_payment("pay_1"),
        lambda: gateway.capture_payment("pay_1", 100, "INR"),
        lambda: gateway.refund_payment("pay_1", 100, "idem-key-0001", {}, "r"),
        lambda: gateway.fetch_refund("rfnd_1"),
    ]
    for call in calls:
        with pytest.raises(GatewayError) as info:
            call()
        assert info.value.details["reason"] == "timeout"
    assert len(seen) == len(calls)
    assert set(seen.values()) == {3.5}


def test_the_checkout_signature_is_checked_in_constant_time_against_the_secret():
    gateway = gateway_answering(200, b"{}")
    import hashlib
    import hmac

    good = hmac.new(SECRET.encode(), b"order_1|pay_1", hashlib.sha256).hexdigest()
    assert gateway.verify_payment_signature("order_1", "pay_1", good) is True
    assert gateway.verify_payment_signature("order_1", "pay_2", good) is False
    assert gateway.verify_payment_signature("order_2", "pay_1", good) is False
    assert gateway.verify_payment_signature("order_1", "pay_1", good.upper()) is False
