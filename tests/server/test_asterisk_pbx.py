"""Against a real Asterisk 22 (chan_pjsip) on loopback: sipp phones call each other through it, a
``callsys server`` subprocess watches it over AMI and logs to the Dataverse fake.

What a call centre would check: every call leg is logged once, to the right agent, with the talk
time the PBX itself recorded (its CDR ``billsec``, ±1 s: the CDR has whole seconds); calls the
server could not see are logged from the real ``Master.csv``; after the PBX is stopped and started
again, the server is back on its own and adopts the calls the PBX has.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callsys.callmanager import CallManager
from callsys.model import CallState
from providers.server import ServerProvider

from .asterisk import Asterisk, require
from .e2e import CANCELED, MADE, RECEIVED, SHARED_SECRET, Rig, ServerProcess, health, seconds_of, wait_for
from .e2e import rig as _rig

rig = _rig

pytestmark = [pytest.mark.peers, pytest.mark.slow]


@pytest.fixture
def pbx() -> Iterator[Asterisk]:
    prefix = require()
    # A short folder: Asterisk's control socket path must fit a Unix socket address.
    rundir = Path(tempfile.mkdtemp(prefix="callsys-ast-"))
    ast = Asterisk(prefix, rundir)
    try:
        ast.start()
        yield ast
    finally:
        ast.close()
        shutil.rmtree(rundir, ignore_errors=True)


def connect(rig: Rig, pbx: Asterisk, cdr: str = "cdr_csv") -> None:
    rig.branch_options = {"port": pbx.ami_port, "technology": "PJSIP", "context": "internal"}
    rig.branch_extra = {"cdr": str(pbx.cdr_csv if cdr == "cdr_csv" else pbx.cdr_custom)}


def legs(rig: Rig) -> list[tuple[str | None, bool, str | None, tuple[Any, Any], int | None]]:
    by_user = {v: k for k, v in rig.users.items()}
    return sorted(
        (
            by_user.get(r.get("_ownerid_value")),
            bool(r.get("directioncode")),
            r.get("phonenumber"),
            (r.get("statecode"), r.get("statuscode")),
            seconds_of(r),
        )
        for r in rig.phonecalls()
    )


def billsec(pbx: Asterisk, channel_prefix: str) -> int:
    """The PBX's own talk time of the (only) CDR row whose party A is *channel_prefix*."""
    rows = [r for r in pbx.cdr_rows() if r[5].startswith(channel_prefix)]
    assert len(rows) == 1, pbx.cdr_rows()
    return int(rows[0][13])


def close_to(got: int | None, want: int) -> bool:
    return got is not None and abs(got - want) <= 1


async def call_over(pbx: Asterisk, timeout: float = 30.0) -> None:
    await wait_for(pbx.calls_over, timeout=timeout, interval=0.2)


async def settled(rig: Rig, count: int, timeout: float = 30.0) -> None:
    """*count* activities, none open, and no change for a second (a late duplicate shows)."""

    def closed() -> bool:
        rows = rig.phonecalls()
        return len(rows) >= count and all(r.get("statecode") != 0 for r in rows)

    await wait_for(closed, timeout=timeout)
    before = legs(rig)
    await asyncio.sleep(1.0)
    await wait_for(closed, timeout=timeout)
    assert legs(rig) == before or len(rig.phonecalls()) == count


async def branch_online(server: ServerProcess, timeout: float = 30.0) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        body = await health(server)
        if body["branches"][0]["status"] == "online":
            return body
        if loop.time() > end:
            raise AssertionError(f"the branch is not online: {body}")
        await asyncio.sleep(0.1)


