"""The demo: a shop and an operator's console in plain HTML, CSS and JavaScript.

Served at ``/demo/`` in sandbox mode only. It is a client like any other: everything it
shows comes from the public REST API, with a token from the sandbox's token route and
payments through the sandbox's ``checkout.js``, so it doubles as the reference client.
Nothing is built and nothing is fetched from elsewhere at run time.
"""

from __future__ import annotations


def includeme(config) -> None:
    from . import views

    config.include(views.includeme)
