"""A database that is down or out of connections is a 503 with Retry-After, never a 500.

And the pool is what its settings say: one process never holds more connections than
docs/operations.md's formula, under load with real threads (PostgreSQL).
"""

from __future__ import annotations

import collections
import json
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa
import waitress.server

from banter_payments import main
from banter_payments.settings import SANDBOX_WEBHOOK_SECRET
from banter_payments.webhooks.signatures import sign

API = "/api/payments"


def _signed(event_id: str) -> dict:
    body = json.dumps({"event": "subscription.charged", "payload": {},
                       "id": event_id}).encode()
    return {"params": body, "headers": {
        "Content-Type": "application/json", "X-Razorpay-Event-Id": event_id,
        "X-Razorpay-Signature": sign(body, SANDBOX_WEBHOOK_SECRET)}}


def _assert_unavailable(response):
    assert response.status_int == 503, response.text
    assert response.headers["Retry-After"] == "5"
    assert response.json["error"]["code"] == "service_unavailable"


class TestUnreachable:
    @pytest.fixture
    def settings(self, settings, database_url, tmp_path):
        if database_url.startswith("postgresql"):
            url = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2"
        elif database_url.startswith("mysql"):
            url = "mysql+pymysql://root@127.0.0.1:1/nowhere?connect_timeout=2"
        else:
            url = f"sqlite:///{tmp_path}/missing-directory/banter.sqlite"
        return dict(settings, **{"sqlalchemy.url": url})

    def test_every_kind_of_request_is_a_503(self, testapp, auth):
        _assert_unavailable(testapp.get(f"{API}/orders", headers=auth("alice"), status=503))
        _assert_unavailable(testapp.get(f"{API}/wallet", headers=auth("alice"), status=503))
        # The webhook route too: Razorpay delivers again.
        _assert_unavailable(testapp.post(f"{API}/webhooks/razorpay", status=503,
                                         **_signed("evt_down")))
        # With an Idempotency-Key the claim, outside the transaction, fails first.
        _assert_unavailable(testapp.post_json(
            f"{API}/orders", {"sku": "coins.popular"}, status=503,
            headers={**auth("alice"), "Idempotency-Key": "k-down"}))


class TestPoolExhausted:
    @pytest.fixture
    def settings(self, settings):
        return dict(settings, **{"sqlalchemy.pool_size": "1", "sqlalchemy.max_overflow": "0",
                                 "sqlalchemy.pool_timeout": "0.3"})

    def test_waiting_for_a_connection_too_long_is_a_503(self, testapp, registry, auth):
        engine = registry["banter_payments.engine"]
        with engine.connect():  # the pool's only connection
            _assert_unavailable(testapp.get(f"{API}/orders", headers=auth("alice"),
                                            status=503))
            _assert_unavailable(testapp.post(f"{API}/webhooks/razorpay", status=503,
                                             **_signed("evt_busy")))
        assert testapp.get(f"{API}/orders", headers=auth("alice")).status_int == 200


# The load test: a small pool, many more server threads and clients than connections.
POOL_SIZE, MAX_OVERFLOW = 2, 2
# SQLAlchemy's defaults, which the sandbox's own engine uses (docs/operations.md).
SANDBOX_POOL = 5 + 10
THREADS, CLIENTS, ROUNDS = 12, 24, 4


@pytest.fixture
def tagged_urls(database_url, engine):
    """{tag: URL}: the database's URL, with each engine's connections told apart on the
    server (PostgreSQL: by application name; MariaDB: by a user of their own)."""
    tags = ("bp_pool_app", "bp_pool_sandbox")
    if not database_url.startswith("mysql"):
        tagged = database_url + ("&" if "?" in database_url else "?")
        yield {tag: tagged + f"application_name={tag}" for tag in tags}
        return
    url = sa.engine.make_url(database_url)
    suffix = f"{zlib.crc32(url.database.encode()):08x}"
    users = {tag: f"{tag}_{suffix}" for tag in tags}
    with engine.begin() as conn:
        for user in users.values():
            conn.exec_driver_sql(f"CREATE USER IF NOT EXISTS '{user}'@'%%'")
            conn.exec_driver_sql(f"GRANT ALL ON `{url.database}`.* TO '{user}'@'%%'")
    yield {tag: url.set(username=user).render_as_string(hide_password=False)
           for tag, user in users.items()}
    with engine.begin() as conn:
        for user in users.values():
            conn.exec_driver_sql(f"DROP USER IF EXISTS '{user}'@'%%'")


