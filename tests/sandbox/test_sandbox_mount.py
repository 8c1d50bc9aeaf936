"""The sandbox mounted in a Pyramid app: routes, where its webhooks go, the token route."""

from __future__ import annotations

import jwt
import pytest
import webtest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from sqlalchemy import select

from banter_payments.sandbox import sandbox_database_url
from banter_payments.sandbox.config import SandboxConfig
from banter_payments.sandbox.emulator import emulator_service
from banter_payments.sandbox.models import SandboxWebhook
from banter_payments.settings import SANDBOX_KEY_ID, SANDBOX_KEY_SECRET, parse_settings
from tests.common.inbox import flush_webhooks

KEY = (SANDBOX_KEY_ID, SANDBOX_KEY_SECRET)


def make_host_app(sandbox_db: str, prefix: str = "/api/payments", **extra: str):
    settings = parse_settings(
        {
            "sqlalchemy.url": "sqlite:///unused.sqlite",
            "sandbox.database_url": sandbox_db,
            "sandbox.worker": "false",
            **extra,
        },
        environ={},
    )
    with Configurator(settings=settings) as config:
        # What the core includes before the sandbox: its errors, renderer and API plumbing.
        config.include("banter_payments.errors")
        config.include("banter_payments.renderers")
        config.include("banter_payments.api")
        config.include("banter_payments.openapi", route_prefix=prefix)
        config.include("banter_payments.sandbox", route_prefix=prefix)
    return config.make_wsgi_app()


@pytest.fixture
def host_app(sandbox_db):
    app = make_host_app(sandbox_db)
    yield app
    emulator_service(app).close()


@pytest.fixture
def host(host_app) -> webtest.TestApp:
    return webtest.TestApp(host_app, extra_environ={"HTTP_HOST": "shop.test:8080"})


def test_the_emulator_is_mounted_under_the_prefix(host, host_app):
    assert "banter_payments.sandbox.emulator" in host_app.registry
    base = "/api/payments/_sandbox/razorpay"
    host.set_authorization(("Basic", KEY))
    order = host.post_json(f"{base}/v1/orders", {"amount": 100, "currency": "INR"}).json
    assert host.get(f"{base}/v1/orders/{order['id']}").json == order
    host.authorization = None
    host.get(f"{base}/v1/orders/{order['id']}", status=401)


def test_webhooks_go_back_to_the_mounting_app_under_its_own_script_name(host, host_app):
    base = "/api/payments/_sandbox/razorpay"
    host.set_authorization(("Basic", KEY))
    order = host.post_json(f"{base}/v1/orders", {"amount": 100, "currency": "INR"}).json
    host.post_json(f"{base}/checkout/{order['id']}/pay", {}, extra_environ={"SCRIPT_NAME": "/shop"})
    service = emulator_service(host_app)
    with service.reader() as session:
        targets = set(session.scalars(select(SandboxWebhook.target_url)))
    assert targets == {"http://shop.test:8080/shop/api/payments/webhooks/razorpay"}


def test_flush_webhooks_finds_the_emulator_through_the_host_app(host, host_app):
    recorded = []

    def webhook_route(environ, start_response):
        recorded.append(environ["SCRIPT_NAME"] + environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"status": "processed"}']

    base = "/api/payments/_sandbox/razorpay"
    host.set_authorization(("Basic", KEY))
    order = host.post_json(f"{base}/v1/orders", {"amount": 100, "currency": "INR"}).json
    host.post_json(f"{base}/checkout/{order['id']}/pay", {})
    assert flush_webhooks(host_app, app=webhook_route) == 3
    assert recorded == ["/api/payments/webhooks/razorpay"] * 3


def test_the_webhook_path_follows_the_route_prefix(sandbox_db):
    app = make_host_app(sandbox_db, prefix="/pay/v2")
    try:
        assert emulator_service(app).config.webhook_path == "/pay/v2/webhooks/razorpay"
    finally:
        emulator_service(app).close()


