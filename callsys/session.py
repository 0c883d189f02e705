"""One call session: the per-call work every front end shares, without Qt.

``CallSession`` is built from settings and the provider registry: settings → number plan →
database → CRM → CallManager + observers → provider. It owns, per call, the number plan (handed
to the provider as its ``number_plan`` option, and to the CallManager, the single home of IN12's
receiving line and IN13's short numbers), the caller lookup, the record chosen for the call,
activity logging (IN7, IN8) through the durable outbox, and the phone index's sync (B3).

The front ends are thin around it:

- the desktop (``ui.desktop.compose`` → ``open_session`` with the window's translated activity
  titles) — the window shows what the session knows;
- ``callsys simulate`` — a session with the simulator and a call log of its own;
- ``callsys phone`` — a session of the number plan and the CallManager around the softphone;
- the server — a session per branch (``CallSession.for_plan``: the branch's plan and lines), and
  ``open_activities`` for its one activity logger over its one outbox.

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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from callsys.callmanager import CallManager
from callsys.crm import IndexedCrm, InstantLookup, NumberedCrm, RekeyableDirectory
from callsys.errors import CallsysError
from callsys.model import Call, CallEvent, CallState, Party
from callsys.numbers import NumberPlan, plan_from_settings
from callsys.provider import (
    ActivityRelay,
    Capability,
    Provider,
    ProviderRegistry,
    ProviderStatus,
    Registration,
    writes_own_activity,
)
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
    from callsys.activity import ActivityLogger
    from callsys.calllog import CallLog
    from callsys.crm import Crm, Match
    from callsys.crm.dynamics.phoneindex import SyncProgress
    from callsys.lookup import CallerLookup
    from callsys.outbox import Outbox
    from callsys.store import Database

__all__ = ["ActivityLabels", "CallSession", "open_activities", "open_session"]

log = logging.getLogger(__name__)

#: The records of this many of the latest calls are kept for their CRM activities (written when a
#: call is answered and ends): far more than are live at once, and not one per call of the day.
_PARTIES_KEPT = 500


@dataclass(frozen=True)
class ActivityLabels:
    """The titles of the CRM activities a session writes (IN8), in the agent's language."""

    unanswered_title: str
    incoming_label: str
    outgoing_label: str


