"""Gateway calls counted and timed, by endpoint and outcome.

``RazorpayGateway._call`` is the one door every Razorpay call goes through; decorating it
(one line in the gateway) measures them all. The endpoint label is the gateway's own name
for the call ("create the order", "fetch the payment"); the outcome is ``ok`` or the
``reason`` of the ``GatewayError`` it raised (``timeout``, ``bad_request``, ...).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from ..timings import GATEWAY_CALLS, GATEWAY_LATENCY


def measured_gateway_call(call: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(call)
    def measured(self, what: str, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        outcome = "error"
        try:
            result = call(self, what, *args, **kwargs)
            outcome = "ok"
            return result
        except Exception as exc:
            details = getattr(exc, "details", None) or {}
            outcome = str(details.get("reason") or "error")
            raise
        finally:
            GATEWAY_CALLS.labels(what, outcome).inc()
            GATEWAY_LATENCY.labels(what).observe(time.perf_counter() - started)

    return measured
