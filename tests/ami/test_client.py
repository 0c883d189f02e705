"""The AMI client on its own: login, action correlation, keep-alive, reconnect with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time

import pytest

from callsys.errors import ProviderUnavailable
from callsys.provider import Registration
from providers.ami import ActionFailed, AmiClient, Message
from providers.ami.protocol import FrameParser
from tests.ami.fakeami import FakeAmi, Session, frame

pytestmark = pytest.mark.asyncio


class Seen:
    def __init__(self) -> None:
        self.events: list[Message] = []
        self.status: list[tuple[Registration, str]] = []
        self.connected = 0

    def on_event(self, msg: Message) -> None:
        self.events.append(msg)

    def on_status(self, reg: Registration, message: str) -> None:
        self.status.append((reg, message))

    async def on_connected(self) -> None:
        self.connected += 1


def client(port: int, seen: Seen, secret: str = "callsys", **kw: float) -> AmiClient:
    opts: dict[str, float] = {
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
        "connect_timeout": 2,
        "action_timeout": 2,
    }
    opts.update(kw)
    return AmiClient(
        "127.0.0.1",
        port,
        "callsys",
        secret,
        on_event=seen.on_event,
        on_connected=seen.on_connected,
        on_status=seen.on_status,
        **opts,
    )


async def _until(predicate: object, timeout: float = 5.0) -> None:
    async def wait() -> None:
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.005)

    await asyncio.wait_for(wait(), timeout)


async def test_login_then_events_then_logoff() -> None:
    events = [frame(Event="FullyBooted", Uptime="3"), frame(Event="PeerStatus", Peer="PJSIP/1001")]
    async with FakeAmi(Session(frames=events, keep_open=True)) as server:
        seen = Seen()
        c = client(server.port, seen)
        c.start()
        await c.wait_online(5)
        await _until(lambda: len(seen.events) == 2)
        assert c.banner == "Asterisk Call Manager/9.0.0"
        assert [e.event for e in seen.events] == ["FullyBooted", "PeerStatus"]
        await _until(lambda: seen.connected == 1)
        (login,) = server.actions("Login")
        assert (login.get("ActionID"), login.get("Username"), login.get("Events")) == (
            "login-1",
            "callsys",
            "on",
        )
        await c.close()
        assert server.actions("Logoff")[0].get("ActionID") == "logoff-1"
        assert seen.status[-1][0] is Registration.ONLINE  # closing on purpose is not "unreachable"
        assert not c.online


async def test_wrong_secret_is_reported_and_retried() -> None:
    async with FakeAmi(Session(frames=[]), Session(frames=[], keep_open=True, secret="wrong")) as server:
        seen = Seen()
        c = client(server.port, seen, secret="wrong")
        c.start()
        await c.wait_online(5)  # the second "PBX" accepts the (now right) secret
        refused = [m for reg, m in seen.status if reg is Registration.OFFLINE]
        assert refused and "refused the login: Authentication failed" in refused[0]
        assert len(server.conns) == 2
        await c.close()


async def test_not_an_asterisk_port() -> None:
    async with FakeAmi(Session(frames=[], banner=b"SSH-2.0-OpenSSH_9.6\r\n")) as server:
        seen = Seen()
        c = client(server.port, seen)
        c.start()
        await _until(lambda: any(reg is Registration.OFFLINE for reg, _ in seen.status))
        await c.close()
    message = next(m for reg, m in seen.status if reg is Registration.OFFLINE)
    assert "is not an Asterisk manager port" in message


async def test_retry_schedule_is_capped_at_a_second_with_jitter() -> None:
    """The defaults: once a link is lost the first retry is immediate, then the waits double
    from 0.25 s to the 1 s cap, each 50–100 % of its step (jitter), so a PBX that is back is
    found within a second however long it was away."""
    c = AmiClient("127.0.0.1", 1, "callsys", "callsys", on_event=lambda m: None, rng=random.Random(7))
    schedule = list(itertools.islice(c.retry_delays(), 12))
    rng = random.Random(7)
    steps = [0.25, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert schedule == [0.0, *(step * rng.uniform(0.5, 1.0) for step in steps)]
    assert max(schedule) <= 1.0 and min(schedule[3:]) >= 0.5


class Sleeps:
    """An injected ``sleep`` that records every wait and does not wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.waits.append(delay)
        await asyncio.sleep(0)


async def test_unreachable_pbx_backs_off_and_close_stops_it() -> None:
    # A port nobody listens on: bind, note it, close.
    srv = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    srv.close()
    await srv.wait_closed()
    seen = Seen()
    sleeps = Sleeps()
    c = AmiClient("127.0.0.1", port, "callsys", "callsys", on_event=seen.on_event, on_status=seen.on_status,
                  rng=random.Random(3), sleep=sleeps)  # fmt: skip
    c.start()
    await _until(lambda: len(sleeps.waits) >= 6)
    await c.close()
    # Never connected, so no immediate retry: the schedule from its second entry.
    expected = list(itertools.islice(AmiClient("h", 1, "u", "s", on_event=lambda m: None,
                                               rng=random.Random(3)).retry_delays(), 1, 7))  # fmt: skip
    assert sleeps.waits[:6] == expected
    offline = [m for reg, m in seen.status if reg is Registration.OFFLINE]
    assert offline[0].endswith(f"retrying in {expected[0]:.1f} s.")
    with pytest.raises(ProviderUnavailable):
        await c.send_action("Ping")


