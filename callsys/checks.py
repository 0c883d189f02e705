"""Connection checks, without a window: is the phone system reachable with these options, does the
CRM let us sign in. The settings dialog's "Test" buttons and ``callsys server --check`` both ask
these; each words the answer itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from callsys.crm import SignedInCrm
from callsys.provider import Provider, ProviderStatus, Registration
from callsys.settings import CRM_BACKEND, Settings
from callsys.store import Database

__all__ = ["online", "probe_provider", "settled", "sign_in"]

log = logging.getLogger(__name__)


def settled(status: ProviderStatus) -> bool:
    """The connection's first verdict, whichever it is (the settings dialog's test)."""
    return status.registration is not Registration.CONNECTING


def online(status: ProviderStatus) -> bool:
    """The connection is up (``server --check``: a PBX that logs in after a retry still counts)."""
    return status.registration is Registration.ONLINE


class _Catcher:
    """A ``ProviderListener`` that only waits for the connection's verdict."""

    def __init__(self, done: Callable[[ProviderStatus], bool]) -> None:
        self.done = done
        self.status: ProviderStatus | None = None
        self.verdict = asyncio.Event()

    def call_event(self, event: object) -> None:
        pass

    def status_changed(self, status: ProviderStatus) -> None:
        if self.verdict.is_set():  # the verdict stays: closing the test connection reports "offline"
            return
        self.status = status
        if self.done(status):
            self.verdict.set()


async def probe_provider(
    provider: Provider, timeout: float, done: Callable[[ProviderStatus], bool] = settled
) -> tuple[bool, ProviderStatus | None]:
    """Start *provider* on its own, wait up to *timeout* seconds for a status that is *done*, and
    close it. Returns whether one came, and the last status it reported (``None``: none at all).
    A provider that cannot start raises its ``CallsysError``."""
    catcher = _Catcher(done)
    try:
        await provider.start(catcher)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(catcher.verdict.wait(), timeout)
    finally:
        try:
            await provider.close()
        except Exception:
            log.debug("closing the probed provider failed", exc_info=True)
    return catcher.verdict.is_set(), catcher.status


async def sign_in(settings: Settings, db: Database, *, transport: Any = None) -> str | None:
    """Sign in to the configured CRM and ask who is signed in: the user's id (Dynamics 365), or
    ``None`` for a CRM without a sign-in that answered a search. Raises the CRM's ``CrmError``
    (``AuthError`` for the sign-in). *transport* (an httpx transport) is for tests against the
    Dataverse fake."""
    from callsys.numbers import plan_from_settings

    plan = plan_from_settings(settings)
    crm: Any
    if settings[CRM_BACKEND] == "dynamics":
        from callsys.crm.dynamics.setup import create

        crm = create(settings, db, plan, transport=transport)
    else:
        from callsys.crm.factory import create_crm

        crm = create_crm(settings, db, plan)
    try:
        if isinstance(crm, SignedInCrm):
            return await crm.who_am_i()
        await crm.search("a", 1)
        return None
    finally:
        await crm.close()