@pytest.mark.asyncio
async def test_a_real_internal_call_is_logged_once_with_the_pbx_talk_time(rig: Rig, pbx: Asterisk) -> None:
    connect(rig, pbx)
    server = await rig.start_server()
    try:
        await branch_online(server)
        alice = pbx.phone("1001", ring_ms=1000)
        bob = pbx.call("1002", "1001", talk_ms=3000)
        assert await asyncio.to_thread(bob.wait) == 0, bob.log()
        await call_over(pbx)
        alice.stop()
        await settled(rig, 2)
        talk = billsec(pbx, "PJSIP/1002-")
        got = legs(rig)
        assert [(ext, out, number, status) for ext, out, number, status, _ in got] == [
            ("1001", False, "1002", RECEIVED),
            ("1002", True, "1001", MADE),
        ]
        assert all(close_to(seconds, talk) for *_, seconds in got), (got, talk)
    finally:
        assert await server.stop() == 0


@pytest.mark.asyncio
@pytest.mark.parametrize("cdr", ["cdr_csv", "cdr_custom"])
async def test_calls_while_the_server_was_down_come_from_the_real_master_csv(
    rig: Rig, pbx: Asterisk, cdr: str
) -> None:
    """Killed (-9), the server misses an answered call and one nobody answered; the PBX's own
    ``Master.csv`` (of cdr_csv, or of cdr_custom with linkedid) gives them to the restarted server
    — once, even when read again."""
    connect(rig, pbx, cdr)
    server = await rig.start_server()
    await branch_online(server)
    await asyncio.sleep(1.2)  # the PBX was heard: the gap starts at the last heartbeat
    await server.kill()
    alice = pbx.phone("1001", ring_ms=800)
    bob = pbx.call("1002", "1001", talk_ms=2000)
    assert await asyncio.to_thread(bob.wait) == 0, bob.log()
    alice.stop()
    carol_rings = pbx.phone("1003", answer=False)
    unanswered = pbx.call("1001", "1003", give_up_ms=2000)  # Carol's phone rings; Alice gives up
    assert await asyncio.to_thread(unanswered.wait) == 0, unanswered.log()
    carol_rings.stop()
    await call_over(pbx)
    talk = billsec(pbx, "PJSIP/1002-")
    restarted = await rig.start_server()
    try:
        await settled(rig, 4)
        got = legs(rig)
        assert [(ext, out, number, status) for ext, out, number, status, _ in got] == [
            ("1001", False, "1002", RECEIVED),
            ("1001", True, "1003", CANCELED),
            ("1002", True, "1001", MADE),
            ("1003", False, "1001", CANCELED),
        ]
        answered = [seconds for _, _, _, status, seconds in got if status != CANCELED]
        assert all(close_to(s, talk) for s in answered), (got, talk)
    finally:
        assert await restarted.stop() == 0
    again = await rig.start_server()  # the same rows read again: nothing new
    try:
        await branch_online(again)
        await asyncio.sleep(2.5)
        assert len(rig.phonecalls()) == 4
    finally:
        assert await again.stop() == 0


