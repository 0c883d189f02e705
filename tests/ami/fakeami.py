"""An in-memory-ish AMI server: asyncio streams on a free 127.0.0.1 port that replay the real
Asterisk 20 captures in ``transcripts/`` byte-exact.

Per accepted connection one ``Session`` script runs:

1. send the banner line, read the client's ``Login`` and compare it with the capture's
   ``sent/`` file (Username, Secret, ActionID, Events) — a wrong login gets
   ``Response: Error / Authentication failed``, as Asterisk answers;
2. write the captured frames in order, unchanged. A ``Response`` to one of the client's actions
   (``orig-1``, ``chans-1``, ``logoff-1`` …) is only written once the client has sent that action,
   and the action must match the captured one on ``Action`` and the headers in ``check``;
3. actions the capture does not contain (``Ping``, our resync's ``CoreShowChannels`` …) get a
   synthetic answer, written between two captured frames (never inside one);
4. optionally drop the link after ``drop_after`` frames (a cut cable / a crashed PBX).

The tests then assert what the provider derived from what it read.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from providers.ami.protocol import FrameParser, Message, parse_frame

TRANSCRIPTS = Path(__file__).with_name("transcripts")

SCENARIOS = (
    "01_register",
    "02_internal_answered",
    "03_internal_answered_callee_hangup",
    "04_internal_unanswered_caller_cancel",
    "05_internal_rejected_busy",
    "06_trunk_did_7000",
    "06_trunk_did_7001",
    "07_ivr_customer_id",
    "08_call_waiting_unanswered",
    "10_originate_click_to_dial",
    "12_queue_call",
    "13_ami_actions_status_hangup",
    "14_unregister",
    "15_register_after_unregister",
)


#: The channels Asterisk lists (``CoreShowChannels``) while both phones of ``02_internal_answered``
#: are talking: what a client that reconnects (or restarts) mid-call finds.
TALKING_02 = (
    {"Channel": "SIP/1002-00000000", "ChannelState": "6", "ChannelStateDesc": "Up", "CallerIDNum": "1002",
     "CallerIDName": "Bob", "ConnectedLineNum": "1001", "ConnectedLineName": "Alice", "Exten": "1001",
     "Context": "internal", "Uniqueid": "1795627114.0", "Linkedid": "1795627114.0", "BridgeId": "b-1"},
    {"Channel": "SIP/1001-00000001", "ChannelState": "6", "ChannelStateDesc": "Up", "CallerIDNum": "1001",
     "CallerIDName": "Alice", "ConnectedLineNum": "1002", "ConnectedLineName": "Bob", "Exten": "",
     "Context": "internal", "Uniqueid": "1795627114.1", "Linkedid": "1795627114.0", "BridgeId": "b-1"},
)  # fmt: skip


@dataclass
class Transcript:
    name: str
    banner: bytes
    frames: list[bytes]  # each ends with b"\r\n\r\n"; banner + frames == the file, byte for byte
    sent: list[Message]  # what the capturing client sent

    @classmethod
    def load(cls, name: str) -> Transcript:
        data = (TRANSCRIPTS / f"{name}.txt").read_bytes()
        cut = data.index(b"\r\n") + 2
        banner, rest = data[:cut], data[cut:]
        frames = [part + b"\r\n\r\n" for part in rest.split(b"\r\n\r\n") if part]
        sent_bytes = (TRANSCRIPTS / "sent" / f"{name}.sent.txt").read_bytes()
        sent = FrameParser().feed(sent_bytes)
        return cls(name, banner, frames, sent)

    @property
    def data(self) -> bytes:
        return self.banner + b"".join(self.frames)

    def frames_until(self, predicate: Callable[[Message], bool]) -> int:
        """Index of the first frame matching *predicate* (for cutting a capture in two)."""
        for i, raw in enumerate(self.frames):
            msg = parse_frame(raw.decode())
            if msg is not None and predicate(msg):
                return i
        raise LookupError("no such frame")


def frame(**headers: str) -> bytes:
    return ("".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()


def raw_frame(*pairs: tuple[str, str]) -> bytes:
    return ("".join(f"{k}: {v}\r\n" for k, v in pairs) + "\r\n").encode()


@dataclass
class Session:
    """The script for one TCP connection."""

    frames: list[bytes]
    banner: bytes = b"Asterisk Call Manager/9.0.0\r\n"
    sent: list[Message] = field(default_factory=list)
    username: str = "callsys"
    secret: str = "callsys"
    check: Mapping[str, Sequence[str]] = field(default_factory=dict)  # Action -> headers to compare
    drop_after: int | None = None  # close the link after writing this many frames
    keep_open: bool = False  # after the last frame, stay connected (answering pings) until closed
    channels: Sequence[Mapping[str, str]] = ()  # what a synthetic CoreShowChannels lists
    login_response: bool = True  # frames[0] is not the login response: write our own
    silent_pings: bool = False  # never answer Ping (a hung PBX)
    accept: Sequence[str] = ()  # actions (outside the capture) answered "Response: Success"
    devices: Mapping[str, str] = field(default_factory=dict)  # DeviceStateList: device -> state
    status: Mapping[str, Sequence[tuple[str, str]]] = field(
        default_factory=dict
    )  # Status: channel -> headers

    @classmethod
    def replay(
        cls, name: str, rewrite: Callable[[list[bytes]], list[bytes]] | None = None, **kwargs: object
    ) -> Session:
        t = Transcript.load(name)
        frames = rewrite(list(t.frames)) if rewrite is not None else list(t.frames)
        return cls(frames=frames, banner=t.banner, sent=t.sent, login_response=False, **kwargs)  # type: ignore[arg-type]


class _Conn:
    def __init__(self, session: Session, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.s = session
        self.reader = reader
        self.writer = writer
        self.received: list[Message] = []
        self.raw = bytearray()  # every byte the client sent, to check an action's exact framing
        self.arrived: dict[str, asyncio.Event] = {}
        self.errors: list[str] = []
        self.login = asyncio.Event()
        self.login_ok = False
        self.closed = False
        captured = {m.action_id for m in session.sent if m.get("Action") != "Login"}
        self.scripted = {
            msg.action_id
            for raw in session.frames
            if raw.startswith(b"Response:") and (msg := parse_frame(raw.decode("utf-8", "replace")))
        } & captured

    def write(self, data: bytes) -> None:
        if not self.closed and not self.writer.is_closing():
            self.writer.write(data)

    async def inject(self, *frames: bytes) -> None:
        """Write frames now (a test playing the PBX's next move)."""
        for data in frames:
            self.write(data)
        await self.writer.drain()

    def _event(self, action_id: str) -> asyncio.Event:
        return self.arrived.setdefault(action_id, asyncio.Event())

    async def read_actions(self) -> None:
        parser = FrameParser()
        while True:
            data = await self.reader.read(65536)
            if not data:
                return
            self.raw += data
            for msg in parser.feed(data):
                self.received.append(msg)
                self.on_action(msg)

    def on_action(self, msg: Message) -> None:
        action, aid = msg.get("Action"), msg.action_id
        if action == "Login" and not self.login.is_set():
            ok = msg.get("Username") == self.s.username and msg.get("Secret") == self.s.secret
            if self.s.sent:
                want = self.s.sent[0]
                for key in ("Action", "ActionID", "Username", "Secret", "Events"):
                    if msg.get(key) != want.get(key):
                        self.errors.append(f"Login {key}: {msg.get(key)!r} != captured {want.get(key)!r}")
                        ok = False
            self.login_ok = ok
            self.login.set()
            if not ok:
                self.write(frame(Response="Error", ActionID=aid, Message="Authentication failed"))
            return
        if aid in self.scripted:
            want = next(m for m in self.s.sent if m.action_id == aid)
            keys = ["Action", *self.s.check.get(action, ())]
            for key in keys:
                if msg.get(key) != want.get(key):
                    self.errors.append(f"{action} {key}: {msg.get(key)!r} != captured {want.get(key)!r}")
            self._event(aid).set()
            return
        self.write(self.synthetic(msg))

    def synthetic(self, msg: Message) -> bytes:
        action, aid = msg.get("Action"), msg.action_id
        if action == "Ping":
            if self.s.silent_pings:
                return b""
            return frame(Response="Success", ActionID=aid, Ping="Pong", Timestamp="1795627300.000000")
        if action == "CoreShowChannels":
            out = [frame(Response="Success", ActionID=aid, EventList="start", Message="Channels will follow")]
            for chan in self.s.channels:
                out.append(raw_frame(("Event", "CoreShowChannel"), ("ActionID", aid), *chan.items()))
            out.append(
                frame(
                    Event="CoreShowChannelsComplete",
                    ActionID=aid,
                    EventList="Complete",
                    ListItems=str(len(self.s.channels)),
                )
            )
            return b"".join(out)
        if action == "DeviceStateList":
            items = [
                raw_frame(
                    ("Event", "DeviceStateChange"), ("ActionID", aid), ("Device", dev), ("State", state)
                )
                for dev, state in self.s.devices.items()
            ]
            return self._list(aid, items, "DeviceStateListComplete")
        if action == "Status" and msg.get("Channel") in self.s.status:
            channel = msg.get("Channel")
            item = raw_frame(
                ("Event", "Status"), ("Channel", channel), *self.s.status[channel], ("ActionID", aid)
            )
            return self._list(aid, [item], "StatusComplete")
        if action in self.s.accept:
            return frame(Response="Success", ActionID=aid, Message=f"{action} accepted")
        if action == "Logoff":
            return frame(Response="Goodbye", ActionID=aid, Message="Thanks for all the fish.")
        return frame(Response="Error", ActionID=aid, Message="Not part of this recording")

    @staticmethod
    def _list(aid: str, items: list[bytes], complete: str) -> bytes:
        head = frame(Response="Success", ActionID=aid, EventList="start", Message="List will follow")
        tail = frame(Event=complete, ActionID=aid, EventList="Complete", ListItems=str(len(items)))
        return head + b"".join(items) + tail

    async def run(self) -> None:
        read_task = asyncio.get_running_loop().create_task(self.read_actions())
        try:
            self.write(self.s.banner)
            await self.writer.drain()
            login = asyncio.ensure_future(self.login.wait())
            await asyncio.wait({login, read_task}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
            login.cancel()
            if not self.login_ok:
                await self.writer.drain()
                return
            if self.s.login_response:
                self.write(frame(Response="Success", ActionID="login-1", Message="Authentication accepted"))
            answered: set[str] = set()
            for i, raw in enumerate(self.s.frames):
                if self.s.drop_after is not None and i >= self.s.drop_after:
                    return
                if raw.startswith(b"Response:"):
                    msg = parse_frame(raw.decode("utf-8", "replace"))
                    aid = msg.action_id if msg else ""
                    if aid in self.scripted and aid not in answered:
                        answered.add(aid)
                        try:
                            await asyncio.wait_for(self._event(aid).wait(), 5)
                        except TimeoutError:
                            self.errors.append(f"client never sent the action {aid!r}")
                            return
                self.write(raw)
                if i % 16 == 0:
                    await self.writer.drain()
            await self.writer.drain()
            if self.s.keep_open:
                await read_task
        except (ConnectionError, TimeoutError) as exc:
            self.errors.append(f"session ended early: {exc!r}")
        finally:
            read_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await read_task
            self.closed = True
            self.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.wait_closed()


class FakeAmi:
    """``async with FakeAmi(session, …) as server:`` — connection *k* runs ``sessions[k]``;
    connections beyond the scripts are closed at once (a PBX that is down)."""

    def __init__(self, *sessions: Session) -> None:
        self.sessions = list(sessions)
        self.conns: list[_Conn] = []
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.accepted = asyncio.Event()

    async def __aenter__(self) -> FakeAmi:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def add(self, *sessions: Session) -> None:
        self.sessions.extend(sessions)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = len(self.conns)
        if index >= len(self.sessions):
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
            return
        conn = _Conn(self.sessions[index], reader, writer)
        self.conns.append(conn)
        self.accepted.set()
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await conn.run()
        finally:
            if task is not None:
                self._tasks.discard(task)

    @property
    def errors(self) -> list[str]:
        return [e for c in self.conns for e in c.errors]

    def actions(self, name: str | None = None) -> list[Message]:
        return [m for c in self.conns for m in c.received if name is None or m.get("Action") == name]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for conn in self.conns:
                conn.closed = True
                conn.writer.close()
            for task in list(self._tasks):
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(task), 2)
            await self._server.wait_closed()
            self._server = None


def own_caller_id(frames: list[bytes]) -> list[bytes]:
    """Capture 10 as Asterisk sends it for an ``Originate`` without ``CallerID`` (what the provider
    sends): Alice's leg keeps her phone's own caller ID (``Alice <1001>``, as its ``Newchannel``
    shows) instead of the captured ``"Click2Dial" <1002>``, so Bob's phone shows Alice; no
    ``NewCallerid`` for her leg, and her connected line stays unknown until Bob answers."""
    alice, bob = "SIP/1001-00000016", "SIP/1002-00000017"
    out = []
    for raw in frames:
        msg = parse_frame(raw.decode())
        if msg is None or "Click2Dial" not in raw.decode():
            out.append(raw)
            continue
        if msg.event == "NewCallerid" and msg.get("Channel") == alice:
            continue
        headers = dict(msg.headers)
        for p in ("", "Dest"):
            channel = headers.get(p + "Channel", "")
            if channel == alice and headers.get(p + "CallerIDName") == "Click2Dial":
                headers[p + "CallerIDNum"], headers[p + "CallerIDName"] = "1001", "Alice"
            if headers.get(p + "ConnectedLineName") == "Click2Dial":
                who = ("1001", "Alice") if channel == bob else ("<unknown>", "<unknown>")
                headers[p + "ConnectedLineNum"], headers[p + "ConnectedLineName"] = who
        out.append(raw_frame(*headers.items()))
    return out


def channel_items(name: str, action_id: str = "chans-1") -> list[dict[str, str]]:
    """The ``CoreShowChannel`` items of a capture, as header dicts (for synthetic resyncs)."""
    out = []
    for raw in Transcript.load(name).frames:
        msg = parse_frame(raw.decode())
        if msg is not None and msg.event == "CoreShowChannel" and msg.action_id == action_id:
            out.append({k: v for k, v in msg.headers.items() if k not in ("Event", "ActionID")})
    return out


def flood_frames(calls: int) -> tuple[list[bytes], int]:
    """*calls* copies of the captured 02 call, each with its own channels and unique ids."""
    t = Transcript.load("02_internal_answered")
    start = t.frames_until(lambda m: m.event == "Newchannel")
    end = t.frames_until(lambda m: m.response == "Goodbye")
    block = b"".join(t.frames[start:end]).decode()
    frames: list[bytes] = []
    for i in range(calls):
        text = (
            block.replace("1795627114.1", f"2000000000.{2 * i + 1}x")
            .replace("1795627114.0", f"2000000000.{2 * i}x")
            .replace("SIP/1002-00000000", f"SIP/1002-{2 * i:08x}")
            .replace("SIP/1001-00000001", f"SIP/1001-{2 * i + 1:08x}")
            .replace("x\r\n", "\r\n")
        )
        frames.extend(p.encode() + b"\r\n\r\n" for p in text.split("\r\n\r\n") if p)
    return frames, end - start
