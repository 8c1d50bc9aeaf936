"""banter-cleanup-idempotency removes keys past their time, and only those."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from banter_payments.clock import utcnow
from banter_payments.idempotency.models import IdempotencyKey
from banter_payments.scripts.cleanup_idempotency import cleanup, main


def add_key(dbsession, key, *, expires_in, status="completed", lease_in=None):
    now = utcnow()
    dbsession.add(IdempotencyKey(
        scope="user:alice", key=key, fingerprint="f" * 64, method="POST", path="/x",
        status=status, claim_token="t" if status == "in_flight" else None,
        locked_until=now + dt.timedelta(seconds=lease_in) if lease_in is not None else None,
        response_status=201 if status == "completed" else None,
        response_headers={}, response_body=b"{}", created_at=now - dt.timedelta(days=2),
        expires_at=now + dt.timedelta(seconds=expires_in),
    ))
    dbsession.commit()


def remaining(dbsession) -> list[str]:
    keys = list(dbsession.scalars(sa.select(IdempotencyKey.key).order_by(IdempotencyKey.key)))
    dbsession.rollback()
    return keys


def arrange(dbsession):
    add_key(dbsession, "a-expired", expires_in=-60)
    add_key(dbsession, "b-expired", expires_in=-1)
    add_key(dbsession, "c-fresh", expires_in=3600)
    add_key(dbsession, "d-expired-but-running", expires_in=-1, status="in_flight", lease_in=60)
    add_key(dbsession, "e-expired-crashed", expires_in=-1, status="in_flight", lease_in=-60)


def test_cleanup_removes_expired_keys_in_batches(registry, dbsession):
    arrange(dbsession)
    assert cleanup(registry, batch_size=1) == 3
    assert remaining(dbsession) == ["c-fresh", "d-expired-but-running"]
    assert cleanup(registry) == 0


def test_the_console_script(settings, dbsession, tmp_path, capsys):
    arrange(dbsession)
    ini = tmp_path / "cleanup.ini"
    lines = ["[app:main]", "use = egg:banter-payments"]
    lines += [f"{name} = {value}" for name, value in settings.items()]
    ini.write_text("\n".join(lines) + "\n")
    assert main([str(ini)]) == 0
    assert capsys.readouterr().out.strip() == "removed 3 expired idempotency keys"
    assert remaining(dbsession) == ["c-fresh", "d-expired-but-running"]
