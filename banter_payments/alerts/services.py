"""Evaluating the alerts, and reading their state and history.

An evaluation runs the rules (``rules``), then for each alert whose verdict differs from
its stored state it moves the ``alert_states`` row with one conditional UPDATE
(``WHERE state = <the other state>``). Only the evaluation whose UPDATE changed the row
goes on: it records the ``AlertEvent`` (unique per alert, episode and kind) and emits
``AlertRaised`` / ``AlertResolved`` in the same transaction. So however many workers and
cron runs evaluate at once, a breach is announced once and its recovery once: on
PostgreSQL a second evaluator's UPDATE waits for the first one's commit and then finds
the state already moved; on SQLite writers are serialized. The outbox turns the event
into messages in that transaction, so an announcement exists if and only if the state
change committed.

The service is built from a ``Job`` to evaluate (the worker's ``alerts.evaluate`` job and
``banter-alerts``), and from a request to read (``GET /admin/alerts``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from zope.interface import implementer

from ..clock import isoformat, utcnow
from ..db import insert_ignoring_conflict, update_returning, write
from ..events import EventSink
from ..ids import new_id
from .events import AlertRaised, AlertResolved
from .interfaces import IAlertService
from .models import AlertEvent, AlertState
from .rules import Measure, measure_all

EVALUATE_ATTEMPTS = 5

_states = AlertState.__table__
_events = AlertEvent.__table__


@implementer(IAlertService)
class AlertService:
    def __init__(self, source: Any) -> None:
        self.source = source
        self.registry = source.registry

    @property
    def session(self):
        return self.source.dbsession

    def evaluate(self, now: dt.datetime | None = None) -> list[dict[str, Any]]:
        now = now or utcnow()
        # Evaluators racing on one breach may deadlock on MariaDB (InnoDB's gap and
        # duplicate-key locks); the loser's transaction is tried again and then finds
        # the state already moved.
        for attempt in self.source.tm.attempts(EVALUATE_ATTEMPTS):
            with attempt:
                changes = []
                session = self.session
                sink = EventSink(self.source)
                for measure in measure_all(session, self.registry, now):
                    change = self._apply(session, sink, measure, now)
                    if change is not None:
                        changes.append(change)
        return changes

    def _apply(self, session, sink: EventSink, measure: Measure,
               now: dt.datetime) -> dict[str, Any] | None:
        write(session, insert_ignoring_conflict(session, _states, ["name"])
              .values(name=measure.name, state="ok", changed_at=now, evaluated_at=now,
                      episode=0))
        value = measure.value[:64]
        write(session, sa.update(_states).where(_states.c.name == measure.name)
              .values(value=value, evaluated_at=now))
        if measure.breached is None:
            return None
        to_state = "firing" if measure.breached else "ok"
        from_state = "ok" if measure.breached else "firing"
        moved = sa.update(_states).where(_states.c.name == measure.name,
                                         _states.c.state == from_state)
        if measure.breached:
            moved = moved.values(state=to_state, changed_at=now,
                                 episode=_states.c.episode + 1)
        else:
            moved = moved.values(state=to_state, changed_at=now)
        row = update_returning(session, moved, _states.c.episode)
        if row is None:  # already in that state, or another evaluator moved it first
            return None
        episode = row.episode
        kind = "raised" if measure.breached else "resolved"
        write(session, _events.insert().values(
            id=new_id("alt"), name=measure.name, episode=episode, kind=kind, value=value,
            threshold=measure.threshold[:64], message=measure.message[:500],
            occurred_at=now))
        event_type = AlertRaised if measure.breached else AlertResolved
        sink.emit(event_type(self.source, measure.name, measure.value, measure.threshold,
                             measure.message, episode, now))
        return {"alert": measure.name, "state": to_state, "episode": episode,
                "value": measure.value, "threshold": measure.threshold,
                "message": measure.message}

    def states(self) -> list[dict[str, Any]]:
        rows = self.session.scalars(sa.select(AlertState).order_by(AlertState.name))
        return [state_to_json(row) for row in rows]

    def history(self, limit: int, before_id: str | None = None) -> list[AlertEvent]:
        statement = sa.select(AlertEvent).order_by(AlertEvent.id.desc()).limit(limit + 1)
        if before_id:
            statement = statement.where(AlertEvent.id < before_id)
        return list(self.session.scalars(statement))


def state_to_json(state: AlertState) -> dict[str, Any]:
    return {"name": state.name, "state": state.state, "value": state.value,
            "episode": state.episode, "changedAt": isoformat(state.changed_at),
            "evaluatedAt": isoformat(state.evaluated_at)}


def event_to_json(event: AlertEvent) -> dict[str, Any]:
    return {"id": event.id, "name": event.name, "kind": event.kind,
            "episode": event.episode, "value": event.value, "threshold": event.threshold,
            "message": event.message, "occurredAt": isoformat(event.occurred_at)}


def alert_service_factory(context: Any, source: Any) -> AlertService:
    return AlertService(source)
