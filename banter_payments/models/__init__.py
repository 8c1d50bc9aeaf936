"""The schema: every module that defines tables, core and plugins alike.

Alembic's env imports ``load_all_models()`` so that one history covers all of them, and
the test that compares models with migrations sees every table.
"""

from __future__ import annotations

import importlib

from .meta import Base, metadata

MODEL_MODULES = (
    "banter_payments.orders.models",
    "banter_payments.idempotency.models",
    "banter_payments.refunds.models",
    "banter_payments.sandbox.models",
    "banter_payments.ledger.models",
    "banter_payments.wallet.models",
    "banter_gifting.models",
    "banter_payments.webhooks.models",
    "banter_payments.reconcile.models",
    "banter_payments.metrics.models",
    "banter_payments.alerts.models",
)


def load_all_models():
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return metadata


__all__ = ["Base", "metadata", "load_all_models", "MODEL_MODULES"]
