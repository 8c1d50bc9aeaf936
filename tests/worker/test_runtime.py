"""The worker runtime: jobs registered by directive, run in turn, never killed by one."""

from __future__ import annotations

import threading
import time

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError

from banter_payments.worker import runner
from banter_payments.worker.jobs import registered_jobs
from banter_payments.worker.runner import Worker


def app_with(settings, kit, configure):
    return kit.make_app(settings, None, configure)


def test_two_jobs_with_one_name_conflict_at_start_up(settings):
    def job(context):
        return 0

    with pytest.raises(ConfigurationConflictError):
        with Configurator(settings=dict(settings)) as config:
            config.include("banter_payments")
            config.add_worker_job("mine", job, interval=1)
            config.add_worker_job("mine", job, interval=2)
            config.commit()


def test_the_core_registers_its_jobs(registry):
    jobs = registered_jobs(registry)
    assert {"outbox.deliver", "outbox.cleanup", "reconcile"} <= set(jobs)
    assert jobs["outbox.deliver"].drain
    assert jobs["reconcile"].interval == 300


class TestReconcileDisabled:
    @pytest.fixture
    def settings(self, settings):
        settings["worker.reconcile_interval_seconds"] = "0"
        return settings

    def test_an_interval_of_zero_leaves_reconcile_to_cron(self, registry):
        assert "reconcile" not in registered_jobs(registry)


def test_the_reconcile_job_runs_reconcile(settings, kit, dbsession, gateway):
    import datetime as dt

    from banter_payments.clock import utcnow

    app = kit.make_app(settings, gateway)
    old = utcnow() - dt.timedelta(days=2)
    order = kit.make_order(dbsession, created_at=old)
    worker = Worker(app.registry, jobs=["reconcile"])
    assert worker.run_once() == {"reconcile": 1}
    assert kit.reload(dbsession, order).status == "expired"


def test_a_drain_job_runs_until_it_finds_nothing(settings, kit):
    left = [3]

    def drain(context):
        if left[0]:
            left[0] -= 1
            return 1
        return 0

    app = app_with(settings, kit, lambda c: c.add_worker_job("drain", drain, interval=60,
                                                             drain=True))
    assert Worker(app.registry, jobs=["drain"]).run_once() == {"drain": 3}


def test_a_failing_job_does_not_stop_the_others(settings, kit):
    ran = threading.Event()

    def broken(context):
        raise RuntimeError("boom")

    def healthy(context):
        ran.set()
        return 0

    def configure(config):
        config.add_worker_job("a.broken", broken, interval=0.05)
        config.add_worker_job("b.healthy", healthy, interval=0.05)

    app = app_with(settings, kit, configure)
    worker = Worker(app.registry, jobs=["a.broken", "b.healthy"])
    worker.start_thread()
    try:
        assert ran.wait(5)
        ran.clear()
        assert ran.wait(5)  # still looping after the broken job raised twice
    finally:
        worker.stop_thread()
    assert not worker._thread.is_alive()


def test_unknown_job_names_are_refused(registry):
    with pytest.raises(ValueError, match="no such worker job: nope"):
        Worker(registry, jobs=["nope"])


def test_the_command_refuses_unknown_jobs(settings, kit, tmp_path, capsys):
    from banter_payments.scripts.worker import main

    ini = kit.write_ini(tmp_path / "app.ini", settings)
    assert main([ini, "run", "--jobs", "nope"]) == 2
    assert "no such worker job" in capsys.readouterr().err


class TestInProcess:
    @pytest.fixture
    def settings(self, settings):
        settings["worker.in_process"] = "true"
        settings["worker.poll_interval_seconds"] = "0.05"
        return settings

    def test_the_app_runs_its_jobs_in_a_thread(self, settings, kit, monkeypatch):
        monkeypatch.setattr(runner, "IN_WORKER_PROCESS", False)
        seen = threading.Event()

        def job(context):
            seen.set()
            return 0

        app_with(settings, kit, lambda c: c.add_worker_job("seen", job, interval=0.05))
        try:
            assert seen.wait(5)
            names = [t.name for t in threading.enumerate()]
            assert "banter-worker" in names
        finally:
            runner.stop_in_process()

    def test_a_worker_process_does_not_start_a_thread_of_its_own(self, settings, kit,
                                                                  monkeypatch):
        monkeypatch.setattr(runner, "IN_WORKER_PROCESS", True)
        seen = threading.Event()
        app_with(settings, kit, lambda c: c.add_worker_job("seen", lambda ctx: seen.set(),
                                                           interval=0.05))
        time.sleep(0.3)
        assert not seen.is_set()
        runner.stop_in_process()


def test_without_the_setting_no_thread_is_started(settings, kit, monkeypatch):
    monkeypatch.setattr(runner, "IN_WORKER_PROCESS", False)
    seen = threading.Event()
    app_with(settings, kit, lambda c: c.add_worker_job("seen", lambda ctx: seen.set(),
                                                       interval=0.05))
    time.sleep(0.3)
    assert not seen.is_set()
