"""How much of a purchase a refund takes back.

A refund of ``r`` out of a captured amount ``A`` takes back, of each granted asset ``g``,
its share of what has been refunded so far, rounded once and in the user's favour:

    taken_so_far(R) = floor(g * R / A)          R = all processed refunds, this one included
    this refund     = taken_so_far(R_after) - taken_so_far(R_before)

Rounding the running total (rather than each refund on its own) means the parts always add
up to the whole: refunding 44900 of 44900 in any number of pieces takes back exactly all
600 coins, never 599, and at every step the user has been charged no more than their exact
share. Only integers are involved.
"""

from __future__ import annotations

from collections.abc import Mapping


def taken_so_far(granted: int, refunded: int, captured: int) -> int:
    if captured <= 0:
        raise ValueError("captured must be positive")
    if not 0 <= refunded <= captured:
        raise ValueError("refunded must be between 0 and captured")
    return granted * refunded // captured


def clawback_for(grants: Mapping[str, int], *, before: int, amount: int,
                 captured: int) -> dict[str, int]:
    """{asset: quantity} a refund of ``amount`` takes back, after ``before`` was refunded."""
    return {
        asset: taken_so_far(granted, before + amount, captured)
        - taken_so_far(granted, before, captured)
        for asset, granted in sorted(grants.items())
    }
