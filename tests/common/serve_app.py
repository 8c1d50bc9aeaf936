"""``python -m tests.common.serve_app '<settings json>' [--threads N]
[--slow-create-order SECONDS]``: the app in a process of its own.

Builds the app from the given settings, serves it with waitress on a free loopback port,
and prints ``port <n>`` once it is listening. ``--slow-create-order`` makes every
Razorpay order creation take that long (a request that stays "in flight"). Stopped by
its parent (SIGTERM). Started through ``Servers.serve_process`` (the ``serve_process``
fixture).
"""

from __future__ import annotations

import argparse
import json
import time

import waitress.server


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("settings")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--slow-create-order", type=float, default=0.0)
    args = parser.parse_args(argv)
    if args.slow_create_order:
        from banter_payments.gateway.razorpay import RazorpayGateway

        original = RazorpayGateway.create_order

        def slow_create_order(self, *a, **kw):
            time.sleep(args.slow_create_order)
            return original(self, *a, **kw)

        RazorpayGateway.create_order = slow_create_order

    from banter_payments import main

    server = waitress.server.create_server(main({}, **json.loads(args.settings)),
                                           host="127.0.0.1", port=0, threads=args.threads,
                                           connection_limit=200)
    print(f"port {server.effective_port}", flush=True)
    server.run()


if __name__ == "__main__":
    run()
