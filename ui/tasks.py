"""Running the core's coroutines from widgets.

Provider commands and CRM lookups are ``async``; a button's slot cannot await, so it hands the
coroutine to ``spawn``. With qasync the task runs on the GUI thread's asyncio loop, so whatever
it does afterwards (update a pop-up) is already on the right thread. An error from the
``CallsysError`` tree becomes one sentence for the agent; anything else is logged with its
traceback and reported as a short failure — never a crash of the window.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from callsys.errors import CallsysError

__all__ = ["TaskRunner"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class TaskRunner:
    def __init__(self, report: Callable[[str], None]) -> None:
        self._report = report
        self._tasks: set[asyncio.Future[Any]] = set()

    def spawn(
        self,
        coro: Coroutine[Any, Any, T],
        *,
        done: Callable[[Any], None] | None = None,
        failed: Callable[[str], None] | None = None,
    ) -> asyncio.Future[Any] | None:
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            coro.close()
            log.error("no asyncio loop to run %r", coro)
            return None
        task = asyncio.ensure_future(self._guard(coro, done, failed), loop=loop)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guard(
        self,
        coro: Coroutine[Any, Any, T],
        done: Callable[[Any], None] | None,
        failed: Callable[[str], None] | None,
    ) -> T | None:
        try:
            result = await coro
        except asyncio.CancelledError:
            raise
        except CallsysError as exc:
            (failed or self._report)(str(exc))
            return None
        except Exception as exc:
            log.exception("background task failed")
            (failed or self._report)(f"{type(exc).__name__}: {exc}")
            return None
        if done is not None:
            done(result)
        return result

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
