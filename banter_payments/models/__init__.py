"""The schema: every module that defines tables, the core's and every installed plugin's.

The core lists its own model modules here. A plugin declares its modules as entry points
in the ``banter_payments.models`` group of its distribution (``setup.cfg``)::

    [options.entry_points]
    banter_payments.models =
        stickers = stickers.models

Entry points, not a directive, because the schema belongs to what is *installed*, not to
what one ini file enables: Alembic's env and the test that compares models with
migrations load every table without building an app, and a plugin switched off in
``development.ini`` still has its tables in the one migration history.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from sqlalchemy import MetaData

from .meta import Base, metadata

ENTRY_POINT_GROUP = "banter_payments.models"

CORE_MODEL_MODULES = (
    "banter_payments.orders.models",
    "banter_payments.payments.models",
    "banter_payments.idempotency.models",
    "banter_payments.refunds.models",
    "banter_payments.sandbox.models",
    "banter_payments.sandbox.subscription_models",
    "banter_payments.ledger.models",
    "banter_payments.wallet.models",
    "banter_payments.webhooks.models",
    "banter_payments.reconcile.models",
    "banter_payments.outbox.models",
    "banter_payments.metrics.models",
    "banter_payments.alerts.models",
)


def plugin_model_modules() -> list[str]:
    """The model modules installed plugins declare, sorted by module name."""
    return sorted({entry.value for entry in entry_points(group=ENTRY_POINT_GROUP)})


def load_all_models() -> MetaData:
    for module in (*CORE_MODEL_MODULES, *plugin_model_modules()):
        importlib.import_module(module)
    return metadata


__all__ = ["Base", "metadata", "load_all_models", "plugin_model_modules",
           "CORE_MODEL_MODULES", "ENTRY_POINT_GROUP"]