def test_only_sandbox_mode_can_include_the_sandbox(sandbox_db):
    with pytest.raises(ConfigurationError, match="only for razorpay.mode = sandbox"):
        make_host_app(
            sandbox_db,
            **{
                "razorpay.mode": "test",
                "razorpay.key_id": "rzp_test_x",
                "razorpay.key_secret": "s" * 20,
                "razorpay.webhook_secrets": "w" * 20,
                "jwt.secret": "j" * 40,
            },
        )


def test_the_token_route_issues_a_token_for_the_app(host, host_app):
    answer = host.post_json("/api/payments/_sandbox/token", {"sub": "alice", "roles": ["admin"]})
    assert list(answer.json) == ["token"]
    settings = host_app.registry.settings
    claims = jwt.decode(
        answer.json["token"], settings["jwt.secret"], algorithms=[settings["jwt.algorithm"]]
    )
    assert (claims["sub"], claims["roles"]) == ("alice", ["admin"])
    no_roles = host.post_json("/api/payments/_sandbox/token", {"sub": "bob"}).json["token"]
    assert jwt.decode(no_roles, settings["jwt.secret"], algorithms=["HS256"])["roles"] == []


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({}, {"sub": "Required"}),
        ({"sub": ""}, {"sub": "must not be empty"}),
        ({"sub": "a" * 129}, {"sub": "Longer than maximum length 128"}),
        ({"sub": 42}, {"sub": "must be a string"}),
        ({"sub": "alice", "roles": "admin"}, {"roles": '"admin" is not iterable'}),
        ({"sub": "alice", "roles": [1]}, {"roles.0": "must be a string"}),
        ({"sub": "alice", "roles": ["r"] * 17}, {"roles": "Longer than maximum length 16"}),
        (
            {"sub": "alice", "admin": True},
            {"admin": "is not a field of this request"},
        ),
    ],
)
def test_the_token_route_is_strict(host, body, details):
    response = host.post_json("/api/payments/_sandbox/token", body, status=400)
    assert response.json == {
        "error": {
            "code": "validation_failed",
            "message": "The request does not match the schema.",
            "details": details,
        }
    }


@pytest.mark.parametrize("body", [b"sub=alice", b"[]", b"{"])
def test_the_token_route_wants_a_json_object(host, body):
    response = host.post(
        "/api/payments/_sandbox/token", body, content_type="application/json", status=400
    )
    assert response.json["error"]["code"] == "validation_failed"


def test_the_token_route_is_documented(host):
    paths = host.get("/api/payments/openapi.json").json["paths"]
    operation = paths["/api/payments/_sandbox/token"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["sub"]
    assert schema["additionalProperties"] is False
    assert (schema["properties"]["sub"]["minLength"], schema["properties"]["sub"]["maxLength"]) == (
        1,
        128,
    )
    assert schema["properties"]["roles"]["items"]["type"] == "string"
    assert "security" not in operation
    # Of the emulator, only the checkout simulation is ours to document; the rest is
    # Razorpay's own API.
    assert [path for path in paths if "razorpay" in path] == [
        "/api/payments/_sandbox/razorpay/checkout/{razorpay_order_id}/pay"]


# The sandbox's database and settings


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"sqlalchemy.url": "sqlite:///var/banter.sqlite"}, "sqlite:///var/banter-sandbox.sqlite"),
        ({"sqlalchemy.url": "sqlite:////srv/app/data.db"}, "sqlite:////srv/app/data-sandbox.db"),
        ({"sqlalchemy.url": "sqlite:///plain"}, "sqlite:///plain-sandbox"),
        ({}, "sqlite:///banter-sandbox.sqlite"),
        (
            {"sqlalchemy.url": "postgresql+psycopg://app:pw@db/banter"},
            "postgresql+psycopg://app:pw@db/banter",
        ),
        (
            {"sqlalchemy.url": "sqlite:///a.sqlite", "sandbox.database_url": "sqlite:///b.sqlite"},
            "sqlite:///b.sqlite",
        ),
        (
            {"sqlalchemy.url": "sqlite:///a.sqlite", "sandbox.database_url": None},
            "sqlite:///a-sandbox.sqlite",
        ),
    ],
)
def test_the_sandbox_database_rule(settings, expected):
    assert sandbox_database_url(settings) == expected


