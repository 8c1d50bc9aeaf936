"""The proportional clawback rule: rounded once, in the user's favour, adding up."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banter_payments.refunds.clawback import clawback_for, taken_so_far


def test_examples():
    assert clawback_for({"coins": 600}, before=0, amount=44900, captured=44900) == {
        "coins": 600}
    assert clawback_for({"coins": 600}, before=0, amount=10000, captured=44900) == {
        "coins": 133}
    assert clawback_for({"coins": 600}, before=10000, amount=34900, captured=44900) == {
        "coins": 467}
    assert clawback_for({"coins": 600, "credits": 7}, before=0, amount=22450,
                        captured=44900) == {"coins": 300, "credits": 3}


def test_bad_totals_are_refused():
    with pytest.raises(ValueError):
        taken_so_far(600, 44901, 44900)
    with pytest.raises(ValueError):
        taken_so_far(600, 1, 0)


@given(granted=st.integers(0, 10**9), captured=st.integers(1, 10**9),
       cuts=st.lists(st.integers(1, 10**9), min_size=1, max_size=12))
def test_pieces_add_up_to_the_whole_and_never_exceed_the_exact_share(granted, captured, cuts):
    """Split a full refund into pieces: the pieces take back exactly what was granted,
    and after every piece the total taken is at most the exact proportional share."""
    total = sum(cuts)
    amounts = [cut * captured // total for cut in cuts]
    amounts[-1] += captured - sum(amounts)
    refunded = taken = 0
    for amount in amounts:
        if amount == 0:
            continue
        piece = clawback_for({"coins": granted}, before=refunded, amount=amount,
                             captured=captured)["coins"]
        assert piece >= 0
        refunded += amount
        taken += piece
        assert taken * captured <= granted * refunded  # never more than the exact share
        assert (granted * refunded - taken * captured) < captured  # and less than 1 short
    assert refunded == captured
    assert taken == granted
