"""Browser tests: Debian's Chromium driven by Playwright, against the app served for real.

One browser for the whole session and one app server (waitress on loopback, the sandbox
mounted in it, its webhook worker delivering signed webhooks over HTTP to the app's own
route); each test gets a fresh browser context. Chromium is not optional: when it is
missing the tests fail (CI installs it), they are never skipped.

Every request a page makes is recorded; a test fails if anything was fetched from
another host, or if a page threw an uncaught error. Screenshots of each step are saved
under ``var/screenshots/<test>/`` (git-ignored) as artifacts.
"""

from __future__ import annotations

import base64
import os
import re
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import waitress.server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
PREFIX = "/api/payments"
SANDBOX = f"{PREFIX}/_sandbox/razorpay"
PLUGINS = "banter_coins\nbanter_credits\nbanter_gifting"
TIMEOUT_MS = 15000


def app_settings(database_url: str, sandbox_url: str, **extra: str) -> dict[str, str]:
    settings = {
        "sqlalchemy.url": database_url,
        "sandbox.database_url": sandbox_url,
        "banter_payments.environment": "development",
        "banter_payments.plugins": PLUGINS,
        "gifting.policy": "allow_all",
        "razorpay.mode": "sandbox",
        "sandbox.worker": "true",
        "sandbox.webhook_delay": "0",
        "sandbox.webhook_retry_base": "0.2",
        # As development.ini: the app's worker thread processes its webhook inbox.
        "worker.in_process": "true",
        "worker.reconcile_interval_seconds": "0",
    }
    settings.update(extra)
    return settings


class Server:
    """A WSGI app served by waitress on a free loopback port, in this process."""

    def __init__(self, app) -> None:
        self.app = app
        self._server = waitress.server.create_server(app, host="127.0.0.1", port=0, threads=8)
        self.url = f"http://127.0.0.1:{self._server.effective_port}"
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()

    def close(self) -> None:
        from banter_payments.worker.runner import stop_in_process

        self._server.close()
        registry = getattr(self.app, "registry", None)  # a plain WSGI function has none
        if registry is not None:
            stop_in_process(registry=registry)


def serve_app(settings: dict[str, str]) -> Server:
    from banter_payments import main

    return Server(main({}, **settings))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is required for the browser tests and {CHROMIUM} is missing "
                    "(apt-get install -y chromium)", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def server(database_url, sandbox_url):
    from banter_payments.sandbox.worker import stop_workers

    live = serve_app(app_settings(database_url, sandbox_url))
    yield live
    stop_workers()
    live.close()


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(interval)


def queued_inbox_events(engine) -> int:
    """Webhooks the app has received and its worker has not applied yet."""
    from sqlalchemy import func, select

    from banter_payments.webhooks.models import WebhookEvent

    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(WebhookEvent)
                                 .where(WebhookEvent.status == "queued")) or 0


@pytest.fixture
def quiet_sandbox(server, engine):
    """After the test, wait until the sandbox has delivered what it queued and the app's
    worker has applied it, then stop the sandbox's worker: the next test starts from
    empty tables with no webhook in flight (the tables are emptied while no worker holds
    a row of them: on PostgreSQL that could deadlock), and the rest of the suite (whose
    apps deliver webhooks by hand) never meets a running worker. The next event the
    shared server queues starts a worker again."""
    yield
    from banter_payments.sandbox.worker import pending_webhooks, stop_workers

    wait_for(lambda: pending_webhooks(server.app) == 0, timeout=20)
    stop_workers()
    wait_for(lambda: queued_inbox_events(engine) == 0, timeout=20)


