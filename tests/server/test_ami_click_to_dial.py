"""Click-to-dial from a desktop through the server's AMI link (OUT3, SET1): the desktop asks the
server, the server originates from the agent's own extension, and the captured Asterisk answer
drives the call on the desktop — checked against the real capture's Originate action."""

from __future__ import annotations

import asyncio

import pytest

from callsys.callmanager import CallManager
from callsys.model import CallEvent, CallState, Direction, EndReason
from callsys.numbers import NumberPlan
from callsys.server.config import Agent, Branch
from providers.server import ServerProvider
from tests.ami.fakeami import FakeAmi, Session, Transcript, own_caller_id

from .conftest import SECRETS, ServerMaker, activities, url

CHECK = {"Originate": ("Channel", "Context", "Exten", "Priority", "Timeout", "Async")}


@pytest.mark.asyncio
async def test_desktop_click_to_dial_originates_from_the_agents_extension(make_server: ServerMaker) -> None:
    t = Transcript.load("10_originate_click_to_dial")
    frames = own_caller_id([f for f in t.frames if b"Response: Goodbye" not in f])
    async with FakeAmi(
        Session(
            frames=frames, banner=t.banner, sent=t.sent, login_response=False, check=CHECK, keep_open=True
        )
    ) as ami:
        options = {"host": "127.0.0.1", "port": ami.port, "username": "callsys", "secret": "callsys",
                   "context": "internal", "technology": "SIP", "backoff_initial": 0.05}  # fmt: skip
        branch = Branch("hq", "ami", options, NumberPlan(region="DE", min_log_digits=0), {})
        server = await make_server(branches=(branch,), agents={"alice": Agent("alice", ("1001",), "hq")},
                                   secrets={**SECRETS, "server/agent/alice": "alice-token"})  # fmt: skip
        desktop = CallManager()
        seen: list[tuple[CallEvent, str]] = []
        desktop.subscribe(lambda ev, call: seen.append((ev, call.id)))
        provider = ServerProvider({"url": url(server), "agent": "alice", "token": "alice-token"})
        await provider.start(desktop.listener("server"))
        try:
            assert await provider.wait_connected(10)
            call_id = await provider.dial("1002")
            assert call_id.startswith("hq/")
            for _ in range(500):
                call = desktop.get(call_id)
                if call is not None and call.state is CallState.ENDED:
                    break
                await asyncio.sleep(0.01)
            assert ami.errors == []  # the Originate matched the captured one (Channel SIP/1001 …)
            call = desktop.get(call_id)
            assert call is not None and call.direction is Direction.OUTGOING
            assert call.end_reason is EndReason.COMPLETED and call.answered_at is not None
            assert call.extension == "1001" and call.remote.digits == "1002"
            mine = [ev for ev, cid in seen if cid == call_id]
            assert (
                mine[0] is CallEvent.OUTGOING and CallEvent.ANSWERED in mine and mine[-1] is CallEvent.ENDED
            )
            logged = activities(server).activities
            assert call_id in logged and logged[call_id].call.direction is Direction.OUTGOING
            # With internal calls logged, Bob's side is an activity from Alice to Bob: the
            # Originate presents Alice to him, not his own number.
            (bob,) = [a.call for a in logged.values() if a.call.extension == "1002"]
            assert bob.direction is Direction.INCOMING
            assert (bob.remote.digits, bob.remote_name) == ("1001", "Alice")
            (originate,) = ami.actions("Originate")
            assert "CallerID" not in originate
        finally:
            await provider.close()
            await server.stop()
