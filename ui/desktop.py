"""The desktop's composition: settings → number plan → database → CRM → CallManager + observers →
provider. Built by ``ui.app.run`` for the real app and by the tests with their own settings.

Every part may fail on a real machine (a bad database path, an unreachable Dynamics, a softphone
without a sound card); none of those may stop the window from opening. A part that cannot start
is left out, its reason is kept in ``problems`` as a sentence the window shows in a banner, and
the rest works without it — the agent still sees the window, the log, the dial field.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from inspect import isawaitable
from typing import TYPE_CHECKING, Any

from callsys.callmanager import CallManager
from callsys.errors import CallsysError
from callsys.model import Call, CallEvent, Party
from callsys.numbers import NumberPlan, plan_from_settings
from callsys.provider import Capability, Provider, ProviderRegistry, ProviderStatus, Registration
from callsys.secretnames import with_secrets
from callsys.settings import (
    AUTO_ANSWER,
    CRM_INDEX_FULL_SECONDS,
    CRM_INDEX_SYNC_SECONDS,
    DND,
    DNIS_LINES,
    PHONE_PROVIDER,
    PROVIDER_OPTIONS,
    SERVER_URL,
    Settings,
)

if TYPE_CHECKING:
    import sqlite_utils

    from callsys.crm import Crm, Match

__all__ = ["Desktop", "compose", "plan_from_settings"]

log = logging.getLogger(__name__)

#: The records of this many of the latest calls are kept for their CRM activities (written when a
#: call is answered and ends): far more than are live at once, and not one per call of the day.
_PARTIES_KEPT = 500


@dataclass
class Desktop:
    """Everything the window works with. ``None`` parts could not start (see ``problems``)."""

    settings: Settings
    registry: ProviderRegistry
    plan: NumberPlan
    manager: CallManager
    db: sqlite_utils.Database | None = None
    crm: Crm | None = None
    calllog: Any = None  # callsys.calllog.CallLog
    lookup: Any = None  # callsys.lookup.CallerLookup
    provider: Provider | None = None
    provider_name: str = ""
    activity: Any = None  # callsys.activity.ActivityLogger, when the CRM is Dynamics 365
    outbox: Any = None  # callsys.outbox.Outbox that delivers the activity's writes
    parties: dict[str, Party] = field(default_factory=dict)  # call id → the record the agent sees
    problems: list[str] = field(default_factory=list)
    #: Told how a phone-index sync goes (callsys.phoneindex.SyncProgress), then ``None`` when it ends.
    sync_progress: Callable[[Any], None] | None = None
    _background: set[asyncio.Future[Any]] = field(default_factory=set)
    _outbox_stop: asyncio.Event | None = None
    #: the call log's and the CRM activity's observers, run off the ring's way (see ``_Later``)
    _later: list[_Later] = field(default_factory=list)

    def observe_later(self, observer: Callable[[CallEvent, Call], None]) -> None:
        """Subscribe *observer* to the CallManager, run on the loop's next turn — after the
        pop-up of a ringing call is on screen (``hold_later``) — in the order of the events."""
        later = _Later(observer)
        self._later.append(later)
        self.manager.subscribe(later)

    def hold_later(self) -> None:
        """Keep the deferred observers' work until ``flush_later`` (the window calls it right
        after a ringing call's pop-up is painted, or a moment later at most)."""
        for later in self._later:
            later.held = True

    def flush_later(self) -> None:
        """Run what the deferred observers still owe now (before reading what they write)."""
        for later in self._later:
            later.flush()

    # ----------------------------------------------------------------- provider lifecycle
    def create_provider(self, name: str | None = None) -> Provider | None:
        name = name or self.settings[PHONE_PROVIDER]
        self.provider_name = name
        options = self.settings[PROVIDER_OPTIONS]
        # Keys the provider does not know (a typo, a leftover of another provider): shown in the
        # banner like the other configuration problems, but the phone still starts without them.
        # Not for a stand-in (the banner's "use the simulator"): the options are not written for it.
        self.problems = [p for p in self.problems if not p.startswith("options:")]
        if name == self.settings[PHONE_PROVIDER]:
            self.problems.extend(f"options:{w}" for w in self.registry.option_warnings(name, options))
        if name == "server" and not options.get("url"):
            options = {**options, "url": self.settings[SERVER_URL]}  # the Server tab's address
        if name == "sip":  # the Phone tab's "Answer calls automatically" (the softphone's option)
            options = {"auto_answer": self.settings[AUTO_ANSWER], **options}
        options = with_secrets(name, options)  # SIP line passwords, the AMI secret: from the keyring
        from ui.applog import remember_secrets

        remember_secrets(options)  # never written to the log file, wherever they show up
        # The configured number plan, so that the provider reads a caller's number as the rest of
        # the desktop does (a German "0171 …" in Germany) — never a provider's own default.
        options = {**options, "number_plan": self.plan}
        try:
            self.provider = self.registry.create(name, options)
        except CallsysError as exc:
            self._provider_failed(name, str(exc))
        except Exception as exc:  # a provider's own bug must not keep the window shut
            log.exception("creating provider %s failed", name)
            self._provider_failed(name, f"{type(exc).__name__}: {exc}")
        return self.provider

    async def start_provider(self) -> bool:
        provider = self.provider
        if provider is None:
            return False
        try:
            await provider.start(self.manager.listener(provider.name))
        except Exception as exc:
            if not isinstance(exc, CallsysError):
                log.exception("starting provider %s failed", provider.name)
            self.provider = None
            self._provider_failed(provider.name, str(exc) or type(exc).__name__)
            try:
                await provider.close()
            except Exception:
                log.debug("closing the failed provider also failed", exc_info=True)
            return False
        await self.apply_dnd()
        return True

    async def apply_dnd(self) -> None:
        """The Phone tab's "Do not disturb", where the phone connection can (kept across restarts)."""
        provider = self.provider
        if provider is None or Capability.DND not in provider.capabilities:
            return
        try:
            await provider.set_dnd(self.settings[DND])
        except CallsysError as exc:
            log.warning("do not disturb could not be set: %s", exc)

    def _provider_failed(self, name: str, why: str) -> None:
        self.provider = None
        self.problems.append(f"provider:{why}")
        self.manager.handle_status(ProviderStatus(name or "none", Registration.OFFLINE, message=why))

    async def switch_provider(self, name: str) -> bool:
        """Stop the current provider and start *name* (the banner's "use the simulator")."""
        await self.close_provider()
        self.problems = [p for p in self.problems if not p.startswith("provider:")]
        self.create_provider(name)
        return await self.start_provider()

    async def close_provider(self) -> None:
        provider, self.provider = self.provider, None
        if provider is not None:
            try:
                await provider.close()
            except Exception:
                log.exception("closing provider %s failed", provider.name)

    # ----------------------------------------------------------------- number plan
    def apply_number_plan(self) -> bool:
        """Take the number settings (area code, dial prefix, short-number threshold) as they are
        now, without a restart: dialling, the calls' numbers, logging and the CRM lookups use the
        new plan from the next call. The default country is not applied here (the directory's
        keys and the phone index are built for one country: it applies after a restart).
        Returns whether anything changed."""
        plan = plan_from_settings(self.settings)
        if plan.region != self.plan.region:
            plan = dataclasses.replace(plan, region=self.plan.region)
        self.manager.use_plan(plan, self.settings[DNIS_LINES])  # also the DNIS line names
        if plan == self.plan:
            return False
        rekey = plan.area_code != self.plan.area_code
        self.plan = plan
        crm: Any = self.crm
        if crm is not None and hasattr(crm, "plan"):
            crm.plan = plan
            index = getattr(crm, "index", None)
            if index is not None and hasattr(index, "keys"):
                from callsys.phoneindex import IndexKeys

                index.plan, index.keys = plan, IndexKeys(plan)
            reindex = getattr(crm, "reindex", None)
            if rekey and callable(reindex):  # local numbers written without the area code
                try:
                    reindex()
                except CallsysError:
                    log.exception("re-keying the directory for the new area code failed")
        forget = getattr(self.lookup, "forget", None)
        if callable(forget):
            forget()  # answers found with the old plan
        return True

    # ----------------------------------------------------------------- lookups
    def identify_now(self, call: Call) -> tuple[list[Match], bool] | None:
        """The caller's records if they are known *without waiting* — the session cache, the local
        phone index (B3), or the local directory — so the pop-up's first paint already shows
        them, and whether that answer is final. An answer from the phone index is not: the CRM
        confirms it in the background (a record may have changed since the last sync).
        ``None``: only the (async) CRM can tell; ``identify`` then asks it."""
        if call.remote.is_anonymous:
            return [], True
        try:
            lookup = self.lookup
            if lookup is not None:
                cached = lookup.cached(call.remote) if hasattr(lookup, "cached") else None
                if cached is not None:
                    return list(cached), True
                if getattr(lookup, "index", None) is not None:
                    early = lookup.lookup_index(call.remote)
                    if early:
                        return list(early), False
            lookup_now = getattr(self.crm, "lookup_now", None)  # LocalCrm: one indexed SQLite query
            if callable(lookup_now):
                return list(lookup_now(call.remote)), True
        except Exception:
            log.exception("quick lookup of %s failed; asking the CRM", call.id)
        return None

    async def identify(self, call: Call) -> Sequence[Match]:
        """The CRM records for the caller, best first (B2: several may match)."""
        if self.lookup is not None:
            result = self.lookup.identify(call)
            if isawaitable(result):
                result = await result
            return list(result)
        if self.crm is not None and not call.remote.is_anonymous:
            return list(await self.crm.lookup(call.remote))
        return []

    # ----------------------------------------------------------------- the calls' rows
    def log_key(self, call_id: str) -> str:
        """The call log's row of this session's call *call_id* — the key the window knows a call
        by in the log, the notes and Convert. Unique across restarts, unlike the call ids (the
        simulator starts at sim-1 again, a PBX reuses its ids). Without a database: the call id."""
        if self.calllog is not None:
            try:
                return str(self.calllog.row_id(call_id))
            except Exception:
                log.exception("could not find the log row of call %s", call_id)
        return call_id

    def call_of(self, key: str) -> tuple[str, datetime | None, bool]:
        """For the log row *key*: the phone connection's id of its call, when the call started
        (what tells it from another call of that id, for its CRM activity), and whether it is a
        call of this session."""
        calllog = self.calllog
        session_call: str | None = key
        if calllog is not None:
            try:
                session_call = calllog.session_call(key)
            except Exception:
                log.exception("could not read the call log")
                session_call = None
        call = self.manager.get(session_call) if session_call is not None else None
        if call is not None:
            return call.id, call.started_at, True
        record = None
        if calllog is not None:
            try:
                record = calllog.get(key)
            except Exception:
                log.exception("could not read call %s from the log", key)
        if record is not None:
            return str(record.call_id), record.started_at, session_call is not None
        return session_call or key, None, session_call is not None

    def save_notes(self, key: str, text: str) -> None:
        """The agent's notes for the call of the log row *key* (``log_key``): into that row and
        that call's CRM activity (IN7) — ours, or the callsys server's when it writes the
        activities (providers.server)."""
        self.flush_later()  # the call's row (and activity) exist before the notes go on them
        call_id, started_at, _ = self.call_of(key)
        if self.calllog is not None:
            try:
                self.calllog.set_notes(key, text)
            except Exception:
                log.exception("could not store the notes of call %s", key)
        if self.activity is not None:
            try:
                self.activity.set_notes(call_id, text, started_at=started_at)
            except Exception:
                log.exception("could not store the notes of call %s in its activity", key)
        self._to_provider("set_notes", call_id, text)

    def _to_provider(self, command: str, *args: str) -> None:
        """Notes and record links for a provider that keeps the activity itself (the server)."""
        provider = self.provider
        if provider is None or getattr(provider, "owns_activity", True):
            return
        method = getattr(provider, command, None)
        if method is None:
            return

        async def send() -> None:
            try:
                await method(*args)
            except Exception:
                log.warning("could not send %s for call %s to the server", command, args[0], exc_info=True)

        try:
            task = asyncio.get_event_loop().create_task(send())
        except RuntimeError:
            return
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def start_background(self) -> None:
        """Start the CRM outbox sender (Dynamics activities, B4) and the phone index's delta sync
        (B3) on the running loop."""
        if self.outbox is not None and self._outbox_stop is None:
            self._outbox_stop = asyncio.Event()
            task = asyncio.get_event_loop().create_task(self.outbox.run(self._outbox_stop))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        if getattr(self.crm, "index", None) is not None:
            task = asyncio.get_event_loop().create_task(self._sync_index())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _sync_index(self) -> None:
        """Keep the phone index current with Dataverse change tracking: now, then every few minutes."""
        from callsys.phoneindex import IndexSync

        crm = self.crm

        def progress(step: Any) -> None:
            if self.sync_progress is not None:
                self.sync_progress(step)

        def synced() -> None:
            progress(None)  # the sync is over (done or failed): the progress bar goes away
            if self.lookup is not None and hasattr(self.lookup, "forget"):
                self.lookup.forget()  # the session cache must not hide what the sync changed

        sync = IndexSync(
            crm.index,  # type: ignore[union-attr]
            crm,  # type: ignore[arg-type]
            progress,
            untracked_every=self.settings[CRM_INDEX_FULL_SECONDS],
        )
        # Until the window closes (which cancels this task); offline, throttled or signed out,
        # the old index still answers and the next attempt comes a minute later.
        await sync.run(asyncio.Event(), interval=self.settings[CRM_INDEX_SYNC_SECONDS], after=synced)

    def remember_party(self, key: str, party: Party) -> None:
        """The record the agent sees for the call of the log row *key* (``log_key``) goes into
        that row (name, company, kind) and becomes what its CRM activity regards."""
        self.flush_later()  # the call's row (and activity) exist before the party goes on them
        if self.calllog is not None:
            try:
                self.calllog.set_party(key, party.kind, party.id, party.name, party.company)
            except Exception:
                log.exception("could not store the party of call %s", key)
        call_id, started_at, this_session = self.call_of(key)
        if this_session:
            self.parties[call_id] = party  # the activity of a live call is written with it
            while len(self.parties) > _PARTIES_KEPT:  # those of calls long over
                self.parties.pop(next(iter(self.parties)))
        activity = self.activity
        if activity is not None and activity.activity_id(call_id, started_at=started_at):
            try:  # the agent picked this record
                activity.link(call_id, party.table, party.id, started_at=started_at)
            except Exception:
                log.exception("could not link the activity of call %s", key)
        self._to_provider("link", call_id, party.table, party.id)

    async def close(self) -> None:
        self.flush_later()
        if self._outbox_stop is not None:
            self._outbox_stop.set()
        for task in list(self._background):
            task.cancel()
        await self.close_provider()
        if self.lookup is not None and hasattr(self.lookup, "close"):
            try:
                await self.lookup.close()
            except Exception:
                log.exception("closing the caller lookup failed")
        if self.crm is not None:
            try:
                closing = self.crm.close()
                if isinstance(closing, Awaitable):
                    await closing
            except Exception:
                log.exception("closing the CRM failed")
        self.flush_later()  # what the calls ended by closing the phone left to write
        for later in self._later:
            later.closed = True
        if self.db is not None:
            try:
                self.db.conn.close()
            except Exception:
                log.exception("closing the database failed")
            self.db = None


