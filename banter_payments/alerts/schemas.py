"""What ``GET /admin/alerts`` accepts."""

from __future__ import annotations

from ..schemas import PageQuery


class AlertListQuery(PageQuery):
    """``?limit=&cursor=``: the history pages newest first."""
