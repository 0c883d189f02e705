"""``CallServer`` — the headless daemon: PBX connections → CallManager → CRM logger + desktop hub.

Per branch (SET6) one provider (normally ``ami``) feeds one ``CallManager`` built with that
branch's number plan; call ids are namespaced ``"BRANCH/<pbx id>"`` so two PBXes can never
collide. Every manager has two observers: the ``Hub`` (push to desktops) and the activity writer
(the CRM logger with its durable outbox — IN14: every call is logged whether or not a desktop is
connected, and only here: a desktop on the ``server`` provider adds notes through the server and
never writes an activity of its own).

The activity writer is whatever ``activity`` factory the caller hands in; the command line
builds the real one (``callsys.activity.ActivityLogger`` over ``callsys.outbox``), tests may
hand in a recording double. ``owner_for(call)`` tells it whose queue the activity belongs in.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from websockets.http11 import Request

from callsys import __version__
from callsys.callmanager import CallManager
from callsys.errors import (
    CallsysError,
    ConfigError,
    NotSupported,
    ProviderError,
    SecretStoreError,
    UnknownCall,
)
from callsys.model import Call, CallEvent, Direction, ProviderEvent
from callsys.provider import (
    Capability,
    Provider,
    ProviderListener,
    ProviderRegistry,
    ProviderStatus,
    Registration,
    require,
)
from callsys.secrets import get_secret
from callsys.server.config import SHARED_SECRET, Branch, ServerConfig, agent_secret_name
from callsys.server.hub import ALL, Hub, Identity, Session, constant_time_equal, split_call_id
from callsys.server.protocol import call_to_wire
from callsys.server.reconcile import LegBook, Reconciler, ReconcileResult, read_master_csv
from callsys.serverlayer import LAYER_PATH, read_pushed
from callsys.session import CallSession

__all__ = ["ActivityFactory", "ActivityWriter", "BranchRuntime", "CallServer"]

log = logging.getLogger(__name__)

_SECRET_TTL = 5.0  # seconds a looked-up token is trusted before the keyring is asked again
_MAX_NOTE = 8000


class ActivityWriter(Protocol):
    """What the server needs from the CRM logging side."""

    def __call__(self, event: CallEvent, call: Call) -> None:
        """CallManager observer: record the call's activity (durably, exactly once)."""

    async def set_notes(self, call: Call, text: str, author: str) -> bool:
        """The agent's notes for *call* (the whole text); False if the call has no activity."""

    async def link(self, call: Call, table: str, record_id: str) -> bool:
        """Set the activity's regarding record (the agent's pick, or a conversion — IN11)."""

    def pending(self) -> int:
        """CRM writes not yet confirmed (queued on disk)."""

    async def flush(self, timeout: float) -> int:
        """Try to send what is queued within *timeout* seconds; return what is still queued."""

    async def close(self) -> None: ...


#: ``factory(config, owner_for) → ActivityWriter``; ``owner_for(call)`` is a systemuserid or None.
ActivityFactory = Callable[[ServerConfig, Callable[[Call], str | None]], Awaitable[ActivityWriter]]


def _rejected(activity: ActivityWriter | None) -> int | None:
    count = getattr(activity, "rejected", None)
    return int(count()) if callable(count) else None


#: ``recall(call_id) → (started_at, answered_at)`` of a call logged before a restart, or None.
Recall = Callable[[str], "tuple[datetime, datetime | None] | None"]


