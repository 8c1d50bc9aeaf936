"""The ledger service on a real database: postings, replays, balances, history."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from banter_payments.errors import InsufficientFunds, ValidationFailed
from banter_payments.ledger.checker import check_ledger
from banter_payments.ledger.cursors import decode_cursor, encode_cursor
from banter_payments.ledger.interfaces import ILedgerService, LedgerConflict
from banter_payments.ledger.models import Account, Entry, Posting
from banter_payments.ledger.services import MAX_AMOUNT, LedgerService


def count(dbsession, model) -> int:
    return dbsession.scalar(sa.select(sa.func.count()).select_from(model))


def account(dbsession, owner_kind, owner_id, asset) -> Account:
    return dbsession.scalars(sa.select(Account).where(
        Account.owner_kind == owner_kind, Account.owner_id == owner_id,
        Account.asset == asset)).one()


def test_implements_the_interface(ledger):
    assert ILedgerService.providedBy(ledger)


# Grants


def test_grant_credits_the_user_from_issuance(ledger, dbsession):
    posting = ledger.grant("alice", {"coins": 600}, "order:ord_1", "Purchase of Popular Pack",
                           metadata={"orderId": "ord_1"})
    dbsession.commit()

    assert posting.reference == "order:ord_1"
    assert posting.kind == "purchase"
    assert posting.replayed is False
    assert posting.metadata_ == {"orderId": "ord_1"}
    assert [(e.asset, e.amount, e.balance_after) for e in posting.entries] == [
        ("coins", -600, None), ("coins", 600, 600)]
    assert ledger.balance("alice", "coins") == 600
    issuance = account(dbsession, "system", "issuance", "coins")
    assert issuance.balance is None  # system accounts are not cached
    user = account(dbsession, "user", "alice", "coins")
    assert (user.balance, user.total_in, user.total_out) == (600, 600, 0)
    assert check_ledger(dbsession) == []


def test_grant_of_several_assets_is_one_posting(ledger, dbsession):
    posting = ledger.grant("alice", {"credits": 500, "coins": 10}, "order:ord_2", "Bundle")
    dbsession.commit()

    assert sorted((e.asset, e.amount) for e in posting.entries) == [
        ("coins", -10), ("coins", 10), ("credits", -500), ("credits", 500)]
    assert ledger.balances("alice", ["coins", "credits", "gems"]) == {
        "coins": 10, "credits": 500, "gems": 0}
    assert count(dbsession, Posting) == 1


def test_replayed_grant_returns_the_first_posting_and_changes_nothing(ledger, dbsession):
    first = ledger.grant("alice", {"coins": 600}, "order:ord_1", "Purchase of Popular Pack")
    dbsession.commit()
    first_id = first.id

    again = ledger.grant("alice", {"coins": 600}, "order:ord_1", "another description")
    dbsession.commit()

    assert again.id == first_id
    assert again.replayed is True
    assert again.description == "Purchase of Popular Pack"
    assert ledger.balance("alice", "coins") == 600
    assert count(dbsession, Posting) == 1
    assert count(dbsession, Entry) == 2


@pytest.mark.parametrize("change", [
    {"amounts": {"coins": 601}},
    {"amounts": {"coins": 600, "credits": 1}},
    {"owner_id": "bob"},
    {"kind": "bonus"},
])
def test_replay_with_a_different_request_is_a_conflict(ledger, dbsession, change):
    ledger.grant("alice", {"coins": 600}, "order:ord_1", "Purchase")
    dbsession.commit()
    arguments = {"owner_id": "alice", "amounts": {"coins": 600}, "reference": "order:ord_1",
                 "description": "Purchase", **change}

    with pytest.raises(LedgerConflict) as caught:
        ledger.grant(**arguments)

    assert caught.value.status == 409
    assert caught.value.code == "conflict"
    assert caught.value.details == {"reference": "order:ord_1"}
    dbsession.rollback()
    assert ledger.balance("alice", "coins") == 600
    assert ledger.balance("bob", "coins") == 0


def test_a_reference_is_unique_across_operations(ledger, dbsession):
    ledger.grant("alice", {"coins": 100}, "ref-1", "Grant")
    with pytest.raises(LedgerConflict):
        ledger.debit("alice", "coins", 100, "ref-1", "Spend")
    assert ledger.balance("alice", "coins") == 100


def test_the_database_refuses_a_duplicate_reference(dbsession):
    dbsession.add(Posting(reference="dup", kind="x", request={}))
    dbsession.commit()
    dbsession.add(Posting(reference="dup", kind="x", request={}))
    with pytest.raises(IntegrityError):
        dbsession.flush()


def test_the_database_refuses_a_negative_user_balance(ledger, dbsession):
    ledger.grant("alice", {"coins": 5}, "g", "Grant")
    dbsession.commit()
    with pytest.raises(IntegrityError):
        dbsession.execute(sa.text(
            "UPDATE ledger_accounts SET balance = -1 WHERE owner_id = 'alice'"))
    dbsession.rollback()
    assert ledger.balance("alice", "coins") == 5


@pytest.mark.parametrize("amount", [0, -1, 1.5, True, "10", None, MAX_AMOUNT + 1, 10**30])
def test_bad_quantities_are_refused_before_anything_is_written(ledger, dbsession, amount):
    with pytest.raises(ValueError):
        ledger.grant("alice", {"coins": amount}, "g", "Grant")
    with pytest.raises(ValueError):
        ledger.debit("alice", "coins", amount, "d", "Spend")
    with pytest.raises(ValueError):
        ledger.transfer("alice", "bob", "coins", amount, "t", "Transfer")
    dbsession.commit()
    assert count(dbsession, Posting) == 0
    assert count(dbsession, Account) == 0


@pytest.mark.parametrize("call", [
    lambda ledger: ledger.grant("alice", {}, "g", "Grant"),
    lambda ledger: ledger.grant("alice", {"gems": 1}, "g", "Grant"),
    lambda ledger: ledger.debit("", "coins", 1, "d", "Spend"),
    lambda ledger: ledger.debit("alice", "coins", 1, "", "Spend"),
    lambda ledger: ledger.debit("alice", "coins", 1, "r" * 201, "Spend"),
    lambda ledger: ledger.transfer("alice", "alice", "coins", 1, "t", "Self"),
])
def test_malformed_calls_are_refused(ledger, dbsession, call):
    with pytest.raises(ValueError):
        call(ledger)
    dbsession.commit()
    assert count(dbsession, Posting) == 0


# Debits


def test_debit_moves_value_to_the_sink(ledger, dbsession):
    ledger.grant("alice", {"credits": 100}, "g", "Grant")
    posting = ledger.debit("alice", "credits", 30, "host:msg-1", "AI reply",
                           metadata={"messageId": "msg-1"})
    dbsession.commit()

    assert posting.kind == "spend"
    assert [(e.amount, e.balance_after) for e in posting.entries] == [(-30, 70), (30, None)]
    assert ledger.balance("alice", "credits") == 70
    assert ledger.totals("alice", "credits") == {"balance": 70, "totalIn": 100,
                                                 "totalOut": 30}
    assert check_ledger(dbsession) == []


def test_debit_of_the_whole_balance_leaves_zero(ledger, dbsession):
    ledger.grant("alice", {"coins": 50}, "g", "Grant")
    ledger.debit("alice", "coins", 50, "d", "Spend")
    dbsession.commit()
    assert ledger.balance("alice", "coins") == 0


def test_debit_beyond_the_balance_is_refused_and_leaves_nothing(ledger, dbsession):
    ledger.grant("alice", {"coins": 50}, "g", "Grant")
    dbsession.commit()

    with pytest.raises(InsufficientFunds) as caught:
        ledger.debit("alice", "coins", 51, "d", "Spend")
    # The caller swallows the error and commits: the savepoint kept nothing of it.
    dbsession.commit()

    assert caught.value.status == 422
    assert caught.value.details == {"asset": "coins", "balance": 50, "required": 51}
    assert ledger.balance("alice", "coins") == 50
    assert ledger.posting("d") is None
    assert count(dbsession, Posting) == 1
    # The reference was not consumed: a later debit under it works.
    ledger.grant("alice", {"coins": 1}, "g2", "Grant")
    assert ledger.debit("alice", "coins", 51, "d", "Spend").replayed is False
    dbsession.commit()
    assert ledger.balance("alice", "coins") == 0


def test_debit_from_a_user_without_an_account_is_insufficient(ledger, dbsession):
    with pytest.raises(InsufficientFunds):
        ledger.debit("nobody", "coins", 1, "d", "Spend")
    dbsession.commit()
    assert ledger.balance("nobody", "coins") == 0


def test_insufficient_funds_without_an_account_reports_a_zero_balance(ledger, dbsession):
    with pytest.raises(InsufficientFunds) as caught:
        ledger.transfer("nobody", "bob", "coins", 5, "gift:1", "Gift")
    assert caught.value.details == {"asset": "coins", "balance": 0, "required": 5}


def test_replayed_debit_is_not_taken_twice(ledger, dbsession):
    ledger.grant("alice", {"coins": 100}, "g", "Grant")
    first = ledger.debit("alice", "coins", 40, "host:x", "Spend")
    second = ledger.debit("alice", "coins", 40, "host:x", "Spend")
    dbsession.commit()

    assert second.id == first.id and second.replayed is True
    assert ledger.balance("alice", "coins") == 60
    with pytest.raises(LedgerConflict):
        ledger.debit("alice", "coins", 41, "host:x", "Spend")


def test_a_replay_of_an_insufficient_debit_still_answers_the_first_result(ledger, dbsession):
    """The first result stands even when the balance could no longer cover it."""
    ledger.grant("alice", {"coins": 100}, "g", "Grant")
    ledger.debit("alice", "coins", 100, "host:all", "Spend")
    dbsession.commit()
    again = ledger.debit("alice", "coins", 100, "host:all", "Spend")
    assert again.replayed is True
    assert ledger.balance("alice", "coins") == 0


# Transfers


def test_transfer_moves_both_sides_in_one_posting(ledger, dbsession):
    ledger.grant("alice", {"coins": 100}, "g", "Grant")
    posting = ledger.transfer("alice", "bob", "coins", 60, "gift:1", "Gift alice to bob",
                              kind="gift", from_description="Gift to bob",
                              to_description="Gift from alice")
    dbsession.commit()

    assert [(e.amount, e.balance_after, e.shown_description) for e in posting.entries] == [
        (-60, 40, "Gift to bob"), (60, 60, "Gift from alice")]
    assert ledger.balances("alice", ["coins"]) == {"coins": 40}
    assert ledger.balances("bob", ["coins"]) == {"coins": 60}
    assert check_ledger(dbsession) == []


def test_a_posting_carries_the_balances_its_updates_left(ledger, dbsession):
    ledger.grant("alice", {"coins": 100, "credits": 3}, "g", "Grant")
    posting = ledger.transfer("alice", "bob", "coins", 60, "gift:1", "Gift")
    assert posting.balances_after == {("alice", "coins"): 40, ("bob", "coins"): 60}
    dbsession.commit()
    # They are what the entries say, without reading the entries to learn them.
    assert {(e.account.owner_id, e.asset): e.balance_after
            for e in posting.entries} == posting.balances_after
    # A replay changed nothing, so it carries none: its entries hold the first answer.
    replay = ledger.transfer("alice", "bob", "coins", 60, "gift:1", "Gift")
    assert replay.replayed is True and replay.balances_after is None


def test_transfer_beyond_the_balance_moves_neither_side(ledger, dbsession):
    ledger.grant("alice", {"coins": 10}, "g", "Grant")
    dbsession.commit()
    with pytest.raises(InsufficientFunds):
        ledger.transfer("alice", "bob", "coins", 11, "gift:1", "Gift")
    dbsession.commit()
    assert ledger.balance("alice", "coins") == 10
    assert ledger.balance("bob", "coins") == 0
    assert count(dbsession, Entry) == 2


# Clawbacks


def test_clawback_takes_what_is_there_and_reports_the_shortfall(ledger, dbsession):
    ledger.grant("alice", {"coins": 600, "credits": 100}, "order:1", "Purchase")
    ledger.debit("alice", "coins", 450, "host:spent", "Spend")
    posting, collected, shortfall = ledger.clawback(
        "alice", {"coins": 600, "credits": 100}, "refund:rfnd_1", "Refund of order 1")
    dbsession.commit()

    assert collected == {"coins": 150, "credits": 100}
    assert shortfall == {"coins": 450, "credits": 0}
    assert posting.kind == "clawback"
    assert ledger.balances("alice", ["coins", "credits"]) == {"coins": 0, "credits": 0}
    assert check_ledger(dbsession) == []


def test_clawback_of_an_empty_wallet_records_the_reference(ledger, dbsession):
    posting, collected, shortfall = ledger.clawback("alice", {"coins": 100}, "refund:r1",
                                                    "Refund")
    dbsession.commit()
    assert posting.entries == []
    assert (collected, shortfall) == ({"coins": 0}, {"coins": 100})

    # Coins bought after the refund are not taken by a replayed clawback.
    ledger.grant("alice", {"coins": 100}, "order:2", "Purchase")
    again, collected, shortfall = ledger.clawback("alice", {"coins": 100}, "refund:r1",
                                                  "Refund")
    dbsession.commit()
    assert again.replayed is True
    assert (collected, shortfall) == ({"coins": 0}, {"coins": 100})
    assert ledger.balance("alice", "coins") == 100
    assert check_ledger(dbsession) == []


def test_clawback_replay_with_other_amounts_is_a_conflict(ledger, dbsession):
    ledger.grant("alice", {"coins": 100}, "order:1", "Purchase")
    ledger.clawback("alice", {"coins": 50}, "refund:r1", "Refund")
    with pytest.raises(LedgerConflict):
        ledger.clawback("alice", {"coins": 60}, "refund:r1", "Refund")


# Locks, totals


def test_lock_accounts_creates_and_reads_them(ledger, dbsession):
    ledger.grant("bob", {"coins": 7}, "g", "Grant")
    assert ledger.lock_accounts(["bob", "alice"], "coins") == {"alice": 0, "bob": 7}
    dbsession.commit()
    assert count(dbsession, Account) == 3


def test_totals_of_an_unknown_owner_are_zero(ledger):
    assert ledger.totals("nobody", "credits") == {"balance": 0, "totalIn": 0, "totalOut": 0}


# History


def test_history_pages_newest_first_with_a_keyset_cursor(ledger, dbsession):
    for n in range(1, 46):
        ledger.grant("alice", {"coins": n}, f"g{n}", f"Grant {n}")
    ledger.grant("bob", {"coins": 1}, "bob-1", "Not alice's")
    dbsession.commit()

    seen, cursor, pages = [], None, 0
    while True:
        entries, cursor = ledger.history("alice", limit=20, cursor=cursor)
        pages += 1
        seen.extend(e.amount for e in entries)
        if cursor is None:
            break
    assert pages == 3
    assert seen == list(range(45, 0, -1))


def test_history_entries_carry_reference_description_and_balance(ledger, dbsession):
    ledger.grant("alice", {"coins": 100}, "order:ord_1", "Purchase of Popular Pack")
    ledger.transfer("alice", "bob", "coins", 30, "gift:g1", "Gift",
                    from_description="Gift to bob", to_description="Gift from alice")
    dbsession.commit()

    entries, cursor = ledger.history("alice")
    assert cursor is None
    assert [(e.posting.reference, e.shown_description, e.amount, e.balance_after)
            for e in entries] == [
        ("gift:g1", "Gift to bob", -30, 70),
        ("order:ord_1", "Purchase of Popular Pack", 100, 100),
    ]


def test_history_filters_by_asset_and_merges_assets(ledger, dbsession):
    for n in range(1, 6):
        ledger.grant("alice", {"coins": n}, f"c{n}", "Coins")
        ledger.grant("alice", {"credits": 10 * n}, f"k{n}", "Credits")
    dbsession.commit()

    credits, cursor = ledger.history("alice", asset="credits", limit=3)
    assert [e.amount for e in credits] == [50, 40, 30]
    credits, cursor = ledger.history("alice", asset="credits", limit=3, cursor=cursor)
    assert [e.amount for e in credits] == [20, 10] and cursor is None

    both, cursor = ledger.history("alice", limit=4)
    assert [e.amount for e in both] == [50, 5, 40, 4]
    both, cursor = ledger.history("alice", limit=4, cursor=cursor)
    assert [e.amount for e in both] == [30, 3, 20, 2]
    both, cursor = ledger.history("alice", limit=4, cursor=cursor)
    assert [e.amount for e in both] == [10, 1] and cursor is None


def test_history_is_stable_under_inserts(ledger, dbsession):
    for n in range(1, 11):
        ledger.grant("alice", {"coins": n}, f"g{n}", "Grant")
    dbsession.commit()
    first, cursor = ledger.history("alice", limit=5)
    for n in range(11, 14):
        ledger.grant("alice", {"coins": n}, f"g{n}", "Grant")
    dbsession.commit()
    second, cursor = ledger.history("alice", limit=5, cursor=cursor)
    assert [e.amount for e in first] == [10, 9, 8, 7, 6]
    assert [e.amount for e in second] == [5, 4, 3, 2, 1]
    assert cursor is None


def test_history_of_an_unknown_owner_is_empty(ledger):
    assert ledger.history("nobody") == ([], None)


@pytest.mark.parametrize("cursor", [
    "x", "!!!!", "ZTE=", "ZTF", "e1", "ZTA", "ZTAx", "ZS0x", "YTE", "ZTEyMw==",
    "ZTk5OTk5OTk5OTk5OTk5OTk5OTk5", "ZT" + "A" * 40, "ZTEK", "ZTE\n",
    "ZTkyMjMzNzIwMzY4NTQ3NzU4MDg",  # e9223372036854775808: past a 64-bit key
])
def test_a_malformed_cursor_is_a_validation_error(ledger, cursor):
    with pytest.raises(ValidationFailed) as caught:
        ledger.history("alice", cursor=cursor)
    assert caught.value.details == {"cursor": "is not a cursor this API issued"}


def test_cursors_round_trip():
    for entry_id in (1, 9, 10, 12345, 2**62):
        assert decode_cursor(encode_cursor(entry_id)) == entry_id


def test_service_outside_a_request_accepts_any_asset(dbsession):
    ledger = LedgerService(dbsession)
    ledger.grant("alice", {"gems": 3}, "g", "Grant")
    dbsession.commit()
    assert ledger.balance("alice", "gems") == 3


@pytest.mark.parametrize("write", [
    lambda ledger: ledger.grant("alice", {"coins": 5}, "g2", "Grant"),
    lambda ledger: ledger.debit("alice", "coins", 1, "d", "Spend"),
    lambda ledger: ledger.transfer("alice", "bob", "coins", 1, "t", "Gift"),
    lambda ledger: ledger.clawback("alice", {"credits": 1}, "r", "Refund"),
])
def test_postings_in_a_request_transaction_are_committed(engine, ledger, dbsession, write):
    """zope.sqlalchemy commits a request's dbsession only when it saw it change: every
    ledger write must be visible to it (a Core statement is not, and is rolled back)."""
    import transaction

    from banter_payments.db import get_tm_session, session_factories

    ledger.grant("alice", {"coins": 10}, "g1", "Grant")
    dbsession.commit()
    manager = transaction.TransactionManager(explicit=True)
    writer, _reader = session_factories(engine)
    with manager:
        request_session = get_tm_session(writer, manager)
        posting = write(LedgerService(request_session))
        reference = posting[0].reference if isinstance(posting, tuple) else posting.reference
    assert ledger.posting(reference) is not None
