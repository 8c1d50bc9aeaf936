"""The payment state machine (``service``), its tables (``transitions``) and the core's
webhook handlers that feed it (``handlers``)."""


def includeme(config):
    # The add_webhook_handler directive, which the core's own handlers use like a plugin.
    config.include("banter_payments.webhooks.registry")
    config.include(".handlers")
