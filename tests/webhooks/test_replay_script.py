"""``banter-replay-webhooks <ini>``: failed events processed again once the cause is fixed."""

from __future__ import annotations

import pytest

from banter_payments.scripts.replay_webhooks import main as replay_main


class Outage:
    def __call__(self, request, event, delivery):
        raise ConnectionError("the CRM is down")


@pytest.fixture
def configure():
    return lambda config: config.add_webhook_handler("payment.captured", Outage())


def test_failed_events_are_replayed_by_the_script(kit, deliver, dbsession, settings, tmp_path,
                                                  capsys):
    # The app that answered had a broken handler; the script runs the fixed app (no Outage).
    ini = kit.write_ini(tmp_path / "app.ini", settings)
    order = kit.make_order(dbsession)
    body = kit.event_body("payment.captured", kit.payment_entity(order.razorpay_order_id))
    assert deliver(body, "evt_1").outcome == "failed"
    deliver(kit.event_body("subscription.charged", extra_payload={"s": {}}), "evt_2")

    assert replay_main([ini]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "replayed 1 deliveries"
    assert lines[0].endswith(" processed")
    assert kit.reload(dbsession, order).status == "paid"
    assert kit.balance(dbsession, "alice") == 600
    [event, _] = kit.webhook_events(dbsession)
    assert (event.status, event.attempts) == ("processed", 2)
    assert [(d.source, d.outcome) for d in kit.deliveries(dbsession)] == [
        ("razorpay", "failed"), ("razorpay", "ignored"), ("replay", "processed")]

    assert replay_main([ini]) == 0
    assert capsys.readouterr().out.splitlines() == ["replayed 0 deliveries"]


def test_chosen_deliveries_are_replayed_whatever_their_outcome(kit, deliver, dbsession,
                                                               settings, tmp_path, capsys):
    ini = kit.write_ini(tmp_path / "app.ini", settings)
    ignored = deliver(kit.event_body("subscription.charged", extra_payload={"s": {}}),
                      "evt_2").json["deliveryId"]

    assert replay_main([ini, "--delivery", ignored, "--delivery", "whd_missing"]) == 1

    assert capsys.readouterr().out.splitlines() == [
        f"{kit.deliveries(dbsession)[-1].id} ignored", "whd_missing error: no such delivery",
        "replayed 2 deliveries"]
