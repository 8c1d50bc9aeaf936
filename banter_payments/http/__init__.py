"""Request hardening: body size limit, security headers, CORS, redacted logs, path ids
checked at the edge, and one access-log line per request."""

from __future__ import annotations

from pyramid.tweens import INGRESS

from . import accesslog
from .bodylimit import make_activate_hook
from .redaction import install_log_redaction, register_secrets
from .tweens import TWEEN

IDEMPOTENCY_TWEEN = "banter_payments.idempotency.tweens.claim_tween_factory"


def includeme(config) -> None:
    settings = config.registry.settings
    register_secrets([settings["razorpay.key_secret"], settings["jwt.secret"],
                      *settings["razorpay.webhook_secrets"]])
    install_log_redaction()

    # pyramid_retry reads its activate hook when its (deferred) registration runs, so
    # chaining it here, before the commit, puts the body check ahead of its body copy.
    previous = config.maybe_dotted(settings.get("retry.activate_hook"))
    if not getattr(previous, "banter_body_limit", False):
        settings["retry.activate_hook"] = make_activate_hook(previous)

    config.include(".pathids")
    config.add_tween(TWEEN, under=INGRESS,
                     over=(IDEMPOTENCY_TWEEN, "pyramid_tm.tm_tween_factory"))
    # Outermost of all: it times and logs whatever the layers below answered.
    config.add_tween(accesslog.TWEEN, under=INGRESS, over=TWEEN)
