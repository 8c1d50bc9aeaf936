"""Security headers on every response; CORS for the configured origins only."""

from __future__ import annotations

import pytest

from banter_payments.http.headers import API_CSP, HSTS, PAGE_CSP

PREFIX = "/api/payments"
ORIGIN = "https://app.example.com"


def assert_hardened(response, csp=API_CSP):
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Content-Security-Policy"] == csp


def test_json_success_and_error_responses_carry_the_security_headers(testapp, auth):
    assert_hardened(testapp.get(f"{PREFIX}/catalog", status=200))
    assert_hardened(testapp.get(f"{PREFIX}/orders", status=401))
    assert_hardened(testapp.get(f"{PREFIX}/no/such/route", status=404))
    assert_hardened(testapp.post_json(f"{PREFIX}/orders", {"sku": 5}, headers=auth("alice"),
                                      status=400))


def test_no_hsts_over_plain_http_by_default(testapp):
    response = testapp.get(f"{PREFIX}/catalog", status=200)
    assert "Strict-Transport-Security" not in response.headers


def test_an_html_page_gets_the_page_policy_not_the_api_one(app):
    """The sandbox's checkout page, or any HTML a host serves, may load its own assets."""
    from pyramid.response import Response

    from banter_payments.http.headers import add_security_headers

    page = Response("<html></html>", content_type="text/html")
    add_security_headers(page, https=False)
    assert page.headers["Content-Security-Policy"] == PAGE_CSP
    own = Response("<html></html>", content_type="text/html")
    own.headers["Content-Security-Policy"] = "default-src 'self'"
    add_security_headers(own, https=False)
    assert own.headers["Content-Security-Policy"] == "default-src 'self'"


def test_no_cors_headers_when_no_origin_is_configured(testapp):
    response = testapp.get(f"{PREFIX}/catalog", headers={"Origin": ORIGIN}, status=200)
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = testapp.options(
        f"{PREFIX}/orders", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
        expect_errors=True)
    assert preflight.status_int != 204
    assert "Access-Control-Allow-Origin" not in preflight.headers


class TestWithSettings:
    @pytest.fixture
    def settings(self, settings):
        settings["banter_payments.https"] = "true"
        settings["cors.allowed_origins"] = f"{ORIGIN}/ https://admin.example.com"
        settings["cors.max_age_seconds"] = "300"
        return settings

    def test_hsts_when_the_deployment_says_https(self, testapp):
        response = testapp.get(f"{PREFIX}/catalog", status=200)
        assert response.headers["Strict-Transport-Security"] == HSTS
        assert testapp.get(f"{PREFIX}/nope", status=404).headers[
            "Strict-Transport-Security"] == HSTS

    def test_an_allowed_origin_gets_cors_headers(self, testapp):
        response = testapp.get(f"{PREFIX}/catalog", headers={"Origin": ORIGIN}, status=200)
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "Origin" in response.headers["Vary"]
        assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]
        assert "Access-Control-Allow-Credentials" not in response.headers

    def test_another_origin_gets_none(self, testapp):
        response = testapp.get(f"{PREFIX}/catalog", headers={"Origin": "https://evil.example"},
                               status=200)
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "Origin" in response.headers["Vary"]

    def test_preflight_from_an_allowed_origin_is_answered(self, testapp):
        response = testapp.options(f"{PREFIX}/orders", headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type, Idempotency-Key, "
                                              "X-Evil",
        }, status=204)
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert response.headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
        assert response.headers["Access-Control-Allow-Headers"] == (
            "authorization, content-type, idempotency-key")
        assert response.headers["Access-Control-Max-Age"] == "300"
        assert_hardened(response)

    def test_preflight_from_another_origin_is_not(self, testapp):
        response = testapp.options(f"{PREFIX}/orders", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
        }, expect_errors=True)
        assert response.status_int in (404, 405)
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "Access-Control-Allow-Methods" not in response.headers