def _connections_by_tag(conn) -> list[tuple[str, int]]:
    if conn.dialect.name == "mysql":
        rows = conn.execute(sa.text(
            "SELECT user, count(*) FROM information_schema.processlist "
            "WHERE db = DATABASE() AND user LIKE 'bp\\_pool\\_%' GROUP BY user")).all()
        return [(user.rsplit("_", 1)[0], count) for user, count in rows]
    return conn.execute(sa.text(
        "SELECT application_name, count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name "
        "LIKE 'bp_pool_%' GROUP BY 1")).all()


@pytest.mark.server_database
class TestConnectionsPerProcess:
    @pytest.fixture
    def settings(self, settings, tagged_urls):
        return dict(settings, **{
            "sqlalchemy.url": tagged_urls["bp_pool_app"],
            "sandbox.database_url": tagged_urls["bp_pool_sandbox"],
            "sqlalchemy.pool_size": str(POOL_SIZE),
            "sqlalchemy.max_overflow": str(MAX_OVERFLOW),
            "ratelimit.enabled": "false",
        })

    @pytest.fixture
    def app(self, settings):
        app = main({}, **settings)
        yield app
        app.registry["banter_payments.engine"].dispose()

    def test_one_process_never_opens_more_than_the_formula(self, app, engine, auth):
        peaks: collections.Counter = collections.Counter()
        stop = threading.Event()

        def watch():
            with engine.connect() as conn:
                while not stop.is_set():
                    rows = _connections_by_tag(conn)
                    conn.rollback()
                    for name, count in rows:
                        peaks[name] = max(peaks[name], count)
                    time.sleep(0.005)

        server = waitress.server.create_server(app, host="127.0.0.1", port=0,
                                               threads=THREADS, connection_limit=200)
        threading.Thread(target=server.run, daemon=True).start()
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        base = f"http://127.0.0.1:{server.effective_port}{API}"
        barrier = threading.Barrier(CLIENTS)

        def client(number: int) -> list[int]:
            http = requests.Session()
            headers = auth(f"user{number}")
            barrier.wait(timeout=60)
            statuses = []
            for round_ in range(ROUNDS):
                key = {"Idempotency-Key": f"k-{number}-{round_}"}
                statuses.append(http.post(f"{base}/orders", json={"sku": "coins.popular"},
                                          headers={**headers, **key}, timeout=60).status_code)
                statuses.append(http.get(f"{base}/wallet", headers=headers,
                                         timeout=60).status_code)
                signed = _signed(f"evt_{number}_{round_}")
                statuses.append(http.post(f"{base}/webhooks/razorpay", data=signed["params"],
                                          headers=signed["headers"], timeout=60).status_code)
            return statuses

        try:
            with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
                results = [s for statuses in pool.map(client, range(CLIENTS))
                           for s in statuses]
        finally:
            stop.set()
            watcher.join(timeout=5)
            server.close()

        assert collections.Counter(results) == {201: CLIENTS * ROUNDS,
                                                200: 2 * CLIENTS * ROUNDS}
        # The app's pool (requests, idempotency claims, short transactions) is bounded by
        # its settings; the sandbox's engine by its own pool.
        assert 2 <= peaks["bp_pool_app"] <= POOL_SIZE + MAX_OVERFLOW, peaks  # under load
        assert peaks["bp_pool_sandbox"] <= SANDBOX_POOL, peaks
        assert sum(peaks.values()) <= POOL_SIZE + MAX_OVERFLOW + SANDBOX_POOL
        assert app.registry["banter_payments.engine"].pool.size() == POOL_SIZE
