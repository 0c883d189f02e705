"""Who may connect (authenticated WebSocket) and how many at once (ARCH3 seat limit)."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect

from callsys.server.protocol import CLOSE_BAD_HELLO, CLOSE_REPLACED, CLOSE_SEATS, CLOSE_UNAUTHENTICATED

from .conftest import SECRETS, ServerMaker, hello, open_client, url


@pytest.mark.asyncio
async def test_client_without_token_is_refused_with_a_reason(make_server: ServerMaker) -> None:
    server = await make_server()
    ws, answer = await open_client(server, agent="sara")
    await ws.close()
    assert answer == (CLOSE_UNAUTHENTICATED, "Authentication required: this server needs a token.")
    assert server.hub.sessions == ()


@pytest.mark.asyncio
async def test_wrong_token_is_refused_and_gets_no_call_events(make_server: ServerMaker) -> None:
    server = await make_server()
    ws, answer = await open_client(server, agent="sara", token="sara-token-7f3b")
    await ws.close()
    assert answer == (CLOSE_UNAUTHENTICATED, "The token was not accepted (wrong token or unknown agent).")
    # another agent's token is just as wrong
    ws, answer = await open_client(server, agent="sara", token=SECRETS["server/agent/bob"])
    await ws.close()
    assert isinstance(answer, tuple) and answer[0] == CLOSE_UNAUTHENTICATED
    assert server.hub.sessions == ()
    assert server.hub.refused[CLOSE_UNAUTHENTICATED] == 2


@pytest.mark.asyncio
async def test_message_before_hello_and_garbage_are_refused(make_server: ServerMaker) -> None:
    server = await make_server()
    async with connect(url(server)) as ws:
        await ws.send('{"type":"command","op":"dial","args":{"number":"123"}}')
        await ws.wait_closed()
        assert ws.close_code == CLOSE_BAD_HELLO
        assert "first message must be a hello" in (ws.close_reason or "")
    async with connect(url(server)) as ws:
        await ws.send("not json at all")
        await ws.wait_closed()
        assert ws.close_code == CLOSE_BAD_HELLO


@pytest.mark.asyncio
async def test_right_token_is_welcomed_with_the_agents_extensions(make_server: ServerMaker) -> None:
    server = await make_server()
    ws, welcome = await open_client(server, agent="sara", token=SECRETS["server/agent/sara"])
    try:
        assert isinstance(welcome, dict) and welcome["type"] == "welcome"
        assert welcome["extensions"] == ["1001"]
        assert welcome["branch"] == "hq"
        assert welcome["activity_owner"] == "server"
        assert welcome["settings"]["dial_prefix"] == "9"
        assert welcome["dynamics_users"] == {"1001": "aaaaaaaa-0000-0000-0000-000000001001"}
        # a configured agent cannot widen its view by claiming other extensions
        ws2, other = await open_client(
            server, agent="sara", token=SECRETS["server/shared-secret"], extensions=["1002"], instance="b"
        )
        await ws2.close()
        assert isinstance(other, dict) and other["extensions"] == ["1001"]
    finally:
        await ws.close()


@pytest.mark.asyncio
async def test_shared_secret_desktop_names_its_extensions(make_server: ServerMaker) -> None:
    server = await make_server()
    ws, welcome = await open_client(
        server, agent="front-desk", token=SECRETS["server/shared-secret"], extensions=["1003", "1004"]
    )
    await ws.close()
    assert isinstance(welcome, dict) and welcome["extensions"] == ["1003", "1004"]
    ws, refused = await open_client(server, agent="front-desk", token=SECRETS["server/shared-secret"])
    await ws.close()
    assert refused == (
        CLOSE_UNAUTHENTICATED,
        "Tell the server which extensions this desktop answers (1 to 50).",
    )


@pytest.mark.asyncio
async def test_token_comes_from_the_keyring(make_server: ServerMaker, memory_keyring: object) -> None:
    from callsys.secrets import get_secret, set_secret
    from callsys.server.daemon import CallServer
    from providers import REGISTRY

    from .conftest import make_config
    from .doubles import recording_factory

    set_secret("server/agent/sara", "from-the-keyring")
    server = CallServer(make_config(), registry=REGISTRY, activity=recording_factory, secret=get_secret)
    await server.start()
    try:
        ws, welcome = await open_client(server, agent="sara", token="from-the-keyring")
        await ws.close()
        assert isinstance(welcome, dict) and welcome["agent"] == "sara"
        ws, refused = await open_client(server, agent="sara", token=SECRETS["server/agent/sara"])
        await ws.close()
        assert isinstance(refused, tuple) and refused[0] == CLOSE_UNAUTHENTICATED
    finally:
        await server.stop()


@pytest.mark.asyncio
async def test_seat_limit_holds_under_50_clients_connecting_at_once(make_server: ServerMaker) -> None:
    server = await make_server(seats=10)
    token = SECRETS["server/shared-secret"]

    async def one(i: int) -> tuple[object, object]:
        ws = await connect(url(server))
        return ws, await hello(
            ws, agent=f"desk{i}", token=token, extensions=[str(2000 + i)], instance=f"pc{i}"
        )

    results = await asyncio.gather(*(one(i) for i in range(50)))
    try:
        welcomed = [a for _, a in results if isinstance(a, dict)]
        refused = [a for _, a in results if isinstance(a, tuple)]
        assert len(welcomed) == 10
        assert len(refused) == 40
        assert set(refused) == {
            (CLOSE_SEATS, "All 10 desktop seats are in use; try again later or ask for more seats.")
        }
        assert len(server.hub.sessions) == 10
        # a seat given back is a seat someone else can take
        first = next(ws for ws, a in results if isinstance(a, dict))
        await first.close()
        for _ in range(100):
            if len(server.hub.sessions) == 9:
                break
            await asyncio.sleep(0.01)
        ws, again = await open_client(server, agent="late", token=token, extensions=["2999"])
        await ws.close()
        assert isinstance(again, dict) and again["type"] == "welcome"
    finally:
        for ws, _ in results:
            await ws.close()  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_hung_clients_seat_is_freed_after_the_heartbeat_timeout(make_server: ServerMaker) -> None:
    server = await make_server(seats=1, heartbeat_timeout=1.0)
    token = SECRETS["server/agent/sara"]
    hung, welcome = await open_client(server, agent="sara", token=token, instance="pc-1")
    assert isinstance(welcome, dict)
    # The desktop's process stops reading (hung, or its network vanished): it answers no pings.
    assert hung.transport is not None
    hung.transport.pause_reading()
    ws, refused = await open_client(server, agent="bob", token=SECRETS["server/agent/bob"])
    await ws.close()
    assert isinstance(refused, tuple) and refused[0] == CLOSE_SEATS
    loop = asyncio.get_running_loop()
    start = loop.time()
    while server.hub.sessions and loop.time() - start < 10:
        await asyncio.sleep(0.05)
    freed_after = loop.time() - start
    assert server.hub.sessions == ()
    assert freed_after < 8.0  # heartbeat 1 s + the unanswered close handshake, with CI slack
    ws, welcome = await open_client(server, agent="bob", token=SECRETS["server/agent/bob"])
    await ws.close()
    assert isinstance(welcome, dict)
    hung.transport.abort()
    await hung.close()


@pytest.mark.asyncio
async def test_restarted_desktop_takes_over_its_own_seat(make_server: ServerMaker) -> None:
    server = await make_server(seats=1)
    token = SECRETS["server/agent/sara"]
    old, _ = await open_client(server, agent="sara", token=token, instance="pc-1")
    new, welcome = await open_client(server, agent="sara", token=token, instance="pc-1")
    try:
        assert isinstance(welcome, dict)
        await old.wait_closed()
        assert old.close_code == CLOSE_REPLACED
        assert [s.identity.agent for s in server.hub.sessions] == ["sara"]
        # but a different desktop of the same agent is a second seat
        other, refused = await open_client(server, agent="sara", token=token, instance="laptop")
        await other.close()
        assert isinstance(refused, tuple) and refused[0] == CLOSE_SEATS
    finally:
        await new.close()
        await old.close()


@pytest.mark.asyncio
async def test_a_desktop_that_stops_reading_is_dropped_not_buffered_forever(make_server: ServerMaker) -> None:
    from callsys.model import EndReason
    from providers.sim import SimulatedProvider

    server = await make_server(seats=5)
    server.hub._max_backlog = 64 * 1024  # a small budget so the test needs few calls
    stuck, _ = await open_client(server, agent="sara", token=SECRETS["server/agent/sara"], instance="a")
    healthy, _ = await open_client(server, agent="boss", token=SECRETS["server/shared-secret"], instance="b")
    assert stuck.transport is not None
    stuck.transport.pause_reading()  # the desktop's loop is frozen
    pbx = server.branches["hq"].provider
    assert isinstance(pbx, SimulatedProvider)
    received = 0

    async def read_healthy() -> None:
        nonlocal received
        async for _ in healthy:
            received += 1

    reader = asyncio.get_running_loop().create_task(read_healthy())
    for _ in range(3000):
        pbx.remote_hangup(pbx.ring("+982188776655", "x" * 200), EndReason.MISSED)
        await asyncio.sleep(0)
        if all(s.identity.agent != "sara" for s in server.hub.sessions):
            break
    for _ in range(200):
        if all(s.identity.agent != "sara" for s in server.hub.sessions):
            break
        await asyncio.sleep(0.01)
    assert [s.identity.agent for s in server.hub.sessions] == ["boss"]  # sara's seat is free again
    pushed = server.hub.pushed
    for _ in range(300):  # the supervisor's desktop, which reads, got every event meanwhile
        if received >= pushed:
            break
        await asyncio.sleep(0.01)
    assert received == pushed and pushed > 10
    stuck.transport.abort()
    await stuck.close()
    await healthy.close()
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)
