"""The settings of banter_gifting, declared with the core's ``declare_settings``."""

from __future__ import annotations

from banter_payments.settings import Setting, choice, integer

from .policy import MODES

SETTINGS = {
    "gifting.policy": Setting(
        "friends", choice(*MODES),
        doc="friends (needs config.set_friendship_check) or allow_all (development)"),
    "gifting.min_coins": Setting(1, integer(1), doc="the smallest gift, in coins"),
    "gifting.max_coins": Setting(10_000, integer(1, 10**12), doc="the largest gift, in coins"),
    "gifting.daily_cap_coins": Setting(
        50_000, integer(1), doc="what one sender may give per UTC day, in coins"),
}
