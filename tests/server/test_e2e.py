"""End to end (IN14, SET6, ARCH3): the real Asterisk captures drive a running ``callsys server``
subprocess, which writes phone-call activities into the Dataverse fake over HTTP.

Every test checks the same promise from the CRM's side: exactly one activity per call, with
the right direction, number, owner (the extension's Dynamics user), regarding record, duration
and answered/unanswered status — with no desktop, with a desktop, with the CRM down for the
whole stream, across a ``kill -9`` of the server, and with the PBX link cut mid-call.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from callsys.callmanager import CallManager
from callsys.model import CallEvent, CallState, Direction
from providers.server import ServerProvider
from tests.ami.fakeami import TALKING_02, FakeAmi, Session, Transcript
from tests.dataverse_fake import DataverseFake, FakeServer

from .e2e import (
    CALL_SCENARIOS,
    EXPECTED,
    RECEIVED,
    SHARED_SECRET,
    TRUNK,
    Rig,
    ServerProcess,
    all_closed,
    health,
    idle_session,
    observed_rows,
    seconds_of,
    stream,
    wait_for,
)
from .e2e import rig as _rig

pytestmark = pytest.mark.slow

rig = _rig  # the captures' AMI server and the Dataverse fake with the agents as its users


def expected_rows(scenarios: tuple[str, ...] = CALL_SCENARIOS) -> Counter[tuple[Any, ...]]:
    return Counter(row for name in scenarios for row in EXPECTED[name])


def normalised(rows: Counter[tuple[Any, ...]]) -> Counter[tuple[Any, ...]]:
    """The queue member's talk time is not asserted (None in EXPECTED): drop it on both sides."""
    out: Counter[tuple[Any, ...]] = Counter()
    for (ext, outgoing, number, status, seconds), n in rows.items():
        queue_member = (ext, outgoing, number) == ("1003", False, "1002") and status == RECEIVED
        out[(ext, outgoing, number, status, None if queue_member else seconds)] += n
    return out


def assert_logged_once(rig: Rig, scenarios: tuple[str, ...] = CALL_SCENARIOS) -> None:
    assert normalised(observed_rows(rig)) == expected_rows(scenarios)
    trunk = [r for r in rig.phonecalls() if r.get("phonenumber") == TRUNK]
    assert trunk and all(r.get("_regardingobjectid_value") == rig.customer for r in trunk)


def play(rig: Rig, *names: str) -> None:
    rig.ami.add(stream(*names))


async def release(rig: Rig, index: int) -> None:
    """End the idle PBX session number *index*: the server reconnects and the next one plays."""
    await wait_for(lambda: len(rig.ami.conns) > index)
    rig.ami.conns[index].writer.close()