@pytest.mark.asyncio
async def test_after_the_pbx_was_stopped_the_server_is_back_and_adopts_its_calls(
    rig: Rig, pbx: Asterisk
) -> None:
    """A call is up when the PBX is stopped (it ends with it); the PBX comes back and a new call is
    already talking when its AMI opens: the server logs in by itself, adopts that call from
    ``CoreShowChannels`` and logs both calls once, each with the PBX's talk time."""
    connect(rig, pbx)
    server = await rig.start_server()
    try:
        await branch_online(server)
        first_alice = pbx.phone("1001", ring_ms=500)
        first = pbx.call("1002", "1001", talk_ms=120_000)
        await wait_for(lambda: "Up" in pbx.cli("core show channels"), timeout=30, interval=0.2)
        await wait_for(lambda: len(rig.phonecalls()) == 2, timeout=30)  # both legs are logged live
        await asyncio.sleep(1.5)  # talking
        await asyncio.to_thread(pbx.stop)  # every channel is hung up
        first.proc.stop()
        first_alice.stop()
        talks = [int(r[13]) for r in pbx.cdr_rows()]
        await asyncio.sleep(2.0)  # the outage
        await asyncio.to_thread(pbx.start, ami=False)  # back; its AMI not yet
        second_alice = pbx.phone("1001", ring_ms=500)
        second = pbx.call("1002", "1001", talk_ms=4000)

        def talking() -> bool:
            return pbx.cli("core show channels").count(" Up ") >= 2

        await wait_for(talking, timeout=30, interval=0.2)
        await asyncio.to_thread(pbx.open_ami)
        await branch_online(server)
        assert await asyncio.to_thread(second.wait) == 0, second.log()
        second_alice.stop()
        await call_over(pbx)
        talks += [int(r[13]) for r in pbx.cdr_rows()[len(talks) :]]
        await settled(rig, 4)
        got = legs(rig)
        assert [(ext, out, number, status) for ext, out, number, status, _ in got] == [
            ("1001", False, "1002", RECEIVED),
            ("1001", False, "1002", RECEIVED),
            ("1002", True, "1001", MADE),
            ("1002", True, "1001", MADE),
        ]
        assert len(talks) == 2, pbx.cdr_rows()
        for ext in ("1001", "1002"):
            mine = sorted(seconds or 0 for e, *_, seconds in got if e == ext)
            assert all(abs(a - b) <= 1 for a, b in zip(mine, sorted(talks), strict=True)), (got, talks)
    finally:
        assert await server.stop() == 0


@pytest.mark.asyncio
async def test_blind_transfer_of_a_queue_call_with_a_local_member_moves_the_caller(
    rig: Rig, pbx: Asterisk
) -> None:
    """Queue 7301's member is ``Local/1003@queue-members/n`` (as FreePBX makes them). Carol answers
    and transfers the caller to Alice from her desktop: the *caller* leaves the queue for Alice —
    not the Local half-channel — and each agent's leg is logged once, to that agent."""
    connect(rig, pbx)
    server = await rig.start_server()
    desktop = CallManager()
    carol = ServerProvider(
        {"url": f"ws://127.0.0.1:{server.port}/ws", "agent": "carol", "token": SHARED_SECRET,
         "extensions": ["1003"]}
    )  # fmt: skip
    await carol.start(desktop.listener("server"))
    try:
        assert await carol.wait_connected(10)
        await branch_online(server)
        alice_phone = pbx.phone("1001", ring_ms=500)
        carol_phone = pbx.phone("1003", ring_ms=500)
        bob = pbx.call("1002", "7301", talk_ms=8000)

        def carols_call() -> str | None:
            return next((c.id for c in desktop if c.state is CallState.ACTIVE), None)

        await wait_for(lambda: carols_call() is not None, timeout=30)
        call_id = carols_call()
        assert call_id is not None
        await carol.transfer(call_id, "1001")

        def bob_with_alice() -> bool:
            text = pbx.cli("core show channels concise")
            # channel!context!exten!priority!state!app!data!cid!account!peeraccount!ama!duration!bridge!…
            rows = [line.split("!") for line in text.splitlines() if line.startswith("PJSIP/")]
            bridges = {r[0].split("-")[0]: r[12] for r in rows}
            return (
                bridges.get("PJSIP/1002", "") != ""
                and bridges.get("PJSIP/1002") == bridges.get("PJSIP/1001")
                and "PJSIP/1003" not in bridges
            )

        await wait_for(bob_with_alice, timeout=30, interval=0.2)
        assert "Local/" not in pbx.cli("core show channels concise")  # the queue let go of him
        assert await asyncio.to_thread(bob.wait) == 0, bob.log()
        alice_phone.stop()
        carol_phone.stop()
        await call_over(pbx)
        await settled(rig, 3)
        got = legs(rig)
        assert [(ext, out, number, status) for ext, out, number, status, _ in got] == [
            ("1001", False, "1002", RECEIVED),
            ("1002", True, "7301", MADE),
            ("1003", False, "1002", RECEIVED),
        ]
    finally:
        await carol.close()
        assert await server.stop() == 0
