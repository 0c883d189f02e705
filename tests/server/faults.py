"""The fault run behind ``benchmarks/server_faults.py`` and ``tests/server/test_faults.py``.

A synthetic Asterisk (``Pbx``) plays copies of the captured calls (``02_internal_answered``,
``04_internal_unanswered_caller_cancel``: every frame as Asterisk sent it, with each call's own
extensions, channels and unique ids) at a steady rate and in real time — ring, answer, talk, hang
up — to whichever server node is logged in, answers ``CoreShowChannels`` with the calls live at that
moment, and writes each call's CDR row to ``Master.csv`` (cdr_csv's format) when it ends. Two real
``callsys server`` processes share a throwaway PostgreSQL; the leader is ``kill -9``'d every few
seconds (and restarted as a standby), the leader's AMI link is cut at random, and afterwards the
Dataverse fake must hold exactly one activity per call leg, with the right state and talk time
(± 1 s), none left open.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import itertools
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from providers.ami.protocol import parse_frame
from tests.ami.fakeami import FakeAmi, Session, Transcript
from tests.dataverse_fake import DataverseFake

from .e2e import Node, Rig, ServerProcess
from .pgcluster import cluster


@dataclass
class _Template:
    phases: list[str]  # the frames of each phase, as text
    caller: tuple[str, str]  # (uniqueid, channel)
    callee: tuple[str, str]
    banner: bytes
    login: list[bytes]
    sent: list[Any]


_TIMESTAMP = re.compile(r"Timestamp: [^\r]*\r\n")


def _template(name: str, *cuts: str) -> _Template:
    """*name*'s call, from its first Newchannel to the end, in phases: a new phase starts at each
    frame *cuts* names (``"Newstate:6:SIP/1001"`` or ``"HangupRequest"``). Timestamps go: the
    calls are played in real time and the nodes use their own clock."""
    t = Transcript.load(name)
    bounds = [t.frames_until(lambda m: m.event == "Newchannel")]
    for cut in cuts:
        event, _, rest = cut.partition(":")
        state, _, prefix = rest.partition(":")
        bounds.append(
            t.frames_until(
                lambda m, e=event, s=state, p=prefix: (
                    m.event == e  # type: ignore[misc]
                    and (not s or m.get("ChannelState") == s)
                    and m.get("Channel").startswith(p)
                )
            )
        )
    end = t.frames_until(lambda m: m.response == "Goodbye")
    bounds.append(end)
    phases = [
        _TIMESTAMP.sub("Timestamp: {now}\r\n", b"".join(t.frames[a:b]).decode())
        for a, b in itertools.pairwise(bounds)
    ]
    chans = []
    for raw in t.frames[bounds[0] : end]:
        msg = parse_frame(raw.decode())
        if msg is not None and msg.event == "Newchannel":
            chans.append((msg.get("Uniqueid"), msg.get("Channel")))
    return _Template(phases, chans[0], chans[1], t.banner, [t.frames[0]], t.sent)


@dataclass
class CallPlan:
    index: int
    caller: str
    callee: str
    answered: bool
    ring: float
    talk: float
    started: float = 0.0
    answer_at: float = 0.0
    ended_at: float = 0.0


class Pbx:
    """A synthetic Asterisk: a FakeAmi that plays calls live to the logged-in node."""

    def __init__(self, cdr: Path) -> None:
        self.cdr = cdr
        self.cdr.write_text("", encoding="utf-8")
        # ring until the callee's phone goes Up, talk until the HangupRequest, then hang up
        self.answered = _template("02_internal_answered", "Newstate:6:SIP/1001", "HangupRequest")
        self.unanswered = _template("04_internal_unanswered_caller_cancel", "HangupRequest")
        self.ami = FakeAmi()
        self.live: dict[str, dict[str, Any]] = {}  # uniqueid → channel item (without Duration)
        self.created: dict[str, float] = {}
        self.channels = _LiveChannels(self)
        self.base = int(time.time())
        self.seq = 0
        self.logins: list[float] = []  # when a node logged in (monotonic)
        self.cuts = 0

    async def __aenter__(self) -> Pbx:
        await self.ami.__aenter__()
        self._more_sessions(50)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ami.close()

    def _more_sessions(self, n: int) -> None:
        t = self.answered
        for _ in range(n):
            self.ami.add(
                Session(
                    frames=list(t.login), banner=t.banner, sent=t.sent, login_response=False, keep_open=True,
                    channels=self.channels,
                )
            )  # fmt: skip

    def _conns(self) -> list[Any]:
        if len(self.ami.sessions) - len(self.ami.conns) < 10:
            self._more_sessions(50)
        return [c for c in self.ami.conns if c.login_ok and not c.closed and not c.writer.is_closing()]

    def broadcast(self, text: str) -> None:
        """Send *text* to every logged-in node now, stamped now (``timestampevents = yes``)."""
        data = text.replace("{now}", f"{time.time():.6f}").encode()
        for conn in self._conns():
            conn.write(data)

    def cut(self) -> int:
        """Drop the link of every logged-in node (a cut cable)."""
        conns = self._conns()
        for conn in conns:
            conn.writer.close()
        self.cuts += bool(conns)
        return len(conns)

    def _rewrite(
        self, text: str, t: _Template, plan: CallPlan, uids: tuple[str, str], names: tuple[str, str]
    ) -> str:
        # ids and channel names to placeholders first: the extensions' digits must not touch them
        # (a unique id such as 1796617115.1001 holds "1001")
        out = (
            text.replace(t.caller[0] + "\r\n", "@U0@\r\n")
            .replace(t.callee[0] + "\r\n", "@U1@\r\n")
            .replace(t.caller[1], "@C0@")
            .replace(t.callee[1], "@C1@")
            .replace("1002", plan.caller)
            .replace("1001", plan.callee)
        )
        for mark, value in (("@U0@", uids[0]), ("@U1@", uids[1]), ("@C0@", names[0]), ("@C1@", names[1])):
            out = out.replace(mark, value)
        return out

    def _item(
        self, uid: str, name: str, num: str, other: str, linked: str, state: str, exten: str
    ) -> dict[str, str]:
        desc = {"4": "Ring", "5": "Ringing", "6": "Up"}[state]
        return {
            "Channel": name, "ChannelState": state, "ChannelStateDesc": desc, "CallerIDNum": num,
            "CallerIDName": "", "ConnectedLineNum": other, "ConnectedLineName": "", "Exten": exten,
            "Context": "internal", "Uniqueid": uid, "Linkedid": linked,
            "BridgeId": f"b-{linked}" if state == "6" else "",
        }  # fmt: skip

    async def call(self, plan: CallPlan) -> None:
        t = self.answered if plan.answered else self.unanswered
        self.seq += 2
        uids = (f"{self.base}.{self.seq}", f"{self.base}.{self.seq + 1}")
        names = (f"SIP/{plan.caller}-{self.seq:08x}", f"SIP/{plan.callee}-{self.seq + 1:08x}")
        phases = [self._rewrite(p, t, plan, uids, names) for p in t.phases]
        plan.started = time.time()
        self.created[uids[0]] = self.created[uids[1]] = plan.started
        self.live[uids[0]] = self._item(
            uids[0], names[0], plan.caller, plan.callee, uids[0], "4", plan.callee
        )
        self.live[uids[1]] = self._item(uids[1], names[1], plan.callee, plan.caller, uids[0], "5", "")
        self.broadcast(phases[0])
        await asyncio.sleep(plan.ring)
        answer: float | None = None
        if plan.answered:
            answer = plan.answer_at = time.time()
            for uid in uids:
                self.live[uid] = {
                    **self.live[uid],
                    "ChannelState": "6",
                    "ChannelStateDesc": "Up",
                    "BridgeId": f"b-{uids[0]}",
                }
            self.broadcast(phases[1])
            await asyncio.sleep(plan.talk)
        plan.ended_at = time.time()
        for uid in uids:
            self.live.pop(uid, None)
        self.broadcast(phases[-1])
        self._cdr(plan, uids[0], names, answer)

    def _cdr(self, plan: CallPlan, uid: str, names: tuple[str, str], answer: float | None) -> None:
        def stamp(at: float) -> str:
            return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")

        start, end = int(plan.started), int(plan.ended_at)
        row = [
            "", plan.caller, plan.callee, "internal", f'"" <{plan.caller}>', names[0], names[1], "Dial",
            f"SIP/{plan.callee},30", stamp(plan.started), stamp(answer) if answer else "", stamp(plan.ended_at),
            str(end - start), str(end - int(answer)) if answer else "0",
            "ANSWERED" if answer else "NO ANSWER", "DOCUMENTATION", uid, "",
        ]  # fmt: skip
        out = io.StringIO()
        csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow(row)
        with self.cdr.open("a", encoding="utf-8") as handle:  # Asterisk: open, append, close
            handle.write(out.getvalue())


class _LiveChannels:
    """``CoreShowChannels`` as of the moment it is asked (with each channel's ``Duration``)."""

    def __init__(self, pbx: Pbx) -> None:
        self.pbx = pbx

    def _items(self) -> list[dict[str, str]]:
        now = time.time()
        out = []
        for uid, item in list(self.pbx.live.items()):
            age = int(now - self.pbx.created.get(uid, now))
            out.append({**item, "Duration": f"{age // 3600:02d}:{age // 60 % 60:02d}:{age % 60:02d}"})
        return out

    def __iter__(self) -> Any:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self.pbx.live)

    def __getitem__(self, index: int) -> dict[str, str]:
        return self._items()[index]