def compose(settings: Settings, registry: ProviderRegistry) -> Desktop:
    """Build the desktop's parts from *settings*. Never raises for a part that cannot start."""
    problems: list[str] = []
    try:
        plan = plan_from_settings(settings)
    except CallsysError as exc:  # not for settings that were loaded and validated as usual
        problems.append(f"settings:{exc}")
        plan = NumberPlan()
    manager = CallManager.for_plan(plan, settings[DNIS_LINES])
    desktop = Desktop(settings=settings, registry=registry, plan=plan, manager=manager, problems=problems)

    try:
        from callsys.store import open_database

        desktop.db = open_database(settings)
    except CallsysError as exc:
        desktop.problems.append(f"store:{exc}")

    if desktop.db is not None:
        try:
            from callsys.calllog import CallLog

            desktop.calllog = CallLog(desktop.db)
            # Calls that were live when callsys last stopped (a crash) are over now.
            desktop.calllog.mark_interrupted()
            desktop.observe_later(desktop.calllog)
        except CallsysError as exc:
            desktop.problems.append(f"store:{exc}")
        except ImportError:
            log.warning("callsys.calllog is not available; the log lives for this session only")
        try:
            from callsys.crm.factory import create_crm

            desktop.crm = create_crm(settings, desktop.db, plan)
        except CallsysError as exc:
            desktop.problems.append(f"crm:{exc}")
        except ImportError:
            log.warning("callsys.crm.factory is not available; callers are not identified")
    if desktop.crm is not None:
        try:
            from callsys.lookup import CallerLookup

            # With Dynamics' local phone index (B3) a ring is answered from it at once.
            desktop.lookup = CallerLookup(desktop.crm, index=getattr(desktop.crm, "index", None))
        except ImportError:
            log.info("callsys.lookup is not available; asking the CRM directly")
        except CallsysError as exc:
            desktop.problems.append(f"crm:{exc}")
    desktop.create_provider()
    _wire_activities(desktop)
    return desktop


