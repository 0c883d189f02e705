"""CallerLookup — who is calling? (IN3, IN4, B2, B3)

Given the configured ``Crm`` (and, when there is one, a local phone index that answers without
the network), it resolves the other party of a call to a ranked list of ``Match``es:

- ``await identify(call)`` / ``await lookup(number)`` return the matches, best first;
- as a ``CallManager`` observer (``manager.subscribe(caller_lookup)``) it starts a lookup for
  every new call on the running asyncio loop, and tells its own subscribers
  ``observer(call, matches)`` when the answer is there — the pop-up and the CLI listen to that.
  With an index, subscribers hear twice when the CRM's answer differs from the index's.

Answers are cached per number for the session (a waiting call from the same caller pops up at
once); concurrent lookups of one number share one CRM request. It never raises: a CRM error is
logged as a warning and gives no matches (and is not cached, so the next call asks again).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from callsys.crm import Crm, Match
from callsys.model import Call, CallEvent, PhoneNumber

__all__ = ["CallerLookup", "LookupObserver", "NumberIndex"]

log = logging.getLogger(__name__)

LookupObserver = Callable[[Call, list[Match]], None]


@runtime_checkable
class NumberIndex(Protocol):
    """A local, synchronous index of numbers → records (the phone index, B3)."""

    def lookup(self, number: PhoneNumber) -> Sequence[Match]: ...


class CallerLookup:
    def __init__(
        self,
        crm: Crm,
        *,
        index: NumberIndex | None = None,
        timeout: float = 10.0,
        max_cached: int = 10_000,
    ) -> None:
        self.crm = crm
        self.index = index
        self.timeout = timeout
        self._max_cached = max_cached
        self._cache: dict[str, list[Match]] = {}
        self._inflight: dict[str, asyncio.Future[list[Match]]] = {}
        self._observers: list[LookupObserver] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._looked_up: dict[str, str] = {}  # call id → number key already resolved for it

    # ------------------------------------------------------------------ observers
    def subscribe(self, observer: LookupObserver) -> Callable[[], None]:
        """Call *observer(call, matches)* when a call's party is known. Returns an unsubscribe."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer) if observer in self._observers else None

    def __call__(self, event: CallEvent, call: Call) -> None:
        """``CallManager`` observer: look up every new call (and a call whose number changed)."""
        if event is CallEvent.ENDED:
            self._looked_up.pop(call.id, None)
            return
        if event not in (CallEvent.INCOMING, CallEvent.OUTGOING, CallEvent.UPDATED, CallEvent.ANSWERED):
            return
        key = call.remote.key
        if self._looked_up.get(call.id) == key:
            return
        self._looked_up[call.id] = key
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.warning("no running event loop: cannot look up the caller of %s", call.id)
            return
        task = loop.create_task(self._resolve_and_notify(call))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait_idle(self) -> None:
        """Wait until every lookup started by the observer hook has notified (tests, CLI)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self._tasks.clear()

    # ------------------------------------------------------------------ lookups
    def cached(self, number: PhoneNumber) -> list[Match] | None:
        """The session's answer for *number*, if it was looked up already."""
        found = self._cache.get(number.key)
        return list(found) if found is not None else None

    def forget(self, number: PhoneNumber | None = None) -> None:
        """Drop the cached answer for *number* (after the record was edited), or all of them."""
        if number is None:
            self._cache.clear()
        else:
            self._cache.pop(number.key, None)

    def remember(self, number: PhoneNumber, matches: Sequence[Match]) -> None:
        """Take *matches* as the session's answer for *number* — the online answer that a
        background confirmation found to differ from the phone index's."""
        if number.key:
            self._remember(number.key, sorted(matches, key=lambda m: m.score, reverse=True))

    async def identify(self, call: Call) -> list[Match]:
        """The records matching the other party of *call*, best first. Never raises."""
        return await self.lookup(call.remote)

    async def lookup(self, number: PhoneNumber) -> list[Match]:
        """The records matching *number*, best first; ``[]`` for an anonymous caller. Never raises."""
        key = number.key
        if not key:
            return []
        if key in self._cache:
            return list(self._cache[key])
        pending = self._inflight.get(key)
        if pending is not None:
            return list(await asyncio.shield(pending))
        future: asyncio.Future[list[Match]] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            matches, ok = await self._ask_crm(number)
            if ok:
                self._remember(key, matches)
            future.set_result(matches)
            return list(matches)
        except BaseException:
            if not future.done():
                future.set_result([])
            raise
        finally:
            self._inflight.pop(key, None)

    def lookup_index(self, number: PhoneNumber) -> list[Match]:
        """What the local index says right now (no network); ``[]`` without an index."""
        if self.index is None or not number.key:
            return []
        try:
            return list(self.index.lookup(number))
        except Exception:
            log.warning("phone index lookup failed for %s", number, exc_info=True)
            return []

    async def _ask_crm(self, number: PhoneNumber) -> tuple[list[Match], bool]:
        # With the phone index here, the CRM is asked *online*: a CRM that answers from the same
        # index itself (DynamicsCrm.lookup) would otherwise "confirm" the index with the index.
        ask = self.crm.lookup
        if self.index is not None:
            ask = getattr(self.crm, "lookup_online", ask)
        try:
            found = await asyncio.wait_for(ask(number), self.timeout)
            return sorted(found, key=lambda m: m.score, reverse=True), True
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            log.warning("the CRM did not answer within %.0f s looking up %s", self.timeout, number)
        except Exception as exc:
            log.warning("CRM lookup of %s failed: %s", number, exc, exc_info=log.isEnabledFor(logging.DEBUG))
        return [], False

    def _remember(self, key: str, matches: list[Match]) -> None:
        if len(self._cache) >= self._max_cached:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = list(matches)

    async def _resolve_and_notify(self, call: Call) -> None:
        early: list[Match] | None = None
        if self.index is not None and self.cached(call.remote) is None:
            early = self.lookup_index(call.remote)
            if early:
                self._notify(call, early)
        matches = await self.lookup(call.remote)
        if early is None or _ids(matches) != _ids(early):
            self._notify(call, matches)

    def _notify(self, call: Call, matches: list[Match]) -> None:
        for observer in list(self._observers):
            try:
                observer(call, list(matches))
            except Exception:
                log.exception("caller lookup observer %r failed", observer)


def _ids(matches: Sequence[Match]) -> list[tuple[str, str]]:
    return [(m.party.kind.value, m.party.id) for m in matches]