def test_settings_arrive_as_ini_strings_or_typed_values():
    raw = SandboxConfig.from_settings(
        {
            "sandbox.database_url": "sqlite:///s.sqlite",
            "sandbox.worker": "false",
            "sandbox.webhook_delay": "1.5",
            "sandbox.webhook_duplicates": "2",
            "sandbox.webhook_shuffle": "true",
            "sandbox.webhook_drop_rate": "0.25",
            "sandbox.random_seed": "3",
            "sandbox.refund_status": "pending",
            "razorpay.webhook_secrets": "first-secret second-secret",
        }
    )
    typed = SandboxConfig.from_settings(
        {
            "sandbox.database_url": "sqlite:///s.sqlite",
            "sandbox.worker": False,
            "sandbox.webhook_delay": 1.5,
            "sandbox.webhook_duplicates": 2,
            "sandbox.webhook_shuffle": True,
            "sandbox.webhook_drop_rate": 0.25,
            "sandbox.random_seed": 3,
            "sandbox.refund_status": "pending",
            "razorpay.webhook_secrets": ["first-secret", "second-secret"],
        }
    )
    assert raw == typed
    assert (raw.worker, raw.webhook_delay, raw.webhook_duplicates, raw.webhook_secret) == (
        False,
        1.5,
        2,
        "first-secret",
    )
    defaults = SandboxConfig.from_settings({"sandbox.database_url": "sqlite:///s.sqlite"})
    assert (
        defaults.key_id,
        defaults.key_secret,
        defaults.worker,
        defaults.webhook_path,
        defaults.webhook_retry_base,
        defaults.webhook_max_attempts,
        defaults.refund_status,
        defaults.random_seed,
    ) == (
        SANDBOX_KEY_ID,
        SANDBOX_KEY_SECRET,
        True,
        "/api/payments/webhooks/razorpay",
        1.0,
        6,
        "processed",
        None,
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("sandbox.webhook_drop_rate", "1", "must be below 1"),
        ("sandbox.webhook_duplicates", "0", "sandbox.webhook_duplicates"),
        ("sandbox.refund_status", "later", "sandbox.refund_status"),
        ("sandbox.webhook_path", "hooks", "must start with /"),
        ("sandbox.webhook_max_attempts", "many", "sandbox.webhook_max_attempts"),
    ],
)
def test_bad_settings_stop_start_up_naming_the_setting(name, value, message):
    with pytest.raises(ConfigurationError, match=message):
        SandboxConfig.from_settings({"sandbox.database_url": "sqlite:///s.sqlite", name: value})


def test_the_mounted_sandbox_describes_itself_and_takes_faults(host):
    base = "/api/payments/_sandbox/razorpay"
    page = host.get(f"{base}/").json
    assert page["base_url"] == f"http://shop.test:8080{base}"
    assert page["routes"]["checkout"] == f"POST http://shop.test:8080{base}/checkout/{{order_id}}/pay"
    assert page["key_id"] == SANDBOX_KEY_ID
    plan = host.post_json(f"{base}/faults", {"error_rate": 1, "statuses": [503]}).json
    assert plan["error_rate"] == 1.0
    host.set_authorization(("Basic", KEY))
    error = host.post_json(f"{base}/v1/orders", {"amount": 100, "currency": "INR"},
                           status=503).json["error"]
    assert error["code"] == "SERVER_ERROR"
    host.authorization = None
    host.delete(f"{base}/faults")
    host.set_authorization(("Basic", KEY))
    assert host.get(f"{base}/v1/orders").json["count"] == 0
