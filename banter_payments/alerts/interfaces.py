"""What the alerts offer to views, jobs and scripts."""

from __future__ import annotations

from zope.interface import Interface


class IAlertService(Interface):
    def evaluate(now=None):
        """Evaluate every rule in one transaction of the source's (idle) transaction
        manager; announce each change of state once; return the changes."""

    def states():
        """Every alert's current state, by name."""

    def history(limit, before_id=None):
        """Alerts raised and resolved, newest first: ``limit + 1`` rows at most, for
        keyset pages (``before_id``: the last id of the previous page)."""