class _Later:
    """A CallManager observer run on the loop's next turn, in order — or, while the window
    holds it (a ringing call's pop-up is not painted yet), when the window flushes it: a SQLite
    write is not on the way from the ring to the pop-up's paint. Without a running loop it
    runs at once."""

    def __init__(self, observer: Callable[[CallEvent, Call], None]) -> None:
        self.observer = observer
        self.held = False
        self.closed = False  # the desktop closed its database: nothing more is written
        self._pending: collections.deque[tuple[CallEvent, Call]] = collections.deque()

    def __call__(self, event: CallEvent, call: Call) -> None:
        if self.closed:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            self.observer(event, call)
            return
        self._pending.append((event, call))
        if len(self._pending) == 1:
            loop.call_soon(self._turn)

    def _turn(self) -> None:
        if not self.held:
            self.flush()

    def flush(self) -> None:
        self.held = False
        if self.closed:
            self._pending.clear()
        while self._pending:
            event, call = self._pending.popleft()
            try:
                self.observer(event, call)
            except Exception:
                log.exception("a call observer failed")


def _wire_activities(desktop: Desktop) -> None:
    """IN7, IN8, OUT5: with Dynamics 365 as the CRM, every call becomes a phone-call activity
    through the durable outbox — unless the provider is a callsys server, which writes them."""
    crm, db = desktop.crm, desktop.db
    if crm is None or db is None or getattr(crm, "name", "") != "dynamics":
        return
    if desktop.provider is not None and not getattr(desktop.provider, "owns_activity", True):
        return
    try:
        from callsys.activity import ActivityLogger, register_handlers
        from callsys.outbox import Outbox

        from ui.i18n import translate

        outbox = Outbox(db)
        register_handlers(outbox, crm)  # type: ignore[arg-type]
        desktop.outbox = outbox
        from callsys.crm.dataverse_setup import unanswered_status

        desktop.activity = ActivityLogger(
            outbox,
            unanswered_status=unanswered_status(desktop.settings),
            resolve_party=lambda call: desktop.parties.get(call.id),
            display_number=lambda call: desktop.plan.display(call.remote) or "unknown",
            unanswered_title=translate("Activity", "Unanswered"),
            incoming_label=translate("Activity", "Incoming call"),
            outgoing_label=translate("Activity", "Outgoing call"),
        )
        desktop.observe_later(desktop.activity)
    except Exception as exc:
        log.exception("could not set up CRM activity logging")
        desktop.problems.append(f"crm:{exc}")
