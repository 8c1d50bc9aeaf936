"""The operators' dashboard in the demo: charts drawn as inline SVG from /admin/metrics,
failure reasons, webhook lag, and the alerts that fired."""

from __future__ import annotations

import time

from banter_payments.alerts.interfaces import IAlertService
from banter_payments.clock import utcnow
from banter_payments.jobs import Job
from banter_payments.outbox.models import OutboxMessage

from .conftest import SANDBOX


def fail_payment(client, user: str) -> None:
    order = client.order(user, "coins.starter")
    answer = client.http.post(
        f"{client.base}{SANDBOX}/checkout/{order['razorpayOrderId']}/pay",
        json={"outcome": "failure", "method": "card"}, timeout=10)
    assert answer.status_code in (200, 400), answer.text


def report(client, user: str) -> dict:
    return client.get("/admin/metrics", user, "admin")


def wait_until(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.2)


def raise_dead_letters_alert(server) -> None:
    """An outbox message that exhausted its attempts, and one evaluation of the alerts,
    as the worker runs it."""
    now = utcnow()
    with Job(server.app.registry) as job:
        with job.tm:
            job.dbsession.add(OutboxMessage(
                event_id="msg_dashboard", topic="order.paid", endpoint="jobs",
                channel="http", aggregate_type="order", aggregate_id="ord_dashboard",
                sequence=1, payload={}, status="dead", attempts=12, next_attempt_at=now,
                created_at=now, updated_at=now))
        changes = job.find_service(IAlertService).evaluate()
    assert [(c["alert"], c["state"]) for c in changes] == [("dead_letters", "firing")]


def test_the_dashboard_charts_success_revenue_failures_and_lag_and_lists_alerts(
        demo, client, user, server):
    admin = f"{user}admin"
    for _ in range(2):
        client.buy(user)
    for _ in range(2):
        fail_payment(client, user)
    # The failures reach the app by webhook, from the sandbox's worker.
    totals = wait_until(lambda: (t := report(client, admin)["totals"])["failed"] == 2 and t)
    assert totals["succeeded"] == 2
    raise_dead_letters_alert(server)
    # The webhooks' timings are written in batches; write this process's now.
    server.app.registry["banter_payments.metrics.timings"].flush()
    lag = report(client, admin)["totals"]["webhookLag"]
    assert lag["count"] >= 4 and lag["p95Ms"] is not None

    page = demo.page
    demo.sign_in(admin, admin=True)
    page.get_by_role("link", name="Metrics").click()
    page.get_by_role("heading", name="Metrics").wait_for()
    page.locator("svg[data-chart=failures]").wait_for()

    stats = page.locator("[data-stat=success-rate]").inner_text()
    assert "50.0%" in stats
    assert "2 ok · 2 failed" in page.locator("[data-stat=attempts]").inner_text()
    assert "₹898.00" in page.locator("[data-stat=revenue]").inner_text()
    assert "₹449.00" in page.locator("[data-stat=aov]").inner_text()

    # One bar per hour of the last 24, adding up to the report's totals.
    def values(selector: str) -> list[float]:
        return [float(v) for v in page.locator(selector).evaluate_all(
            "marks => marks.map(m => m.getAttribute('data-value'))")]

    failures = values("svg[data-chart=failures] rect.bar")
    assert len(failures) == 24 and sum(failures) == 2
    revenue = values("svg[data-chart=revenue] rect.bar")
    assert len(revenue) == 24 and sum(revenue) == 89800
    rates = values("svg[data-chart=success-rate] circle.point")
    assert rates and all(0 <= r <= 1 for r in rates)
    assert page.locator("svg[data-chart=success-rate] path.line").count() == 1
    lags = values("svg[data-chart=webhook-lag] circle.point")
    assert lags and max(lags) == lag["p95Ms"]
    shown = page.locator("[data-stat=webhook-lag] .big").inner_text().split(" / ")
    assert len(shown) == 3 and "—" not in shown
    for chart in ("success-rate", "revenue", "failures", "webhook-lag"):
        svg = page.locator(f"svg[data-chart={chart}]")
        assert svg.get_attribute("role") == "img"
        assert svg.evaluate("s => s.namespaceURI") == "http://www.w3.org/2000/svg"
        assert svg.locator("title").first.text_content()

    reasons = page.locator("tr[data-failure]")
    assert reasons.count() >= 1
    assert sum(int(r.locator("td.num").inner_text()) for r in reasons.all()) == 2

    firing = page.locator("tr[data-alert=dead_letters]")
    assert "FIRING" in firing.inner_text()
    history = page.locator("tr[data-alert-event]")
    assert history.count() == 1 and "raised" in history.inner_text()
    demo.shot(page, "metrics-dashboard")

    page.get_by_label("Window").select_option("30d")
    page.locator("svg[data-chart=failures] rect.bar").nth(29).wait_for(state="attached")
    assert len(values("svg[data-chart=failures] rect.bar")) == 30
    assert sum(values("svg[data-chart=failures] rect.bar")) == 2
    demo.shot(page, "metrics-30-days")
