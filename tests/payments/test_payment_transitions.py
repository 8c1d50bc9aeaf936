"""The two state machines are data: what they allow and refuse."""

from __future__ import annotations

import pytest

from banter_payments.payments.transitions import (
    ORDER_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    can_move,
    sources,
)


@pytest.mark.parametrize(("src", "dst"), [
    ("created", "attempted"), ("created", "verified"), ("created", "paid"),
    ("attempted", "verified"), ("attempted", "paid"), ("verified", "paid"),
    ("created", "expired"), ("attempted", "expired"), ("verified", "expired"),
    ("expired", "paid"),
])
def test_orders_move_forward(src, dst):
    assert can_move("order", src, dst) is True


@pytest.mark.parametrize("dst", ["created", "attempted", "verified", "expired", "paid"])
def test_nothing_leaves_paid(dst):
    assert can_move("order", "paid", dst) is False


@pytest.mark.parametrize(("src", "dst"), [
    ("attempted", "created"), ("verified", "attempted"), ("expired", "attempted"),
    ("expired", "verified"), ("expired", "created"),
])
def test_orders_never_move_back(src, dst):
    assert can_move("order", src, dst) is False


@pytest.mark.parametrize(("src", "dst"), [
    ("created", "authorized"), ("created", "captured"), ("created", "failed"),
    ("authorized", "captured"), ("authorized", "failed"), ("captured", "refunded"),
    ("failed", "authorized"), ("failed", "captured"), ("authorized", "refunded"),
])
def test_payments_move_forward_including_late_authorization(src, dst):
    assert can_move("payment", src, dst) is True


@pytest.mark.parametrize(("src", "dst"), [
    ("captured", "failed"), ("captured", "authorized"), ("refunded", "captured"),
    ("refunded", "failed"), ("failed", "refunded"), ("authorized", "created"),
])
def test_a_late_report_never_undoes_a_capture_or_refund(src, dst):
    assert can_move("payment", src, dst) is False


def test_staying_put_is_not_a_move():
    for table, kind in ((ORDER_TRANSITIONS, "order"), (PAYMENT_TRANSITIONS, "payment")):
        for status in table:
            assert can_move(kind, status, status) is False


def test_sources_are_the_where_clause_of_each_move():
    assert sources("order", "paid") == ("attempted", "created", "expired", "verified")
    assert sources("order", "attempted") == ("created",)
    assert sources("order", "verified") == ("attempted", "created")
    assert sources("order", "expired") == ("attempted", "created", "verified")
    assert sources("payment", "captured") == ("authorized", "created", "failed")
    assert sources("payment", "failed") == ("authorized", "created")
    assert sources("payment", "authorized") == ("created", "failed")


def test_the_tables_cannot_be_edited_at_run_time():
    with pytest.raises(TypeError):
        ORDER_TRANSITIONS["paid"] = frozenset({"created"})  # type: ignore[index]


def test_unknown_machines_and_statuses_are_errors():
    with pytest.raises(ValueError, match="unknown state machine"):
        can_move("refund", "pending", "processed")
    with pytest.raises(ValueError, match="unknown order status"):
        sources("order", "shipped")
    assert can_move("order", "shipped", "paid") is False