@dataclass
class CallSession:
    """Everything a front end works with. ``None`` parts could not start (see ``problems``)."""

    settings: Settings
    registry: ProviderRegistry
    plan: NumberPlan
    manager: CallManager
    db: Database | None = None
    crm: Crm | None = None
    calllog: CallLog | None = None
    lookup: CallerLookup | None = None
    provider: Provider | None = None
    provider_name: str = ""
    activity: ActivityLogger | None = None  # when the CRM is Dynamics 365
    outbox: Outbox | None = None  # delivers the activity's writes
    parties: dict[str, Party] = field(default_factory=dict)  # call id → the record chosen for it
    #: live call id → the record shown for it: the chosen one, or the phone index's first answer
    #: until the CRM confirms it (B3)
    shown: dict[str, Party] = field(default_factory=dict)
    #: live calls whose caller is looked up (or known for good)
    _looked_up: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    #: Told how a phone-index sync goes (callsys.crm.dynamics.phoneindex.SyncProgress), then ``None`` when it ends.
    sync_progress: Callable[[SyncProgress | None], None] | None = None
    #: Told the provider's options (with the keyring's secrets) before the provider is built: the
    #: desktop masks those secrets in its log file.
    secrets_seen: Callable[[Mapping[str, Any]], None] | None = None
    _background: set[asyncio.Future[Any]] = field(default_factory=set)
    _outbox_stop: asyncio.Event | None = None
    #: the call log's and the CRM activity's observers, run off the ring's way (see ``_Later``)
    _later: list[_Later] = field(default_factory=list)

    @classmethod
    def for_plan(
        cls,
        plan: NumberPlan,
        dnis_lines: Mapping[str, str] | None = None,
        *,
        registry: ProviderRegistry | None = None,
        settings: Settings | None = None,
    ) -> CallSession:
        """A session of *plan* and its CallManager, which names the receiving line from
        *dnis_lines* (IN12) — nothing else yet: a server branch, ``callsys phone``. Without
        *settings* or *registry*: the defaults, and no provider by name."""
        return cls(
            settings=settings if settings is not None else Settings(),
            registry=registry if registry is not None else ProviderRegistry(),
            plan=plan,
            manager=CallManager.for_plan(plan, dnis_lines),
        )

    def provider_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """*options* with the session's number plan, so that the provider reads a caller's
        number as the rest of the session does (a German "0171 …" in Germany) — never a
        provider's own default."""
        return {**options, "number_plan": self.plan}

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
    def create_provider(
        self, name: str | None = None, options: Mapping[str, Any] | None = None
    ) -> Provider | None:
        """Build provider *name* (default: ``phone.provider``) from *options* (default: the
        settings' ``phone.options`` with the keyring's secrets), with the session's number plan.
        A provider that cannot be built is a problem, not an exception."""
        if options is None:
            name, options = self._settings_options(name)
        name = name or self.settings[PHONE_PROVIDER]
        self.provider_name = name
        if self.secrets_seen is not None:
            self.secrets_seen(options)  # never written to the log file, wherever they show up
        try:
            self.provider = self.registry.create(name, self.provider_options(options))
        except CallsysError as exc:
            self._provider_failed(name, str(exc))
        except Exception as exc:  # a provider's own bug must not keep the window shut
            log.exception("creating provider %s failed", name)
            self._provider_failed(name, f"{type(exc).__name__}: {exc}")
        return self.provider

    def _settings_options(self, name: str | None) -> tuple[str, dict[str, Any]]:
        settings = self.settings
        name = name or settings[PHONE_PROVIDER]
        options = settings[PROVIDER_OPTIONS]
        # Keys the provider does not know (a typo, a leftover of another provider): shown in the
        # banner like the other configuration problems, but the phone still starts without them.
        # Not for a stand-in (the banner's "use the simulator"): the options are not written for it.
        self.problems = [p for p in self.problems if not p.startswith("options:")]
        if name == settings[PHONE_PROVIDER]:
            self.problems.extend(f"options:{w}" for w in self.registry.option_warnings(name, options))
        if name == "server" and not options.get("url"):
            options = {**options, "url": settings[SERVER_URL]}  # the Server tab's address
        if name == "sip":  # the Phone tab's "Answer calls automatically" (the softphone's option)
            options = {"auto_answer": settings[AUTO_ANSWER], **options}
        return name, with_secrets(name, options)  # SIP line passwords, the AMI secret: from the keyring

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
        crm = self.crm
        if isinstance(crm, NumberedCrm):
            crm.plan = plan
        if isinstance(crm, IndexedCrm):
            from callsys.crm.dynamics.phoneindex import IndexKeys, PhoneIndex

            index = crm.index
            if isinstance(index, PhoneIndex):
                index.plan, index.keys = plan, IndexKeys(plan)
        if rekey and isinstance(crm, RekeyableDirectory):  # local numbers written without the area code
            try:
                crm.reindex()
            except CallsysError:
                log.exception("re-keying the directory for the new area code failed")
        if self.lookup is not None:
            self.lookup.forget()  # answers found with the old plan
        return True

    # ----------------------------------------------------------------- the caller of each call
    def known_now(self, call: Call) -> list[Match] | None:
        """For a live call whose caller is not looked up yet: the records ``identify_now`` knows
        at once (the first is shown for the call from now on), or ``None``. A final answer
        means the CRM is not asked (``needs_lookup`` is then false)."""
        if call.state is CallState.ENDED or call.id in self._looked_up or call.remote.is_anonymous:
            return None
        known = self.identify_now(call)
        if known is None:
            return None
        quick, final = known
        if final:  # else the CRM confirms it, in the background (B3)
            self._looked_up.add(call.id)
        if quick:
            self.shown[call.id] = quick[0].party
        return quick

    def needs_lookup(self, call: Call) -> bool:
        """Whether the CRM is to be asked for the caller of *call* now (``identify``) — once a
        call; never for an ended or anonymous call. An ended call's record is no longer shown."""
        if call.state is CallState.ENDED:
            self.shown.pop(call.id, None)
            self._looked_up.discard(call.id)
            return False
        if call.id in self._looked_up or call.remote.is_anonymous:
            return False
        self._looked_up.add(call.id)
        return True

    def party_of(self, call_id: str) -> Party | None:
        """The record shown for a live call (``None``: not known, or the call has ended)."""
        return self.shown.get(call_id)

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
                cached = lookup.cached(call.remote)
                if cached is not None:
                    return list(cached), True
                if lookup.index is not None:
                    early = lookup.lookup_index(call.remote)
                    if early:
                        return list(early), False
            if isinstance(self.crm, InstantLookup):  # LocalCrm: one indexed SQLite query
                return list(self.crm.lookup_now(call.remote)), True
        except Exception:
            log.exception("quick lookup of %s failed; asking the CRM", call.id)
        return None

    async def identify(self, call: Call) -> Sequence[Match]:
        """The CRM records for the caller, best first (B2: several may match)."""
        if self.lookup is not None:
            return await self.lookup.identify(call)
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
        if not isinstance(provider, ActivityRelay) or provider.owns_activity:
            return
        method = provider.set_notes if command == "set_notes" else provider.link

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
        if isinstance(self.crm, IndexedCrm) and self.crm.index is not None:
            task = asyncio.get_event_loop().create_task(self._sync_index())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _sync_index(self) -> None:
        """Keep the phone index current with Dataverse change tracking: now, then every few minutes."""
        from callsys.crm.dynamics.phoneindex import IndexSync

        crm, settings = self.crm, self.settings

        def progress(step: SyncProgress | None) -> None:
            if self.sync_progress is not None:
                self.sync_progress(step)

        def synced() -> None:
            progress(None)  # the sync is over (done or failed): the progress bar goes away
            if self.lookup is not None:
                self.lookup.forget()  # the session cache must not hide what the sync changed

        sync = IndexSync(
            crm.index,  # type: ignore[union-attr]
            crm,  # type: ignore[arg-type]
            progress,
            untracked_every=settings[CRM_INDEX_FULL_SECONDS],
        )
        # Until the window closes (which cancels this task); offline, throttled or signed out,
        # the old index still answers and the next attempt comes a minute later.
        await sync.run(asyncio.Event(), interval=settings[CRM_INDEX_SYNC_SECONDS], after=synced)

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
            self.shown[call_id] = party
            while len(self.parties) > _PARTIES_KEPT:  # those of calls long over
                self.parties.pop(next(iter(self.parties)))
            while len(self.shown) > _PARTIES_KEPT:
                self.shown.pop(next(iter(self.shown)))
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
        if self.lookup is not None:
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


