"""The transactional outbox: every fact delivered after commit, reliably.

A message is written in the transaction of its fact (``subscribers``), claimed and
delivered by the worker runtime's ``outbox.deliver`` job (``delivery``) through a channel
(``config.add_outbox_channel``; the core ships ``http``, signed the Standard Webhooks
way), retried with backoff, and left ``dead`` for an operator after
``outbox.max_attempts``. docs/outbox.md has the guarantees and the settings.
"""

import os

from .channels import HttpChannel
from .directives import add_outbox_channel, add_outbox_endpoint
from .endpoints import parse_endpoints
from .interfaces import IOutbox
from .jobs import clean_outbox, deliver_outbox
from .schemas import MessageListQuery, RetryBody
from .services import Outbox

ADMIN_ERRORS = {401: "unauthenticated", 403: "forbidden"}
CLEANUP_INTERVAL_SECONDS = 3600


def includeme(config):
    config.include("banter_payments.worker")
    settings = config.registry.settings
    config.registry.registerUtility(
        Outbox(parse_endpoints(settings["outbox.endpoints"], os.environ)), IOutbox)
    config.add_directive("add_outbox_channel", add_outbox_channel)
    config.add_directive("add_outbox_endpoint", add_outbox_endpoint)
    config.add_outbox_channel("http", HttpChannel(settings["outbox.timeout_seconds"]))
    config.include(".subscribers")
    config.add_worker_job("outbox.deliver", deliver_outbox, drain=True,
                          interval=settings["worker.poll_interval_seconds"])
    config.add_worker_job("outbox.cleanup", clean_outbox, interval=CLEANUP_INTERVAL_SECONDS)

    config.add_route("payments.outbox.list", "/admin/outbox")
    config.add_route("payments.outbox.retry", "/admin/outbox/{message_id}/retry")
    config.add_api_operation(
        "payments.outbox.list", "GET", tag="admin", permission="admin",
        summary="Outbox messages, newest first (?status=dead|pending|delivered)",
        query=MessageListQuery,
        responses={200: "{items: [OutboxMessage], nextCursor}", 400: "validation_failed",
                   **ADMIN_ERRORS},
    )
    config.add_api_operation(
        "payments.outbox.retry", "POST", tag="admin", permission="admin", body=RetryBody,
        summary="Try a dead (or pending) message again now, with a fresh count of attempts",
        responses={200: "the OutboxMessage, pending", 404: "not_found",
                   409: "conflict: the message was delivered already", **ADMIN_ERRORS},
    )
    config.scan(".views")
