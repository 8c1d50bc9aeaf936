"""The state machine is forward-only: whatever order (and however many copies) the
snapshots of one subscription arrive in, it ends where the newest one says, its paid
count never goes down, and a final status never changes."""

import datetime as dt

from banter_subscriptions.models import Subscription
from banter_subscriptions.services import SubscriptionService
from banter_subscriptions.transitions import FINAL, TRANSITIONS, allowed
from hypothesis import given, settings
from hypothesis import strategies as st

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class Session:
    def flush(self):
        pass


class Events:
    source = None

    def __init__(self):
        self.emitted = []

    def emit(self, event):
        self.emitted.append(type(event).__name__)


def service():
    return SubscriptionService(Session(), None, None, None, {}, 0, Events())


def new_subscription():
    return Subscription(id="sbs_1", user_id="u", plan="premium.monthly", family="premium",
                        status="created", paid_count=0, snapshot_at=None,
                        premium_until=None, cancel_at_cycle_end=False)


def walk(actions, end):
    """What Razorpay would report, in order: (status, paid_count) per event."""
    truth = [("authenticated", 0), ("active", 1)]
    status, paid = "active", 1
    for action in actions:
        if action == "charge" and status in ("active", "pending", "halted"):
            status, paid = "active", paid + 1
        elif action == "fail" and status in ("active", "pending"):
            status = "pending"
        elif action == "halt" and status == "pending":
            status = "halted"
        elif action == "pause" and status == "active":
            status = "paused"
        elif action == "resume" and status == "paused":
            status = "active"
        else:
            continue
        truth.append((status, paid))
    if end:
        truth.append((end, paid))
    return truth


def snapshots(truth):
    return [({"status": status, "paid_count": paid, "current_start": None,
              "current_end": None, "charge_at": None, "ended_at": None},
             START + dt.timedelta(hours=index)) for index, (status, paid) in enumerate(truth)]


@settings(max_examples=300, deadline=None)
@given(actions=st.lists(st.sampled_from(["charge", "fail", "halt", "pause", "resume"]),
                        max_size=25),
       end=st.sampled_from([None, "cancelled", "completed"]),
       data=st.data())
def test_any_delivery_order_ends_at_the_newest_snapshot(actions, end, data):
    truth = snapshots(walk(actions, end))
    copies = data.draw(st.lists(st.sampled_from(truth), max_size=10))
    deliveries = data.draw(st.permutations(truth + copies))
    svc, sub = service(), new_subscription()
    paid_seen, final_seen = 0, None
    for remote, at in deliveries:
        svc.apply_snapshot(sub, remote, at)
        assert sub.paid_count >= paid_seen
        paid_seen = sub.paid_count
        if final_seen:
            assert sub.status == final_seen
        elif sub.status in FINAL:
            final_seen = sub.status
    newest = truth[-1][0]
    assert (sub.status, sub.paid_count) == (newest["status"], newest["paid_count"])
    # Each move announced once at most, never for a duplicate.
    assert svc.events.emitted.count("SubscriptionCancelled") == (end == "cancelled")


def test_a_late_pending_after_a_later_charge_changes_nothing():
    svc, sub = service(), new_subscription()
    (_, _), (active, t1), (pending, t2), (charged, t3) = snapshots(
        walk(["fail", "charge"], None))
    svc.apply_snapshot(sub, active, t1)
    assert svc.apply_snapshot(sub, charged, t3) is True
    assert svc.apply_snapshot(sub, pending, t2) is False
    assert (sub.status, sub.paid_count) == ("active", 2)


def test_cancelled_is_final():
    svc, sub = service(), new_subscription()
    truth = snapshots(walk([], "cancelled"))
    for remote, at in truth:
        svc.apply_snapshot(sub, remote, at)
    later = dict(truth[1][0], paid_count=5)
    assert svc.apply_snapshot(sub, later, START + dt.timedelta(days=90)) is False
    assert sub.status == "cancelled"


def test_the_table_never_leaves_a_final_status_and_never_returns_to_created():
    for status in FINAL:
        assert TRANSITIONS[status] == frozenset()
    assert not any("created" in moves for moves in TRANSITIONS.values())
    assert allowed("pending", "pending") and not allowed("active", "authenticated")


def named(truth):
    """Each snapshot with the webhook Razorpay sends for that step."""
    names = []
    previous = None
    for remote, _at in truth:
        status, paid = remote["status"], remote["paid_count"]
        if status == "active" and previous and previous[0] == "paused" \
                and paid == previous[1]:
            names.append("subscription.resumed")
        elif status == "active":
            names.append("subscription.charged" if paid else "subscription.activated")
        else:
            names.append(f"subscription.{status}")
        previous = (status, paid)
    return [(remote, at, name) for (remote, at), name in zip(truth, names, strict=True)]


@settings(max_examples=300, deadline=None)
@given(actions=st.lists(st.sampled_from(["charge", "fail", "pause", "resume"]),
                        max_size=25),
       end=st.sampled_from([None, "cancelled"]),
       data=st.data())
def test_with_event_names_late_activations_never_unpause(actions, end, data):
    """The same property with each snapshot's webhook name, which ``apply_event``
    passes: the newest snapshot still wins, and an active snapshot of the same paid
    cycle that is not a resume never takes a paused subscription back to active."""
    truth = named(snapshots(walk(actions, end)))
    copies = data.draw(st.lists(st.sampled_from(truth), max_size=10))
    deliveries = data.draw(st.permutations(truth + copies))
    svc, sub = service(), new_subscription()
    for remote, at, name in deliveries:
        before = (sub.status, sub.paid_count)
        svc.apply_snapshot(sub, remote, at, name)
        if before[0] == "paused" and sub.status == "active" \
                and sub.paid_count == before[1]:
            assert name == "subscription.resumed"
    newest = truth[-1][0]
    assert (sub.status, sub.paid_count) == (newest["status"], newest["paid_count"])