class _BranchListener:
    """Stamps a branch's events with its namespace before they reach that branch's manager."""

    def __init__(
        self,
        runtime: BranchRuntime,
        recall: Recall | None = None,
        book: LegBook | None = None,
        on_status: Callable[[BranchRuntime, ProviderStatus], None] | None = None,
    ) -> None:
        self._runtime = runtime
        self._prefix = runtime.branch.name + "/"
        self._inner = runtime.manager.listener(runtime.branch.provider)
        self._recall = recall
        self._book = book
        self._on_status = on_status
        self._logged: Registration | None = None  # the registration the log last reported

    def call_event(self, event: ProviderEvent) -> None:
        # A shallow copy with the namespaced id: dataclasses.replace would re-run the validation
        # and text cleaning the provider's event already went through (measurable at 1,000 calls/s).
        stamped = copy.copy(event)
        object.__setattr__(stamped, "call_id", self._prefix + event.call_id)
        if not (
            self._recall is not None
            and event.event is CallEvent.ANSWERED
            and event.direction is not None
            and self._runtime.manager.get(stamped.call_id) is None
            and self._resume(stamped, event.direction)
        ):
            self._inner.call_event(stamped)
        # after the activity's write: a kill between the two leaves a leg the book calls live,
        # which the reconciliation completes — never one it calls ended with its activity open
        if self._book is not None:
            self._note(event, stamped.call_id)

    def _note(self, event: ProviderEvent, call_id: str) -> None:
        """What the live stream saw of the leg, for reconciliation with the PBX's CDR."""
        assert self._book is not None
        kind = event.event
        if kind not in (CallEvent.INCOMING, CallEvent.OUTGOING, CallEvent.ANSWERED, CallEvent.ENDED):
            return
        try:
            channel = ""
            if kind is not CallEvent.ENDED:  # (an ended call is gone from the provider)
                channel_of = getattr(self._runtime.provider, "channel_of", None)
                channel = (channel_of(event.call_id) if channel_of is not None else None) or ""
                if not channel and kind is not CallEvent.ANSWERED:
                    return
            self._book.note(self._runtime.branch.name, call_id, channel, kind, event.at or _now())
        except Exception:
            log.exception("could not note call %s for reconciliation", call_id)

    def _resume(self, event: ProviderEvent, direction: Direction) -> bool:
        """A connected call the PBX still had when we (re)started: if it was logged before the
        restart, rebuild it as it was (start and answer times) so it stays the same call."""
        assert self._recall is not None
        try:
            known = self._recall(event.call_id)
        except Exception:
            log.exception("could not look up call %s from before the restart", event.call_id)
            return False
        if known is None:
            return False
        started, answered = known
        first = CallEvent.INCOMING if direction is Direction.INCOMING else CallEvent.OUTGOING
        self._inner.call_event(
            ProviderEvent(
                first,
                event.call_id,
                direction=direction,
                remote=event.remote,
                remote_name=event.remote_name,
                line=event.line,
                dnis=event.dnis,
                extension=event.extension,
                variables=event.variables,
                at=started,
            )
        )
        self._inner.call_event(ProviderEvent(CallEvent.ANSWERED, event.call_id, at=answered or started))
        log.info(
            "call %s was live across the restart; resumed",
            event.call_id,
            extra={"event": "call_resumed", "call": event.call_id},
        )
        return True

    def status_changed(self, status: ProviderStatus) -> None:
        self._runtime.status = status
        # Logged when the branch's state changes, not at every status refresh (each phone's
        # registration arriving after the login is one), and a retry while the PBX is down
        # (connecting → offline again) is not news either.
        registration = status.registration
        retry = registration is Registration.CONNECTING and self._logged is not None
        if registration is not self._logged and not retry:
            self._logged = registration
            log.info(
                "branch %s is %s",
                self._runtime.branch.name,
                registration.value,
                extra={
                    "event": "branch_status",
                    "branch": self._runtime.branch.name,
                    "status": registration.value,
                    "detail": status.message,
                },
            )
        self._inner.status_changed(status)
        if self._on_status is not None:
            self._on_status(self._runtime, status)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(eq=False)
class BranchRuntime:
    branch: Branch
    #: The branch's call session: its number plan, its CallManager (IN12's lines, IN13).
    session: CallSession
    provider: Provider
    status: ProviderStatus
    starter: asyncio.Task[None] | None = None
    listener: ProviderListener | None = field(default=None, repr=False)
    #: When the PBX was last heard before the current gap (None: no gap to reconcile).
    gap_since: datetime | None = None
    reconciles: int = 0
    reconciling: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)  # one at a time
    pending: asyncio.Task[None] | None = field(default=None, repr=False)  # the gap's reconciliation
    online_at: float | None = None  # monotonic time the link came up
    losses: int = 0  # link losses so far
    ever_online: bool = False

    @property
    def manager(self) -> CallManager:
        return self.session.manager