@dataclass
class Figures:
    calls: int = 0
    legs: int = 0
    activities: int = 0
    duplicates: int = 0
    missing: int = 0
    wrong_durations: int = 0
    wrong_states: int = 0
    open: int = 0
    takeovers: int = 0
    takeover_times: list[float] = field(default_factory=list)
    relogin_times: list[float] = field(default_factory=list)
    no_relogin: int = 0  # takeovers after which the new leader did not log in to the PBX in 60 s
    link_cuts: int = 0
    reconciled: int = 0
    seconds: float = 0.0

    @property
    def max_takeover(self) -> float:
        return max(self.takeover_times, default=0.0)

    def ok(self) -> bool:
        return not (
            self.duplicates
            or self.missing
            or self.wrong_durations
            or self.wrong_states
            or self.open
            or self.no_relogin
        )


MADE, RECEIVED, CANCELED = (1, 2), (1, 4), (2, 3)


def _clock(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%H:%M:%S.%f")[:-3]


def check(plans: list[CallPlan], rows: list[dict[str, Any]], figures: Figures) -> list[str]:
    """Compare the CRM's phone calls with the calls played. Returns what is wrong, one line each."""
    problems: list[str] = []
    expected: dict[tuple[str, bool], tuple[CallPlan, tuple[int, int]]] = {}
    for plan in plans:
        outgoing_state = MADE if plan.answered else CANCELED
        incoming_state = RECEIVED if plan.answered else CANCELED
        expected[(plan.callee, True)] = (plan, outgoing_state)  # the caller's activity: the callee's number
        expected[(plan.caller, False)] = (plan, incoming_state)
    seen: Counter[tuple[str, bool]] = Counter()
    for row in rows:
        number = re.sub(r"\D", "", str(row.get("phonenumber") or ""))[-5:]
        key = (number, bool(row.get("directioncode")))
        seen[key] += 1
        if key not in expected:
            problems.append(f"an activity for no call: {row.get('subject')}")
            figures.duplicates += 1
            continue
        plan, state = expected[key]
        got = (row.get("statecode"), row.get("statuscode"))
        if got[0] == 0:
            figures.open += 1
            problems.append(f"call {plan.index} {key}: left open")
        elif got != state:
            figures.wrong_states += 1
            problems.append(f"call {plan.index} {key}: state {got}, expected {state}")
        if plan.answered and got[0] != 0:
            found = re.search(r"\((\d+) s\)", str(row.get("description") or ""))
            talk = plan.ended_at - plan.answer_at
            if found is None or abs(int(found.group(1)) - talk) > 1.0:
                figures.wrong_durations += 1
                problems.append(
                    f"call {plan.index} {key}: talk {found.group(1) if found else '?'} s, played {talk:.2f} s "
                    f"(answered {_clock(plan.answer_at)}, ended {_clock(plan.ended_at)}; "
                    f"logged {row.get('actualstart')} – {row.get('actualend')})"
                )
    for key, n in seen.items():
        if n > 1 and key in expected:
            figures.duplicates += n - 1
            problems.append(f"call {expected[key][0].index} {key}: {n} activities")
    for key in expected:
        if key not in seen:
            figures.missing += 1
            problems.append(f"call {expected[key][0].index} {key}: no activity")
    figures.activities = len(rows)
    figures.legs = len(expected)
    return problems


async def run(
    tmp: Path,
    *,
    calls: int,
    rate: float,
    kill_every: float,
    cut_every: float,
    seed: int = 7,
    unanswered_share: float = 0.2,
    talk: tuple[float, float] = (2.0, 5.0),
    ring: tuple[float, float] = (0.5, 1.5),
    log: Any = None,
) -> tuple[Figures, list[str]]:
    """Play *calls* calls at *rate* per second while the leader is killed every *kill_every*
    seconds and the leader's PBX link is cut about every *cut_every* seconds (0 = never)."""
    rnd = random.Random(seed)
    say = log or (lambda *_: None)
    figures = Figures(calls=calls)
    fake = DataverseFake()
    users = {
        "1001": fake.add(
            "systemuser", {"firstname": "A", "lastname": "Agent", "internalemailaddress": "a@x.test"}
        )
    }
    began = time.monotonic()
    with cluster() as pg, fake.serve() as crm:
        async with Pbx(tmp / "Master.csv") as pbx:
            rig = Rig(tmp, fake, crm, pbx.ami, users, "", fake.issue_token())
            rig.extra_settings["server.database"] = pg.database("faults")
            rig.extra_settings["server.drain_seconds"] = 2
            rig.branch_options = {"backoff_initial": 0.02, "backoff_max": 0.2}
            rig.branch_extra = {"cdr": str(pbx.cdr)}
            nodes: dict[str, Node] = {}
            spawned: list[Node] = []  # every process started (their logs count the CDR's work)
            waiting: dict[str, asyncio.Future[ServerProcess]] = {}
            leader: dict[str, Any] = {}

            async def spawn(name: str) -> None:
                nodes[name] = await rig.spawn(name)
                spawned.append(nodes[name])
                waiting[name] = asyncio.ensure_future(nodes[name].listening(300))

            await spawn("a")
            leader["name"], leader["proc"] = "a", await waiting["a"]
            await spawn("b")
            stop = asyncio.Event()

            async def killer() -> None:
                while not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), kill_every)
                    if stop.is_set():
                        return
                    old = leader["name"]
                    other = "b" if old == "a" else "a"
                    logins = len(pbx.logins)
                    leader["relogin"] = True  # the login watcher goes on past the last call
                    killed = time.monotonic()
                    await leader["proc"].kill()
                    new = await waiting[other]
                    took = time.monotonic() - killed
                    figures.takeovers += 1
                    figures.takeover_times.append(took)
                    relogin_by = time.monotonic() + 60
                    while len(pbx.logins) == logins and time.monotonic() < relogin_by:
                        await asyncio.sleep(0.01)
                    if len(pbx.logins) == logins:
                        figures.no_relogin += 1  # the new leader never logged in to the PBX
                    else:
                        figures.relogin_times.append(pbx.logins[-1] - killed)
                    leader["relogin"] = False
                    say(f"takeover {figures.takeovers}: node {other} leads {took:.2f} s after the kill")
                    leader["name"], leader["proc"] = other, new
                    await spawn(old)  # the supervisor restarts the killed node: it stands by

            async def cutter() -> None:
                while cut_every > 0 and not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), rnd.uniform(0.5, 1.5) * cut_every)
                    if not stop.is_set() and pbx.cut():
                        figures.link_cuts += 1

            async def logins() -> None:
                counted: set[int] = set()  # each connection's login once, whenever it succeeds
                while not stop.is_set() or leader.get("relogin"):
                    for conn in list(pbx.ami.conns):
                        if conn.login_ok and id(conn) not in counted:
                            counted.add(id(conn))
                            pbx.logins.append(time.monotonic())
                    await asyncio.sleep(0.01)

            watchers = [asyncio.ensure_future(f()) for f in (killer, cutter, logins)]
            plans = [
                CallPlan(
                    index=i,
                    caller=f"{20000 + i}",
                    callee=f"{40000 + i}",
                    answered=rnd.random() >= unanswered_share,
                    ring=rnd.uniform(*ring),
                    talk=float(rnd.randint(int(talk[0]), int(talk[1]))),
                )
                for i in range(calls)
            ]
            playing = []
            t0 = time.monotonic()
            for i, plan in enumerate(plans):
                delay = t0 + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                playing.append(asyncio.ensure_future(pbx.call(plan)))
            await asyncio.gather(*playing)
            stop.set()
            await asyncio.gather(*watchers, return_exceptions=True)
            # let the last leader finish: every leg closed in the CRM, and nothing changed for
            # longer than the server's periodic CDR check (it puts right adopted calls' talk times)
            deadline = time.monotonic() + 180
            last: object = None
            quiet = time.monotonic()
            while time.monotonic() < deadline:
                rows = rig.phonecalls()
                closed = all(r.get("statecode") != 0 for r in rows)
                now_seen = sorted((str(r.get("activityid")), str(r.get("description"))) for r in rows)
                if now_seen != last or not closed:
                    last, quiet = now_seen, time.monotonic()
                elif time.monotonic() - quiet > 8.0 and len(rows) >= 2 * calls:
                    break
                await asyncio.sleep(0.2)
            figures.seconds = time.monotonic() - began
            figures.reconciled = sum(
                int(r.get("logged", 0)) + int(r.get("completed", 0)) + int(r.get("corrected", 0))
                for node in spawned
                for r in ServerProcess(node.proc, 0, node.log).log_records()
                if r.get("event") == "reconciled"
            )
            problems = check(plans, rig.phonecalls(), figures)
            if problems:  # what the nodes knew, for the post-mortem (next to their logs)
                import psycopg

                with psycopg.connect(str(rig.extra_settings["server.database"])) as conn:
                    dump = [
                        repr(r)
                        for table in ("pbx_legs", "activity_calls")
                        for r in conn.execute(f"SELECT * FROM {table}")  # type: ignore[arg-type]
                    ]
                (tmp / "state.txt").write_text("\n".join(dump), encoding="utf-8")
                (tmp / "crm.txt").write_text("\n".join(repr(r) for r in rig.phonecalls()), encoding="utf-8")
            with contextlib.suppress(Exception):
                await leader["proc"].stop(timeout=15)
            for name, node in nodes.items():
                waiting[name].cancel()
                if node.proc.returncode is None:
                    node.proc.kill()
                await node.proc.wait()
    return figures, problems
