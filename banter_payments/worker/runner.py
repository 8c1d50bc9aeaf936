"""The loop every worker runs, in its own process or as a thread of the app.

One thread runs the registered jobs in turn: each when its interval has passed, a drain
job again at once while it finds work. A job that raises is logged and tried again at its
next interval; the loop itself never dies of a job's error. ``stop`` is checked between
jobs and, by the jobs, between items: what is in hand is finished (or its lease
released) and the loop returns.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time

from .jobs import Job, JobContext, registered_jobs
from .wakeup import Wakeup, listen_in_thread, subscribe

log = logging.getLogger(__name__)

# Set by ``banter-worker`` before it loads the app, so that the app it loads does not
# start an in-process worker thread of its own.
IN_WORKER_PROCESS = False


def worker_name(kind: str = "worker") -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{kind}:{secrets.token_hex(3)}"


class Worker:
    def __init__(self, registry, *, jobs: list[str] | None = None, name: str | None = None,
                 stop: threading.Event | None = None) -> None:
        available = registered_jobs(registry)
        unknown = sorted(set(jobs or ()) - set(available))
        if unknown:
            raise ValueError(f"no such worker job: {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(available))})")
        self.jobs: list[Job] = [job for name_, job in sorted(available.items())
                                if jobs is None or name_ in jobs]
        self.stop = stop or threading.Event()
        self.context = JobContext(registry=registry, worker=name or worker_name(),
                                  stop=self.stop)
        self.wakeup = Wakeup()
        subscribe(registry, self.wakeup)
        # Set while the loop waits with nothing due, and once LISTEN is in place (for
        # tests and tools that must know a wake-up, not a pass, will run the jobs).
        self.idle = threading.Event()
        self.listening = threading.Event()
        self._thread: threading.Thread | None = None

    def request_stop(self) -> None:
        """Stop after what is in hand, now rather than at the end of a wait."""
        self.stop.set()
        self.wakeup.ring("stop")

    def run_job(self, job: Job) -> int:
        try:
            return int(job.run(self.context) or 0)
        except Exception:
            log.exception("worker job %s failed; it runs again in %gs", job.name, job.interval)
            return 0

    def run_once(self) -> dict[str, int]:
        """Run every job once (a drain job until it finds nothing); work done by job."""
        done: dict[str, int] = {}
        for job in self.jobs:
            total = 0
            while not self.stop.is_set():
                count = self.run_job(job)
                total += count
                if not (job.drain and count):
                    break
            done[job.name] = total
        return done

    def run(self) -> None:
        """Run the jobs until ``stop`` is set."""
        log.info("worker %s running jobs: %s", self.context.worker,
                 ", ".join(job.name for job in self.jobs) or "none")
        due = {job.name: 0.0 for job in self.jobs}
        self._listen()
        while not self.stop.is_set():
            for job in self.jobs:
                if self.stop.is_set() or time.monotonic() < due[job.name]:
                    continue
                count = self.run_job(job)
                due[job.name] = 0.0 if job.drain and count else time.monotonic() + job.interval
            if self.jobs:
                wait = max(0.0, min(due.values()) - time.monotonic())
            else:
                wait = 60.0
            if wait and not self.stop.is_set():
                # Woken early by a ring (or by stop); never later than the next due job.
                self.idle.set()
                rung = self.wakeup.wait(min(wait, 60.0))
                self.idle.clear()
                for job in self.jobs:
                    if job.wake_on is not None and job.wake_on in rung:
                        due[job.name] = 0.0
        log.info("worker %s stopped", self.context.worker)

    def _listen(self) -> None:
        """On PostgreSQL, LISTEN for the channels the jobs wake on (other processes'
        NOTIFY), in a thread that ends with the worker."""
        channels = {job.wake_on for job in self.jobs if job.wake_on}
        engine = self.context.registry.get("banter_payments.engine")
        if channels and engine is not None:
            listen_in_thread(engine, channels, self.wakeup, self.stop, self.listening)

    # As a thread of the app (worker.in_process = true)

    def start_thread(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name="banter-worker", daemon=True)
        self._thread.start()
        return self._thread

    def stop_thread(self, timeout: float = 10.0) -> None:
        self.request_stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)


_in_process: list[Worker] = []
_in_process_lock = threading.Lock()


def start_in_process(registry) -> Worker | None:
    """Start the app's worker thread, unless this process is a ``banter-worker``."""
    if IN_WORKER_PROCESS:
        return None
    worker = Worker(registry, name=worker_name("thread"))
    with _in_process_lock:
        _in_process.append(worker)
    worker.start_thread()
    return worker


def stop_in_process(timeout: float = 10.0, registry=None) -> None:
    """Stop the app's worker threads (only those running on ``registry``, when given)."""
    with _in_process_lock:
        workers = [w for w in _in_process
                   if registry is None or w.context.registry is registry]
        for worker in workers:
            _in_process.remove(worker)
    for worker in workers:
        worker.stop_thread(timeout)