def open_session(
    settings: Settings,
    registry: ProviderRegistry,
    *,
    labels: ActivityLabels | None = None,
    secrets_seen: Callable[[Mapping[str, Any]], None] | None = None,
) -> CallSession:
    """Build a session's parts from *settings*: the plan, the call log, the CRM and its caller
    lookup, the ``phone.provider`` and, with Dynamics 365, the activity logging. Never raises for
    a part that cannot start. *labels*: the activities' titles (default: the ones of the
    ``ui.language`` setting); *secrets_seen*: see ``CallSession.secrets_seen``."""
    problems: list[str] = []
    try:
        plan = plan_from_settings(settings)
    except CallsysError as exc:  # not for settings that were loaded and validated as usual
        problems.append(f"settings:{exc}")
        plan = NumberPlan()
    session = CallSession.for_plan(plan, settings[DNIS_LINES], registry=registry, settings=settings)
    session.problems = problems
    session.secrets_seen = secrets_seen

    from callsys.calllog import CallLog
    from callsys.crm.factory import create_crm
    from callsys.lookup import CallerLookup, NumberIndex
    from callsys.store import open_database

    try:
        session.db = open_database(settings)
    except CallsysError as exc:
        session.problems.append(f"store:{exc}")

    if session.db is not None:
        try:
            session.calllog = CallLog(session.db)
            # Calls that were live when callsys last stopped (a crash) are over now.
            session.calllog.mark_interrupted()
            session.observe_later(session.calllog)
        except CallsysError as exc:
            session.problems.append(f"store:{exc}")
        try:
            session.crm = create_crm(settings, session.db, plan)
        except CallsysError as exc:
            session.problems.append(f"crm:{exc}")
    if session.crm is not None:
        try:
            # With Dynamics' local phone index (B3) a ring is answered from it at once.
            index = session.crm.index if isinstance(session.crm, IndexedCrm) else None
            session.lookup = CallerLookup(
                session.crm, index=index if isinstance(index, NumberIndex) else None
            )
        except CallsysError as exc:
            session.problems.append(f"crm:{exc}")
    session.create_provider()
    wire_activities(session, labels)
    return session