class CallServer:
    def __init__(
        self,
        config: ServerConfig,
        *,
        registry: ProviderRegistry,
        activity: ActivityFactory | None = None,
        secret: Callable[[str], str | None] = get_secret,
    ) -> None:
        self.config = config
        self._registry = registry
        self._activity_factory = activity
        self._secret_source = secret
        self._secrets: dict[str, tuple[float, str | None]] = {}
        self.activity: ActivityWriter | None = None
        self.branches: dict[str, BranchRuntime] = {}
        self.hub = Hub(
            seats=config.seats,
            heartbeat_timeout=config.heartbeat_timeout,
            authenticate=self.authenticate,
            welcome=self._welcome,
            handle=self._handle,
            http=self._http,
        )
        self.address: tuple[str, int] | None = None
        self._started = time.monotonic()
        self._stopping = False
        self.book: LegBook | None = None
        #: Seconds between a PBX link coming (back) up and reading its CDR for the gap: the
        #: provider's own resynchronisation (CoreShowChannels) settles the live calls first.
        self.reconcile_delay = 1.0
        #: Seconds between checks of the recent CDR rows against the calls logged live (their
        #: answer and end times: a call adopted after a restart or a lost link has no exact answer
        #: time on AMI). 0 = never.
        self.cdr_check_seconds = 5.0
        self._tasks: set[asyncio.Task[Any]] = set()
        self.reconciled: list[ReconcileResult] = []

    # ----------------------------------------------------------------------------- lifecycle
    async def start(self) -> tuple[str, int]:
        """Open the CRM logger, connect every branch's PBX, and listen for desktops."""
        if self._activity_factory is not None:
            self.activity = await self._activity_factory(self.config, self.owner_for)
        book = getattr(self.activity, "legs", None)
        self.book = book if isinstance(book, LegBook) else None
        for branch in self.config.branches:
            session = CallSession.for_plan(branch.plan, branch.dnis_lines, registry=self._registry)
            provider = self._registry.create(
                branch.provider, session.provider_options(self.provider_options(branch))
            )
            runtime = BranchRuntime(
                branch=branch,
                session=session,
                provider=provider,
                status=ProviderStatus(branch.name, Registration.CONNECTING, message="connecting"),
            )
            runtime.manager.subscribe(self._observer_for(branch.name))
            if self.book is not None:
                runtime.gap_since = self.book.last_heard(branch.name)  # down since then (a restart)
            runtime.listener = _BranchListener(
                runtime, getattr(self.activity, "recall", None), self.book, self._branch_status
            )
            self.branches[branch.name] = runtime
        if self.book is not None:
            self._spawn(self._heartbeat(self.book))
        self.address = await self.hub.start(self.config.host, self.config.port, self.config.ssl_context())
        for runtime in self.branches.values():
            runtime.starter = asyncio.get_running_loop().create_task(self._start_branch(runtime))
        # Give the PBX logins a moment so `started` means "listening and (probably) connected".
        starters = [r.starter for r in self.branches.values() if r.starter is not None]
        if starters:
            await asyncio.wait(starters, timeout=5.0)
        log.info(
            "callsys server listening on %s:%d",
            *self.address,
            extra={
                "event": "started",
                "host": self.address[0],
                "port": self.address[1],
                "version": __version__,
            },
        )
        return self.address

    def provider_options(self, branch: Branch) -> dict[str, Any]:
        """The branch's provider options with its PBX secret fetched from the keyring (never in
        the file) and server-mode defaults: watch every extension. The branch's session adds its
        number plan: a caller ID reads as the branch's country does (SET6)."""
        options = dict(branch.options)
        secret_name = str(options.pop("secret_name", f"{branch.provider}/{branch.name}"))
        if not options.get("secret"):
            secret = self._secret(secret_name)
            if secret:
                options["secret"] = secret
        options.setdefault("extensions", [ALL])
        return options

    async def _start_branch(self, runtime: BranchRuntime) -> None:
        delay = 1.0
        assert runtime.listener is not None
        while not self._stopping:
            try:
                await runtime.provider.start(runtime.listener)
                return
            except (ProviderError, OSError) as exc:
                runtime.status = ProviderStatus(runtime.branch.name, Registration.OFFLINE, message=str(exc))
                log.warning(
                    "branch %s: cannot connect to the PBX (%s); retrying in %.0f s",
                    runtime.branch.name,
                    exc,
                    delay,
                    extra={"event": "branch_start_failed", "branch": runtime.branch.name},
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    # ----------------------------------------------------------------------------- gaps
    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _heartbeat(self, book: LegBook) -> None:
        """Note once a second that each connected PBX was heard: after a crash or a lost link,
        the gap to reconcile starts there."""
        book.purge(_now() - timedelta(days=7))
        # the first check soon after the start: a node that takes over often may not last long
        checked = time.monotonic() - self.cdr_check_seconds + 2.0
        while not self._stopping:
            now = _now()
            check = bool(self.cdr_check_seconds) and time.monotonic() - checked >= self.cdr_check_seconds
            for runtime in self.branches.values():
                online = runtime.status.registration is Registration.ONLINE
                if online and runtime.gap_since is not None:
                    self._after_gap(runtime)
                if online and runtime.gap_since is None:
                    try:
                        book.heard(runtime.branch.name, now)
                    except Exception:
                        log.exception("could not note that branch %s was heard", runtime.branch.name)
                    if check and runtime.branch.cdr_path is not None and self.activity is not None:
                        self._spawn(self._reconcile(runtime, now - timedelta(seconds=60), seen_only=True))
            if check:
                checked = time.monotonic()
            await asyncio.sleep(1.0)

    def _branch_status(self, runtime: BranchRuntime, status: ProviderStatus) -> None:
        """A gap begins when the link goes; it ends only once it is reconciled (until then the PBX
        is not noted as heard, so a node that dies meanwhile leaves the whole gap to the next)."""
        if self.book is None or self._stopping:
            return
        if status.registration is Registration.ONLINE:
            if runtime.online_at is None:
                runtime.online_at = time.monotonic()
            runtime.ever_online = True
            self._after_gap(runtime)
        elif runtime.ever_online:  # (connecting at start is not a loss)
            runtime.online_at = None
            runtime.losses += 1
            if runtime.gap_since is None:
                runtime.gap_since = self.book.last_heard(runtime.branch.name) or _now()

    def _after_gap(self, runtime: BranchRuntime) -> None:
        if runtime.gap_since is None or runtime.pending is not None:
            return
        if runtime.branch.cdr_path is None or self.activity is None:
            runtime.gap_since = None  # nothing to read: the gap is over
            return
        runtime.pending = asyncio.get_running_loop().create_task(self._close_gap(runtime))
        self._tasks.add(runtime.pending)
        runtime.pending.add_done_callback(self._tasks.discard)

    async def _close_gap(self, runtime: BranchRuntime) -> None:
        """Once the link has been up ``reconcile_delay`` (the provider's resynchronisation has
        settled the live calls), reconcile the gap; it is closed if no new loss came meanwhile."""
        try:
            while runtime.gap_since is not None and not self._stopping:
                if runtime.online_at is None:
                    return  # down again: the next (re)connect carries on
                wait = runtime.online_at + self.reconcile_delay - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                    continue
                losses, since = runtime.losses, runtime.gap_since
                if await self._reconcile(runtime, since) and runtime.losses == losses:
                    runtime.gap_since = None
                    if self.book is not None:
                        self.book.heard(runtime.branch.name, _now())
                    return
                if runtime.losses == losses:
                    await asyncio.sleep(1.0)  # failed (the CDR file unreadable…): again
        finally:
            runtime.pending = None

    async def _reconcile(self, runtime: BranchRuntime, since: datetime, *, seen_only: bool = False) -> bool:
        """Log the calls that ended while the branch's PBX was out of sight (a crash, a lost link),
        from its CDR. With *seen_only* (the periodic check): only put right the times of calls
        logged live. False if it could not be done."""
        path, branch, book = runtime.branch.cdr_path, runtime.branch, self.book
        assert path is not None and self.activity is not None and book is not None
        since -= timedelta(seconds=2)  # heard at most a second before; CDR times are whole seconds
        try:
            async with runtime.reconciling:
                result = await self._reconcile_rows(runtime, book, since, seen_only)
        except Exception:
            log.exception("reconciling branch %s from its CDR failed", branch.name)
            return False
        runtime.reconciles += 1
        self.reconciled.append(result)
        if seen_only and not result.corrected:
            return True
        log.info(
            "branch %s: %d call(s) that ended out of sight logged from the CDR, %d completed, %d corrected",
            branch.name,
            result.logged,
            result.completed,
            result.corrected,
            extra={
                "event": "reconciled",
                "branch": branch.name,
                "since": since.isoformat(),
                "cdr_rows": result.rows,
                "logged": result.logged,
                "completed": result.completed,
                "corrected": result.corrected,
                "known": result.known,
            },
        )
        return True

    async def _reconcile_rows(
        self, runtime: BranchRuntime, book: LegBook, since: datetime, seen_only: bool
    ) -> ReconcileResult:
        branch = runtime.branch
        assert branch.cdr_path is not None and self.activity is not None
        rows = await asyncio.to_thread(read_master_csv, branch.cdr_path, since)
        watched = branch.options.get("extensions", [ALL])
        wanted = {str(e) for e in watched} if isinstance(watched, list | tuple) else {ALL}
        reconciler = Reconciler(
            branch.name,
            book,
            self.activity,
            branch.plan,
            dnis_lines=branch.dnis_lines,
            watches=lambda ext: ext in wanted or (ALL in wanted and ext.isdigit()),
            correct=getattr(self.activity, "correct", None),
            started_of=getattr(self.activity, "started_of", None),
        )
        return await reconciler.reconcile_async(rows, since, seen_only=seen_only)

    async def stop(self) -> int:
        """Graceful shutdown: tell desktops, stop the PBX links, flush what the CRM takes within
        ``drain_seconds``; whatever is left stays queued on disk. Returns that number."""
        self._stopping = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.hub.close()
        for runtime in self.branches.values():
            if runtime.starter is not None and not runtime.starter.done():
                runtime.starter.cancel()
                await asyncio.gather(runtime.starter, return_exceptions=True)
            try:
                await runtime.provider.close()
            except Exception:
                log.exception("closing branch %s failed", runtime.branch.name)
        remaining = 0
        if self.activity is not None:
            try:
                remaining = await self.activity.flush(self.config.drain_seconds)
            except Exception:
                log.exception("flushing the CRM queue failed; it stays on disk")
                remaining = self.activity.pending()
            await self.activity.close()
        log.info(
            "callsys server stopped; %d CRM writes stay queued on disk",
            remaining,
            extra={"event": "stopped", "queued": remaining},
        )
        return remaining

    # ----------------------------------------------------------------------------- the core
    def _observe(self, branch: str, event: CallEvent, call: Call) -> None:
        self.hub.push(event, call, branch)
        if self.activity is not None:
            self.activity(event, call)

    def _observer_for(self, branch: str) -> Callable[[CallEvent, Call], None]:
        def observe(event: CallEvent, call: Call) -> None:
            self._observe(branch, event, call)

        return observe

    def owner_for(self, call: Call) -> str | None:
        """The Dynamics user whose queue *call*'s activity lands in (IN14), by extension."""
        branch, _ = split_call_id(call.id)
        users = self.config.users
        return users.get(f"{branch}/{call.extension}") or users.get(call.extension)

    def live_calls(self) -> list[Call]:
        return [c for r in self.branches.values() for c in r.manager.live_calls()]

    def find_call(self, call_id: str) -> tuple[BranchRuntime, Call] | None:
        branch, _ = split_call_id(call_id)
        runtime = self.branches.get(branch)
        if runtime is None:
            return None
        call = runtime.manager.get(call_id)
        return (runtime, call) if call is not None else None

    # ----------------------------------------------------------------------------- auth
    def _secret(self, name: str) -> str | None:
        now = time.monotonic()
        cached = self._secrets.get(name)
        if cached is not None and now - cached[0] < _SECRET_TTL:
            return cached[1]
        try:
            value = self._secret_source(name) or None
        except SecretStoreError as exc:
            log.error("cannot read the secret %s: %s", name, exc)
            value = None
        self._secrets[name] = (now, value)
        return value

    def authenticate(self, hello: Mapping[str, Any]) -> Identity:
        token = hello.get("token")
        agent = hello.get("agent")
        if not isinstance(token, str) or not token:
            raise PermissionError("Authentication required: this server needs a token.")
        if not isinstance(agent, str) or not agent or len(agent) > 40:
            raise PermissionError("Authentication required: tell the server which agent you are.")
        configured = self.config.agents.get(agent)
        own = self._secret(agent_secret_name(agent)) if configured is not None else None
        shared = self._secret(SHARED_SECRET)
        # Both comparisons always run, so timing does not say which secret exists.
        own_ok = constant_time_equal(token, own or "\0" * len(token)) and own is not None
        shared_ok = constant_time_equal(token, shared or "\0" * len(token)) and shared is not None
        if not (own_ok or shared_ok):
            raise PermissionError("The token was not accepted (wrong token or unknown agent).")
        if configured is not None:
            return Identity(
                agent=agent, branch=configured.branch, extensions=frozenset(configured.extensions)
            )
        exts = hello.get("extensions", [])
        if not isinstance(exts, list) or not exts or len(exts) > 50:
            raise PermissionError("Tell the server which extensions this desktop answers (1 to 50).")
        clean = {str(e) for e in exts if isinstance(e, str) and (e == ALL or (e.isascii() and e.isdigit()))}
        if len(clean) != len(exts):
            raise PermissionError("Extensions are digits, such as 1001.")
        branch = hello.get("branch") or (self.config.branches[0].name if self.config.branches else "")
        if not isinstance(branch, str) or branch not in self.branches:
            raise PermissionError(f"There is no branch {branch!r} on this server.")
        return Identity(agent=agent, branch=branch, extensions=frozenset(clean))

    # ----------------------------------------------------------------------------- desktops
    def _welcome(self, identity: Identity) -> dict[str, Any]:
        runtime = self.branches.get(identity.branch)
        if runtime is None:
            return {"settings": {}, "capabilities": [], "lines": [], "calls": []}
        caps = sorted(c.value for c in runtime.provider.capabilities if c is not Capability.ALL_EXTENSIONS)
        calls = [
            call_to_wire(c)
            for c in runtime.manager.live_calls()
            if ALL in identity.extensions or c.extension in identity.extensions
        ]
        users = {
            ext: self.config.users.get(f"{identity.branch}/{ext}") or self.config.users.get(ext)
            for ext in identity.extensions
        }
        return {
            "settings": runtime.branch.shared_settings(),
            "capabilities": caps,
            "lines": [{"id": line.id, "label": line.label} for line in runtime.provider.lines()],
            "calls": calls,
            "activity_owner": "server" if self.activity is not None else "desktop",
            "dynamics_users": {k: v for k, v in users.items() if v},
            "status": runtime.status.registration.value,
        }

    def _visible_call(self, session: Session, call_id: object) -> tuple[BranchRuntime, Call]:
        found = self.find_call(call_id) if isinstance(call_id, str) else None
        if found is None or not session.sees(split_call_id(found[1].id)[0], found[1].extension):
            raise UnknownCall(f"There is no call {call_id} any more.")
        return found

    async def _handle(self, session: Session, message: Mapping[str, Any]) -> Any:
        kind = message["type"]
        args = message.get("args") if isinstance(message.get("args"), dict) else {}
        assert isinstance(args, dict)
        if kind in ("note", "link"):
            _, call = self._visible_call(session, message.get("call"))
            if self.activity is None:
                raise NotSupported("This server does not log calls to the CRM.")
            if kind == "note":
                text = message.get("text")
                if not isinstance(text, str):
                    raise CallsysError("Notes are text.")
                done = await self.activity.set_notes(call, text[:_MAX_NOTE], session.identity.agent)
            else:
                table, record = message.get("table"), message.get("record")
                if not isinstance(table, str) or not isinstance(record, str) or not record:
                    raise CallsysError("Say which record the call is about.")
                done = await self.activity.link(call, table, record)
            if not done:
                raise CallsysError("This call has no CRM activity (not logged, or not answered yet).")
            return None
        if kind != "command":
            raise NotSupported(f"The server does not know {kind!r}.")
        op = message.get("op")
        home = self.branches.get(session.identity.branch)
        if home is None:
            raise ProviderError("Your branch is not configured on this server.")
        provider = home.provider
        if op == "dial":
            require(provider, Capability.DIAL)
            number = args.get("number")
            if not isinstance(number, str) or not number:
                raise ProviderError("There is no number to dial.")
            line = args.get("line") if isinstance(args.get("line"), str) else None
            extension = args.get("extension")
            mine = sorted(e for e in session.identity.extensions if e != ALL)
            if not isinstance(extension, str) or not extension:
                if not mine:
                    raise ProviderError("Say which extension should place the call.")
                extension = mine[0]
            elif extension not in session.identity.extensions and ALL not in session.identity.extensions:
                raise ProviderError(f"Extension {extension} is not yours.")
            # A PBX link that sees every extension needs to be told which one places the call;
            # a single-extension provider (the simulator) dials from its own.
            dial_as = getattr(provider, "dial_as", None)
            if dial_as is not None:
                local_id = str(await dial_as(extension, number, line))
            elif Capability.ALL_EXTENSIONS in provider.capabilities:
                # The AMI provider takes a watched extension as the line to ring first; a line
                # choice (SET4) on top needs the provider's dial_as (not there yet).
                local_id = await provider.dial(number, extension)
            else:
                local_id = await provider.dial(number, line)
            return f"{home.branch.name}/{local_id}"
        simple: dict[str, tuple[Capability, str]] = {
            "answer": (Capability.ANSWER, "answer"),
            "reject": (Capability.REJECT, "reject"),
            "send_to_voicemail": (Capability.VOICEMAIL, "send_to_voicemail"),
            "hangup": (Capability.HANGUP, "hangup"),
            "hold": (Capability.HOLD, "hold"),
            "resume": (Capability.HOLD, "resume"),
        }
        if op in simple:
            cap, method = simple[op]
            runtime, call = self._visible_call(session, args.get("call"))
            require(runtime.provider, cap)
            await getattr(runtime.provider, method)(split_call_id(call.id)[1])
            return None
        if op == "transfer":
            runtime, call = self._visible_call(session, args.get("call"))
            require(runtime.provider, Capability.TRANSFER)
            target = args.get("target")
            if not isinstance(target, str) or not target:
                raise ProviderError("Say where to transfer the call.")
            await runtime.provider.transfer(split_call_id(call.id)[1], target)
            return None
        if op == "send_dtmf":
            runtime, call = self._visible_call(session, args.get("call"))
            require(runtime.provider, Capability.DTMF)
            await runtime.provider.send_dtmf(split_call_id(call.id)[1], str(args.get("digits", "")))
            return None
        raise NotSupported(f"The server cannot {op!r}.")

    # ----------------------------------------------------------------------------- HTTP
    def health(self) -> tuple[int, dict[str, Any]]:
        branches = [
            {
                "name": name,
                "status": r.status.registration.value,
                "message": r.status.message,
                "live_calls": len(r.manager),
            }
            for name, r in self.branches.items()
        ]
        healthy = all(b["status"] == Registration.ONLINE.value for b in branches) and not self._stopping
        body: dict[str, Any] = {
            "status": "ok" if healthy else "degraded",
            "version": __version__,
            "uptime_seconds": round(time.monotonic() - self._started, 1),
            "seats": {"used": len(self.hub.sessions), "limit": self.config.seats},
            "branches": branches,
            "refused": {str(k): v for k, v in self.hub.refused.items()},
            "crm_queue": self.activity.pending() if self.activity is not None else None,
            "crm_rejected": _rejected(self.activity),
        }
        return (200 if healthy else 503), body

    def _http(self, request: Request) -> tuple[int, Any] | None:
        url = urlsplit(request.path)
        if url.path in ("/health", "/healthz"):
            return self.health()
        if url.path == "/update/manifest.json":
            return self._manifest()
        if url.path in ("/settings", LAYER_PATH):
            auth = request.headers.get("Authorization", "")
            token = auth[7:] if auth.lower().startswith("bearer ") else ""
            agent = request.headers.get("X-Callsys-Agent", "")
            query = parse_qs(url.query)
            hello = {
                "token": token,
                "agent": agent,
                "branch": (query.get("branch") or [""])[0],
                "extensions": query.get("extension") or [],
            }
            try:
                identity = self.authenticate(hello)
            except PermissionError as exc:
                return 401, {"error": str(exc)}
            if url.path == LAYER_PATH:
                return self._pushed_layer(identity)
            found = self.branches.get(identity.branch)
            return 200, found.branch.shared_settings() if found else {}
        return None

    def _pushed_layer(self, identity: Identity) -> tuple[int, Any]:
        """The organisation's settings layer for an authenticated desktop (``server.pushed_settings``,
        read at each request so an edit needs no restart)."""
        path = self.config.pushed_settings
        if path is None:
            return 200, {"values": {}, "locked": [], "version": ""}
        try:
            doc = read_pushed(path)
        except ConfigError as exc:
            log.error("cannot serve the pushed settings: %s", exc)
            return 503, {"error": "The server's settings for desktops cannot be read (see its log)."}
        log.info(
            "settings layer sent to %s",
            identity.agent,
            extra={"event": "settings_pushed", "agent": identity.agent, "version": doc["version"]},
        )
        doc.pop("warnings", None)
        return 200, doc

    def _manifest(self) -> tuple[int, Any]:
        path = self.config.update_manifest
        if path is None:
            return 404, {"error": "This server publishes no updates."}
        try:
            return 200, json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.error("cannot read the update manifest %s: %s", path, exc)
            return 503, {"error": "The update manifest cannot be read."}