async def test_a_pbx_restart_is_retried_at_once() -> None:
    """EOF on the socket (Asterisk stopped or restarted): the next attempt goes out without any
    wait, and the drop is dated to when the PBX was last heard."""
    async with FakeAmi(Session(frames=[]), Session(frames=[], keep_open=True)) as server:
        seen = Seen()
        sleeps = Sleeps()
        lost: list[float | None] = []
        c = AmiClient("127.0.0.1", server.port, "callsys", "callsys", on_event=seen.on_event,
                      on_connected=seen.on_connected, sleep=sleeps,
                      on_disconnected=lambda: lost.append(c.dropped_at))  # fmt: skip
        before = time.time()
        c.start()
        await _until(lambda: c.connections == 2)
        await c.close()
    assert sleeps.waits == []  # reconnected without waiting at all
    assert len(lost) == 1 and lost[0] is not None and before <= lost[0] <= time.time()


async def test_keepalive_drops_a_silent_pbx_and_reconnects() -> None:
    async with FakeAmi(
        Session(frames=[], keep_open=True, silent_pings=True), Session(frames=[], keep_open=True)
    ) as server:
        seen = Seen()
        c = client(server.port, seen, ping_interval=0.05, ping_timeout=0.05)
        c.start()
        await _until(lambda: c.connections == 2)
        assert "keep-alive" in c.last_error
        await _until(lambda: len([m for m in server.conns[1].received if m.get("Action") == "Ping"]) >= 2)
        assert c.connections == 2  # the healthy PBX answers pings: no more reconnects
        assert seen.connected == 2  # the provider's resync hook ran after each login
        await c.close()


async def test_actions_are_correlated_by_action_id_even_out_of_order() -> None:
    """A hand-made PBX that answers two actions in reverse order and interleaves a normal event
    with a list action's items."""
    got: list[Message] = []
    done = asyncio.Event()

    async def pbx(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        parser = FrameParser()
        try:
            while not done.is_set():
                data = await reader.read(4096)
                if not data:
                    break
                for msg in parser.feed(data):
                    got.append(msg)
                    aid = msg.action_id
                    if msg.get("Action") == "Login":
                        writer.write(
                            frame(Response="Success", ActionID=aid, Message="Authentication accepted")
                        )
                    actions = [m for m in got if m.get("Action") in ("Getvar", "CoreShowChannels")]
                    if len(actions) == 3:
                        a, b, lst = actions
                        writer.write(frame(Response="Success", ActionID=b.action_id, Value="second"))
                        writer.write(frame(Response="Error", ActionID=a.action_id, Message="No such channel"))
                        writer.write(frame(Response="Success", ActionID=lst.action_id, EventList="start"))
                        writer.write(
                            frame(Event="CoreShowChannel", ActionID=lst.action_id, Channel="PJSIP/1001-1")
                        )
                        writer.write(frame(Event="Newstate", Channel="PJSIP/1002-2"))
                        writer.write(
                            frame(Event="CoreShowChannel", ActionID=lst.action_id, Channel="PJSIP/1003-3")
                        )
                        writer.write(
                            frame(
                                Event="CoreShowChannelsComplete",
                                ActionID=lst.action_id,
                                EventList="Complete",
                                ListItems="2",
                            )
                        )
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    server = await asyncio.start_server(pbx, "127.0.0.1", 0)
    try:
        seen = Seen()
        c = client(server.sockets[0].getsockname()[1], seen)
        c.start()
        await c.wait_online(5)
        first = asyncio.ensure_future(c.send_action("Getvar", {"Variable": "X"}))
        second = asyncio.ensure_future(c.send_action("Getvar", {"Variable": "Y"}))
        listing = asyncio.ensure_future(c.send_action("CoreShowChannels"))
        with pytest.raises(ActionFailed, match="No such channel"):
            await first
        assert (await second).response.get("Value") == "second"
        result = await listing
        assert [e.get("Channel") for e in result.events] == ["PJSIP/1001-1", "PJSIP/1003-3"]
        assert [e.event for e in seen.events] == ["Newstate"]  # the unrelated event went to the handler
        assert [m.action_id for m in got] == ["login-1", "getvar-1", "getvar-2", "chans-1"]
        done.set()
        await c.close()
    finally:
        server.close()
        await server.wait_closed()


async def test_pending_actions_fail_when_the_link_drops() -> None:
    async with FakeAmi(Session(frames=[], keep_open=True, silent_pings=True)) as server:
        seen = Seen()
        c = client(server.port, seen)
        c.start()
        await c.wait_online(5)
        pending = asyncio.ensure_future(c.send_action("Ping", timeout=5))
        await _until(lambda: len(server.actions("Ping")) == 1)
        server.conns[0].writer.close()  # the cable is cut
        with pytest.raises(ProviderUnavailable):
            await pending
        await c.close()