async def wait_until_queued(server: ServerProcess, count: int, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while (await health(server))["crm_queue"] < count:
        if loop.time() > end:
            raise AssertionError(f"fewer than {count} CRM writes were queued")
        await asyncio.sleep(0.1)


@pytest.mark.asyncio
async def test_every_replayed_call_is_logged_once_with_no_desktop(rig: Rig) -> None:
    play(rig, *CALL_SCENARIOS)
    server = await rig.start_server()
    try:
        await wait_for(lambda: all_closed(rig, 18), timeout=60)
        await asyncio.sleep(0.5)  # nothing more may arrive
        assert_logged_once(rig)
        assert rig.ami.errors == []
    finally:
        code = await server.stop()
    assert code == 0
    records = server.log_records()
    assert any(r.get("event") == "started" for r in records)
    assert any(r.get("event") == "stopped" and r.get("queued") == 0 for r in records)


@pytest.mark.asyncio
async def test_desktop_connected_gets_the_calls_and_there_is_still_one_activity_each(rig: Rig) -> None:
    rig.ami.add(idle_session())
    play(rig, *CALL_SCENARIOS)
    server = await rig.start_server()
    desktop = CallManager()
    seen: list[tuple[CallEvent, str]] = []
    desktop.subscribe(lambda ev, call: seen.append((ev, call.id)))
    provider = ServerProvider(
        {
            "url": f"ws://127.0.0.1:{server.port}/ws",
            "agent": "alice",
            "token": SHARED_SECRET,
            "extensions": ["1001"],
        }
    )
    await provider.start(desktop.listener("server"))
    try:
        assert await provider.wait_connected(10)
        assert not provider.owns_activity  # the desktop must not log these calls itself
        await release(rig, 0)
        await wait_for(lambda: all_closed(rig, 18), timeout=60)
        await asyncio.sleep(0.5)
        assert_logged_once(rig)
        # Alice's desktop saw each of her calls ring and end — and nobody else's
        mine = [c for c in (desktop.get(cid) for _, cid in seen) if c is not None]
        assert {c.extension for c in mine} == {"1001"}
        ended = {cid for ev, cid in seen if ev is CallEvent.ENDED}
        started = {cid for ev, cid in seen if ev in (CallEvent.INCOMING, CallEvent.OUTGOING)}
        assert started == ended and len(started) == 10  # 1001 rang in every capture, twice in 08
        assert len(desktop) == 0  # no pop-up left ringing
        trunk = [desktop.get(cid) for cid in started if str(desktop.get(cid).remote) == TRUNK]  # type: ignore[union-attr]
        assert sorted(c.line for c in trunk if c is not None) == ["Sales", "Support"]  # IN12 on the pop-up
        assert all(c.direction is Direction.INCOMING for c in trunk if c is not None)
        # the agent types notes after the call: they land on the server's activity, not a new one
        first = trunk[0]
        assert first is not None
        await provider.set_notes(first.id, "Wants a quote for 40 units")
        await wait_for(lambda: any("Wants a quote" in str(r.get("description")) for r in rig.phonecalls()))
        noted = [r for r in rig.phonecalls() if "Wants a quote" in str(r.get("description"))]
        assert len(noted) == 1 and noted[0]["phonenumber"] == TRUNK and noted[0]["statecode"] == 1
        assert len(rig.phonecalls()) == 18
    finally:
        await provider.close()
        assert await server.stop() == 0


@pytest.mark.asyncio
async def test_crm_down_for_the_whole_stream_then_back(rig: Rig) -> None:
    rig.crm.__exit__(None, None, None)  # Dynamics is unreachable: connection refused
    port = int(rig.crm.url.rsplit(":", 1)[1])
    play(rig, *CALL_SCENARIOS)
    server = await rig.start_server()
    try:
        # 11 answered calls (create, complete) + 7 unanswered (create closed) = 29 queued writes
        await wait_until_queued(server, 29)
        await asyncio.sleep(1.0)  # the outbox has retried (and failed) a few times by now
        assert rig.phonecalls() == []
        rig.crm = rig.fake.serve(port=port).__enter__()  # Dynamics is back
        await wait_for(lambda: all_closed(rig, 18), timeout=60)
        await asyncio.sleep(1.5)  # a retry that would duplicate something has had its chance
        assert_logged_once(rig)
        final = await health(server)
        assert final["crm_queue"] == 0 and final["crm_rejected"] == 0
    finally:
        assert await server.stop() == 0


@pytest.mark.asyncio
async def test_kill_9_mid_stream_then_restart(rig: Rig) -> None:
    first, second = CALL_SCENARIOS[:5], CALL_SCENARIOS[5:]
    # a slow CRM: the outbox still holds work when the server dies (it delivers many activities
    # to a $batch: the creates come back together, the completions are a second round)
    rig.fake.latency = 1.0
    play(rig, *first)  # the PBX stream the first server sees…
    play(rig, *second)  # …and the one the restarted server sees
    server = await rig.start_server()
    await wait_for(lambda: len(rig.phonecalls()) >= 1, timeout=60)  # delivery has begun
    await asyncio.sleep(0.3)  # every event of the first stream has been handled by now
    still_open = [r for r in rig.phonecalls() if r.get("statecode") == 0]
    await server.kill()
    assert still_open  # the kill really came while activities were still queued (not yet closed)
    rig.fake.latency = 0.0
    restarted = await rig.start_server()  # same database: the outbox picks up where it died
    try:
        await wait_for(lambda: all_closed(rig, 18), timeout=90)
        await asyncio.sleep(1.0)
        assert_logged_once(rig)
        assert any(r.get("event") == "outbox_resume" for r in restarted.log_records())
    finally:
        assert await restarted.stop() == 0


@pytest.mark.asyncio
async def test_pbx_link_cut_mid_call_leaves_no_stuck_call(rig: Rig) -> None:
    t = Transcript.load("06_trunk_did_7000")
    answered = t.frames_until(lambda m: m.event == "BridgeEnter")
    rig.ami.add(idle_session())
    rig.ami.add(Session(frames=t.frames[: answered + 2], banner=t.banner, sent=t.sent, login_response=False))
    rig.ami.add(idle_session())  # Asterisk is back; the call is gone (CoreShowChannels lists nothing)
    server = await rig.start_server()
    desktop = CallManager()
    provider = ServerProvider(
        {
            "url": f"ws://127.0.0.1:{server.port}/ws",
            "agent": "alice",
            "token": SHARED_SECRET,
            "extensions": ["1001"],
        }
    )
    await provider.start(desktop.listener("server"))
    try:
        assert await provider.wait_connected(10)
        await release(rig, 0)
        await wait_for(
            lambda: any(c.state is CallState.ACTIVE for c in desktop.live_calls()) or len(rig.ami.conns) > 2
        )
        await wait_for(lambda: len(rig.ami.conns) == 3 and rig.ami.conns[2].login_ok, timeout=30)
        await wait_for(lambda: len(desktop) == 0, timeout=10)  # the pop-up / call panel is gone
        status = await health(server)
        assert status["branches"][0]["live_calls"] == 0 and status["branches"][0]["status"] == "online"
        await wait_for(lambda: all_closed(rig, 1), timeout=30)
        rows = rig.phonecalls()
        assert len(rows) == 1 and rows[0]["phonenumber"] == TRUNK and rows[0]["statecode"] == 1
    finally:
        await provider.close()
        assert await server.stop() == 0


@pytest.mark.asyncio
async def test_check_reports_pbx_login_and_crm(rig: Rig) -> None:
    rig.ami.add(idle_session())
    proc = await asyncio.create_subprocess_exec(
        *_cli(rig, "--check", "--check-timeout", "5"), stdout=asyncio.subprocess.PIPE, env=rig.env()
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out
    text = out.decode()
    assert '"check": "pbx:hq"' in text and '"ok": true' in text
    assert "Dynamics 365 reachable" in text


def _cli(rig: Rig, *args: str) -> list[str]:
    import sys

    return [sys.executable, "-m", "callsys", "server", "--config", str(rig.settings_file()), "--json", *args]


_ = DataverseFake, FakeServer  # re-exported types used in annotations of the rig


@pytest.mark.asyncio
async def test_sigterm_with_the_crm_down_keeps_the_queue_on_disk_for_the_next_start(rig: Rig) -> None:
    rig.crm.__exit__(None, None, None)  # Dynamics unreachable
    port = int(rig.crm.url.rsplit(":", 1)[1])
    play(rig, "06_trunk_did_7000", "04_internal_unanswered_caller_cancel")
    rig.ami.add(idle_session())  # the PBX the restarted server finds: quiet
    server = await rig.start_server()
    await wait_until_queued(server, 4)  # answered: create + complete; unanswered: 2 × create-closed
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    assert await server.stop() == 0  # SIGTERM: tries for server.drain_seconds (3 s), then stops
    assert loop.time() - t0 < 15
    stopped = [r for r in server.log_records() if r.get("event") == "stopped"]
    assert stopped and stopped[0]["queued"] == 4
    rig.crm = rig.fake.serve(port=port).__enter__()
    restarted = await rig.start_server()
    try:
        await wait_for(lambda: all_closed(rig, 3), timeout=30)
        await asyncio.sleep(1.0)
        assert normalised(observed_rows(rig)) == expected_rows(
            ("06_trunk_did_7000", "04_internal_unanswered_caller_cancel")
        )
    finally:
        assert await restarted.stop() == 0


@pytest.mark.asyncio
async def test_kill_9_during_a_call_then_restart_still_one_activity_per_call(rig: Rig) -> None:
    t = Transcript.load("02_internal_answered")
    cut = t.frames_until(lambda m: m.event == "HangupRequest")  # both phones are talking
    rig.ami.add(
        Session(frames=t.frames[:cut], banner=t.banner, sent=t.sent, login_response=False, keep_open=True)
    )
    server = await rig.start_server()
    await wait_for(lambda: len(rig.phonecalls()) == 2, timeout=30)  # both legs' activities exist (open)
    await server.kill()
    # Asterisk still has the call: the restarted server finds it (CoreShowChannels) …
    rig.ami.add(Session(frames=[], sent=t.sent, channels=TALKING_02, keep_open=True))
    restarted = await rig.start_server()
    try:
        await wait_for(lambda: len(rig.ami.conns) == 2 and rig.ami.conns[1].login_ok, timeout=30)
        await asyncio.sleep(0.5)  # the resync has adopted the call
        # … and then the two hang up.
        await rig.ami.conns[1].inject(*(f for f in t.frames[cut:] if not f.startswith(b"Response:")))
        await wait_for(lambda: all_closed(rig, 2), timeout=30)
        await asyncio.sleep(1.0)
        # one activity per leg, completed — not a second one for the adopted call
        assert normalised(observed_rows(rig, with_seconds=False)) == Counter(
            (ext, outgoing, number, status, None)
            for ext, outgoing, number, status, _ in EXPECTED["02_internal_answered"]
        )
        # talk time within a second of the real 4 s: the answer time survives the restart only
        # to the whole second (that is how the CRM log keeps it)
        assert all(seconds_of(r) in (4, 5) for r in rig.phonecalls())
    finally:
        assert await restarted.stop() == 0


@pytest.mark.asyncio
async def test_two_branches_one_dynamics_the_same_pbx_call_id_twice(rig: Rig) -> None:
    """SET6: two PBXes (two branches) feed one server and one Dynamics 365. Both replay the very
    same capture — same unique ids, same extension 1001 — and still give two activities, each in
    its own branch's user's queue."""
    east_user = rig.fake.add(
        "systemuser", {"firstname": "Dana", "lastname": "East", "internalemailaddress": "d@x.test"}
    )
    async with FakeAmi(stream("06_trunk_did_7000")) as east_ami:
        rig.ami.add(stream("06_trunk_did_7000"))
        branch = {
            "provider": "ami",
            "region": "DE",
            "options": {
                "host": "127.0.0.1",
                "username": "callsys",
                "technology": "SIP",
                "backoff_initial": 0.05,
            },
        }
        rig.extra_settings["server.branches"] = [
            {**branch, "name": "hq", "options": {**branch["options"], "port": rig.ami.port}},
            {**branch, "name": "east", "options": {**branch["options"], "port": east_ami.port}},
        ]
        rig.extra_settings["server.users"] = {"1001": rig.users["1001"], "east/1001": east_user}
        env_secret = "CALLSYS_SECRET_AMI_EAST"
        server = await rig.start_server(extra_env={env_secret: "callsys"})
        try:
            await wait_for(lambda: all_closed(rig, 2), timeout=30)
            await asyncio.sleep(0.5)
            rows = rig.phonecalls()
            assert len(rows) == 2
            assert sorted(r["_ownerid_value"] for r in rows) == sorted([rig.users["1001"], east_user])
            assert all(r["phonenumber"] == TRUNK and r["statecode"] == 1 for r in rows)
            assert all(r.get("_regardingobjectid_value") == rig.customer for r in rows)
            status = await health(server)
            assert [b["name"] for b in status["branches"]] == ["hq", "east"]
            assert all(b["status"] == "online" for b in status["branches"])
        finally:
            assert await server.stop() == 0