def open_activities(
    crm: Any,
    db: Any,
    settings: Settings,
    *,
    labels: ActivityLabels | None = None,
    max_delay: float | None = None,
    **logger: Any,
) -> tuple[Outbox, ActivityLogger]:
    """The one durable outbox over *db* (a SQLite database, or the server nodes' shared state)
    with Dynamics' handlers for *crm*, and the one ``ActivityLogger`` writing into it: the
    organisation's unanswered status, and the titles of *labels* (default: the ``ui.language``
    setting's). *logger*: ``ActivityLogger``'s other keywords (``resolve_party``, ``agent_for``,
    ``display_number``)."""
    from callsys.activity import ActivityLogger, register_handlers
    from callsys.crm.dynamics.setup import activity_logger_options
    from callsys.outbox import Outbox

    outbox = Outbox(db) if max_delay is None else Outbox(db, max_delay=max_delay)
    register_handlers(outbox, crm)
    options = activity_logger_options(settings)  # IN8: the organisation's unanswered status + titles
    if labels is not None:
        options.update(dataclasses.asdict(labels))
    return outbox, ActivityLogger(outbox, **options, **logger)


class _Later:
    """A CallManager observer run on the loop's next turn, in order — or, while the window
    holds it (a ringing call's pop-up is not painted yet), when the window flushes it: a SQLite
    write is not on the way from the ring to the pop-up's paint. Without a running loop it
    runs at once."""

    def __init__(self, observer: Callable[[CallEvent, Call], None]) -> None:
        self.observer = observer
        self.held = False
        self.closed = False  # the session closed its database: nothing more is written
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


def wire_activities(session: CallSession, labels: ActivityLabels | None = None) -> None:
    """IN7, IN8, OUT5: with Dynamics 365 as the CRM, every call becomes a phone-call activity
    through the durable outbox — unless the provider is a callsys server, which writes them."""
    crm, db, settings = session.crm, session.db, session.settings
    if crm is None or db is None or getattr(crm, "name", "") != "dynamics":
        return
    if session.provider is not None and not writes_own_activity(session.provider):
        return
    try:
        session.outbox, session.activity = open_activities(
            crm,
            db,
            settings,
            labels=labels,
            resolve_party=lambda call: session.parties.get(call.id),
            display_number=lambda call: session.plan.display(call.remote) or "unknown",
        )
        session.observe_later(session.activity)
    except Exception as exc:
        log.exception("could not set up CRM activity logging")
        session.problems.append(f"crm:{exc}")