class Shots:
    """Numbered screenshots of one test's steps."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()

    def __call__(self, page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path))
        return path


@pytest.fixture
def shot(request):
    return Shots(SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name))


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context, server, quiet_sandbox):
    """A page whose every request is recorded; it may talk to the app's host only
    (and to ``page.allowed_hosts``, for tests that serve a second origin)."""
    page = context.new_page()
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda req: requested.append(req.url))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.allowed_hosts = {urlsplit(server.url).netloc}
    yield page
    outside = [url for url in requested
               if urlsplit(url).scheme in ("http", "https", "ws", "wss")
               and urlsplit(url).netloc not in page.allowed_hosts]
    assert outside == [], f"fetched from outside: {outside}"
    assert errors == [], f"uncaught errors in the page: {errors}"


class Client:
    """The public REST API and the sandbox, as a test arranges and checks state."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.trust_env = False

    def token(self, user: str, *roles: str) -> dict[str, str]:
        answer = self.http.post(f"{self.base}{PREFIX}/_sandbox/token",
                                json={"sub": user, "roles": list(roles)}, timeout=10)
        answer.raise_for_status()
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    def get(self, path: str, user: str, *roles: str) -> dict:
        answer = self.http.get(f"{self.base}{PREFIX}{path}", headers=self.token(user, *roles),
                               timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def wallet(self, user: str) -> dict[str, int]:
        return self.get("/wallet", user)["balances"]

    def orders(self, user: str) -> list[dict]:
        return self.get("/orders", user)["items"]

    def order(self, user: str, sku: str = "coins.starter") -> dict:
        answer = self.http.post(f"{self.base}{PREFIX}/orders", json={"sku": sku},
                                headers=self.token(user), timeout=10)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def buy(self, user: str, sku: str = "coins.popular") -> dict:
        """A purchase made without the browser: order, the JSON checkout route, verify."""
        headers = self.token(user)
        order = self.http.post(f"{self.base}{PREFIX}/orders", json={"sku": sku},
                               headers=headers, timeout=10).json()
        paid = self.http.post(f"{self.base}{SANDBOX}/checkout/{order['razorpayOrderId']}/pay",
                              json={"outcome": "success", "method": "upi"}, timeout=10).json()
        verified = self.http.post(f"{self.base}{PREFIX}/verify", json=paid, headers=headers,
                                  timeout=10)
        assert verified.status_code == 200, verified.text
        return verified.json()

    def razorpay(self, path: str) -> dict:
        """Razorpay's own API in the sandbox, with the sandbox key (as the SDK calls it)."""
        from banter_payments.settings import SANDBOX_KEY_ID, SANDBOX_KEY_SECRET

        auth = base64.b64encode(f"{SANDBOX_KEY_ID}:{SANDBOX_KEY_SECRET}".encode()).decode()
        answer = self.http.get(f"{self.base}{SANDBOX}/v1{path}", timeout=10,
                               headers={"Authorization": f"Basic {auth}"})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def sandbox_payments(self, razorpay_order_id: str) -> list[dict]:
        return self.razorpay(f"/orders/{razorpay_order_id}/payments")["items"]


@pytest.fixture
def client(server) -> Client:
    return Client(server.url)


_users = iter(range(1, 1_000_000))


@pytest.fixture
def user(request) -> str:
    """A user of this test alone (rate limits count per user)."""
    return f"{re.sub(r'[^a-z]', '', request.node.name.lower())[-20:]}{next(_users)}"


FRAME = "iframe.razorpay-checkout-frame"


class Demo:
    """What a customer does in the demo app, step by step."""

    def __init__(self, page, base: str, shot: Shots) -> None:
        self.page = page
        self.base = base
        self.shot = shot

    @property
    def checkout(self):
        return self.page.frame_locator(FRAME)

    @property
    def status(self):
        return self.page.locator("#status")

    def sign_in(self, user: str, *, admin: bool = False) -> None:
        self.page.goto(f"{self.base}/demo/")
        self.page.get_by_label("User id").fill(user)
        if admin:
            self.page.get_by_label("Sign in as an admin").check()
        self.page.get_by_role("button", name="Sign in").click()
        self.page.get_by_role("heading", name="Shop").wait_for()

    def buy(self, name: str) -> None:
        self.page.get_by_role("button", name=re.compile(f"^Buy {name} for")).click()
        self.checkout.get_by_label("Card number").wait_for()

    def pay_by_card(self, number: str) -> None:
        self.checkout.get_by_label("Card number").fill(number)
        self.checkout.get_by_label("Expiry (MM/YY)").fill("12/30")
        self.checkout.get_by_label("CVV").fill("123")
        self.checkout.get_by_role("button", name=re.compile("^Pay ")).click()

    def pay_by_upi(self, vpa: str) -> None:
        self.checkout.get_by_role("radio", name="UPI").check()
        self.checkout.get_by_label("UPI ID").fill(vpa)
        self.checkout.get_by_role("button", name=re.compile("^Pay ")).click()

    def wait_confirmed(self, timeout: float = TIMEOUT_MS) -> None:
        self.status.get_by_text("Confirmed:").wait_for(timeout=timeout)

    def balances(self) -> str:
        return self.page.locator("#balances").inner_text()


@pytest.fixture
def demo(page, server, shot) -> Demo:
    return Demo(page, server.url, shot)


@pytest.fixture
def late_server(database_url, sandbox_url, server):
    """The app with Razorpay's capture two seconds after authorization and every webhook
    two seconds late: verify sees an authorized payment, the capture arrives by webhook.

    The sandbox's worker is one per database, built by the first app that queues an
    event; it is stopped around this server so that this app's settings drive it.
    """
    from banter_payments.sandbox.worker import pending_webhooks, stop_workers

    wait_for(lambda: pending_webhooks(server.app) == 0, timeout=20)
    stop_workers()
    live = serve_app(app_settings(database_url, sandbox_url, **{
        "sandbox.capture_delay": "2", "sandbox.webhook_delay": "2"}))
    yield live
    wait_for(lambda: pending_webhooks(live.app) == 0, timeout=20)
    stop_workers()
    live.close()


@pytest.fixture
def demo_on(shot):
    """``demo_on(page, server)``: the demo against another server than the shared one."""
    return lambda page, live: Demo(page, live.url, shot)


@pytest.fixture
def client_on():
    return lambda live: Client(live.url)


class MerchantSite:
    """Another origin serving pages a test writes: a merchant's own site using the
    sandbox's ``checkout.js`` as it would use Razorpay's."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.server = Server(self._app)
        self.url = self.server.url

    def _app(self, environ, start_response):
        body = self.pages.get(environ.get("PATH_INFO", ""))
        if body is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body.encode("utf-8")]


@pytest.fixture(scope="session")
def merchant():
    site = MerchantSite()
    yield site
    site.server.close()
