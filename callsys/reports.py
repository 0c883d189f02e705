"""Where the call reports' figures come from (IN10, OUT8), without a window: this computer's call log
(``LocalSource``) and, when it is the CRM, Dynamics 365's activities of every agent
(``DynamicsSource``). ``report_sources(session)`` lists the ones a session has; the reports
window names them by their ``key``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from callsys.crm.dynamics.reports import CallReport
    from callsys.session import CallSession

__all__ = ["DynamicsSource", "InstantReport", "LocalSource", "ReportSource", "report_sources"]

log = logging.getLogger(__name__)


class ReportSource(Protocol):
    """Where a report's figures come from: ``key`` names it (``local``, ``dynamics``)."""

    key: str

    async def report(self, start: datetime, end: datetime) -> CallReport: ...


@runtime_checkable
class InstantReport(Protocol):
    """A source that counts without waiting (the local call log: one SQLite query)."""

    def report_now(self, start: datetime, end: datetime) -> CallReport: ...


class LocalSource:
    """This computer's call log (``calls`` table of the local database)."""

    key = "local"

    def __init__(self, db: Any) -> None:
        self.db = db

    def report_now(self, start: datetime, end: datetime) -> CallReport:
        from callsys.crm.dynamics.reports import local_report

        return local_report(self.db, start, end)

    async def report(self, start: datetime, end: datetime) -> CallReport:
        return self.report_now(start, end)


class DynamicsSource:
    """Every call logged in Dynamics 365 (FetchXML aggregates); lines from the local log."""

    key = "dynamics"

    def __init__(self, crm: Any, db: Any = None, unanswered_status: tuple[int, int] = (2, 3)) -> None:
        self.crm = crm
        self.db = db
        self.unanswered_status = unanswered_status

    async def report(self, start: datetime, end: datetime) -> CallReport:
        from callsys.crm.dynamics.reports import dynamics_report, local_report

        report = await dynamics_report(self.crm, start, end, unanswered_status=self.unanswered_status)
        if self.db is not None:
            report.by_line = local_report(self.db, start, end).by_line
        return report


def report_sources(session: CallSession) -> list[ReportSource]:
    """The sources a session has: the local log, and Dynamics 365 when it is the CRM."""
    sources: list[ReportSource] = []
    db = session.db
    if db is not None:
        sources.append(LocalSource(db))
    crm = session.crm
    if crm is not None and crm.name == "dynamics":
        unanswered = (2, 3)
        try:
            from callsys.crm.dynamics.setup import unanswered_status

            unanswered = unanswered_status(session.settings)
        except Exception:
            log.debug("unanswered status not configured", exc_info=True)
        sources.append(DynamicsSource(crm, db, unanswered))
    return sources
