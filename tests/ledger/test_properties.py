"""Property tests: random sequences of grants, debits, transfers, clawbacks and replays.

After every step, on the real database: each balance equals a plain-Python model of the
ledger, none is negative, every replay was a no-op that returned the first posting, and
the invariant checker finds nothing.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banter_payments.errors import InsufficientFunds
from banter_payments.ledger.checker import check_ledger
from banter_payments.ledger.interfaces import LedgerConflict
from banter_payments.ledger.services import LedgerService

OWNERS = ("alice", "bob", "carol")
ASSETS = ("coins", "credits")

owners = st.sampled_from(OWNERS)
assets = st.sampled_from(ASSETS)
amounts = st.integers(min_value=1, max_value=300)

operations = st.one_of(
    st.tuples(st.just("grant"), owners, assets, amounts),
    st.tuples(st.just("debit"), owners, assets, amounts),
    st.tuples(st.just("transfer"), owners, owners, assets, amounts),
    st.tuples(st.just("clawback"), owners, assets, amounts),
    st.tuples(st.just("replay"), st.integers(min_value=0, max_value=10_000)),
    st.tuples(st.just("conflict"), st.integers(min_value=0, max_value=10_000),
              st.integers(min_value=1, max_value=5)),
)


def empty_ledger(dbsession) -> None:
    for table in ("ledger_entries", "ledger_postings", "ledger_accounts"):
        dbsession.execute(sa.text(f"DELETE FROM {table}"))
    dbsession.commit()


def call(ledger: LedgerService, op: tuple, reference: str, extra: int = 0):
    kind = op[0]
    if kind == "grant":
        return ledger.grant(op[1], {op[2]: op[3] + extra}, reference, "Grant")
    if kind == "debit":
        return ledger.debit(op[1], op[2], op[3] + extra, reference, "Spend")
    if kind == "transfer":
        return ledger.transfer(op[1], op[2], op[3], op[4] + extra, reference, "Transfer")
    return ledger.clawback(op[1], {op[2]: op[3] + extra}, reference, "Clawback")


def expected_effect(model: dict, op: tuple) -> dict | None:
    """The balance changes ``op`` makes on ``model``; None when it must be refused."""
    kind = op[0]
    if kind == "grant":
        return {(op[1], op[2]): op[3]}
    if kind == "debit":
        return {(op[1], op[2]): -op[3]} if model[(op[1], op[2])] >= op[3] else None
    if kind == "transfer":
        source, target, asset, amount = op[1:]
        if model[(source, asset)] < amount:
            return None
        return {(source, asset): -amount, (target, asset): amount}
    taken = min(model[(op[1], op[2])], op[3])
    return {(op[1], op[2]): -taken}


@pytest.mark.slow
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(steps=st.lists(operations, min_size=1, max_size=25))
def test_random_sequences_keep_every_invariant(dbsession, steps):
    empty_ledger(dbsession)
    ledger = LedgerService(dbsession, assets=ASSETS)
    model = {(owner, asset): 0 for owner in OWNERS for asset in ASSETS}
    done: list[tuple[tuple, str, int]] = []  # (op, reference, posting id) that posted

    for number, op in enumerate(steps):
        reference = f"op-{number}"
        kind = op[0]
        if kind in ("replay", "conflict"):
            if not done:
                continue
            original, reference, posting_id = done[op[1] % len(done)]
            before = dict(model)
            if kind == "replay":
                result = call(ledger, original, reference)
                posting = result[0] if isinstance(result, tuple) else result
                assert posting.replayed is True
                assert posting.id == posting_id
            else:
                with pytest.raises(LedgerConflict):
                    call(ledger, original, reference, extra=op[2])
            dbsession.commit()
            assert model == before
        elif kind == "transfer" and op[1] == op[2]:
            with pytest.raises(ValueError):
                call(ledger, op, reference)
        else:
            effect = expected_effect(model, op)
            if effect is None:
                with pytest.raises(InsufficientFunds):
                    call(ledger, op, reference)
            else:
                result = call(ledger, op, reference)
                posting = result[0] if isinstance(result, tuple) else result
                assert posting.replayed is False
                done.append((op, reference, posting.id))
                for key, delta in effect.items():
                    model[key] += delta
            dbsession.commit()

        for owner in OWNERS:
            assert ledger.balances(owner, ASSETS) == {
                asset: model[(owner, asset)] for asset in ASSETS}
        assert all(balance >= 0 for balance in model.values())
        assert check_ledger(dbsession) == []
