"""Faults: malformed frames in the middle of a call, a link cut mid-call, a PBX restart, calls
already live when we connect, a click-to-dial lost with the link, and an event flood."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import random
import time
from collections.abc import Callable

import pytest

from callsys.model import CallState, Direction, EndReason
from callsys.provider import Registration
from providers.ami import AmiProvider, Message
from providers.ami.protocol import parse_frame
from tests.ami.expected import EXPECTED
from tests.ami.fakeami import (
    SCENARIOS,
    TALKING_02,
    FakeAmi,
    Session,
    Transcript,
    channel_items,
    flood_frames,
    frame,
    raw_frame,
)
from tests.ami.harness import Recorder, options, settled

pytestmark = pytest.mark.asyncio


async def _until(predicate: object, timeout: float = 10.0) -> None:
    async def wait() -> None:
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.005)

    await asyncio.wait_for(wait(), timeout)


Until = Callable[[AmiProvider, Recorder], bool]


def _reconnected(provider: AmiProvider, rec: Recorder) -> bool:
    return provider.client.connections >= 2


async def _run(
    *sessions: Session, until: Until = _reconnected, **extra: object
) -> tuple[Recorder, AmiProvider, FakeAmi]:
    """Run the provider against the scripted sessions; log off once *until* holds."""
    async with FakeAmi(*sessions) as server:
        provider = AmiProvider(options(server.port, **extra))
        rec = Recorder()
        await provider.start(rec)
        try:
            await provider.wait_connected(5)
            await _until(lambda: until(provider, rec))
        finally:
            await provider.close()
    return rec, provider, server


def _cut(name: str, predicate: object) -> tuple[Transcript, int]:
    t = Transcript.load(name)
    return t, t.frames_until(predicate)  # type: ignore[arg-type]


async def test_malformed_frames_mid_call_do_not_derail_it() -> None:
    t = Transcript.load("04_internal_unanswered_caller_cancel")
    ringing = t.frames_until(lambda m: m.event == "DialState")
    junk = [
        b"this is not a header line at all\r\n\r\n",
        b"Event: Newstate\r\nChannel: SIP/1001-00000005\r\nChannelState: banana\r\nUniqueid: \r\n\r\n",
        b"Event: Hangup\r\nUniqueid: 1.999\r\nCause: not-a-number\r\n\r\n",  # unknown channel
        b"Event: DialBegin\r\nDestChannel: SIP/1003-0000ffff\r\n\r\n",  # no unique ids
        b"Event: VarSet\r\nUniqueid: 1795627135.5\r\nVariable: __X\r\nValue: \xff\xfe\r\n\r\n",
        b"Event: Newstate\r\nUniqueid: 1795627135.5\r\nTimestamp: yesterday\r\nChannelState: 5\r\n\r\n",
        b"Event: Junk\r\nPayload: " + b"A" * (2 << 20) + b"\r\n\r\n",  # 2 MiB: dropped, not buffered
        b"Event: \r\n\r\n",
        b"Response: Success\r\nActionID: nobody-asked-1\r\n\r\n",
    ]
    session = Session.replay(t.name)
    session.frames[ringing + 1 : ringing + 1] = junk
    rec, provider, server = await _run(session, until=lambda p, r: True)
    assert server.errors == []
    summary = rec.summary()
    # The same call, the same outcome; the junk only added its one harmless variable update.
    assert settled([s for s in summary if s[0] != "updated" or s[1] != "1001"]) == settled(EXPECTED[t.name])
    assert provider.client.frames_dropped == 1
    assert rec.manager.live_calls() == ()


async def test_link_cut_mid_call_and_the_call_is_still_up_after_reconnect() -> None:
    t, cut = _cut("02_internal_answered", lambda m: m.event == "HangupRequest")
    first = Session.replay(t.name, drop_after=cut)
    second = Session(frames=t.frames[cut:], sent=t.sent, channels=TALKING_02)
    rec, provider, server = await _run(first, second)
    assert server.errors == []
    assert provider.client.connections == 2 and provider.resyncs == 2
    # Exactly the events of the uninterrupted call: nothing lost, nothing twice.
    assert settled(rec.summary()) == settled(EXPECTED[t.name])
    alice = next(c for c in rec.finals.values() if c.extension == "1001")
    assert alice.end_reason is EndReason.COMPLETED and alice.duration_seconds == 4


async def test_call_that_ended_while_the_link_was_down_is_not_forgotten() -> None:
    t, cut = _cut("02_internal_answered", lambda m: m.event == "HangupRequest")
    first = Session.replay(t.name, drop_after=cut)
    second = Session(frames=[], keep_open=True)  # no channels left
    rec, provider, _ = await _run(
        first, second, until=lambda p, r: p.client.connections == 2 and provider_done(r)
    )
    ends = [(e.extension, e.reason) for e in rec.events if e.event.value == "ended"]
    assert sorted(ends) == [("1001", EndReason.COMPLETED), ("1002", EndReason.COMPLETED)]
    assert rec.manager.live_calls() == () and provider.live_call_ids() == ()


def _last_stamp(frames: list[bytes]) -> float:
    stamps = [m.get("Timestamp") for raw in frames if (m := parse_frame(raw.decode())) and m.get("Timestamp")]
    return float(stamps[-1])


async def test_call_that_ended_during_an_outage_ends_as_of_the_loss_not_the_reconnect() -> None:
    """The PBX goes away mid-call and comes back without the call: it ended some time in the
    outage, so it ends as of the moment the PBX was last heard — the outage is not talk time."""
    t, cut = _cut("02_internal_answered", lambda m: m.event == "HangupRequest")
    first = Session.replay(t.name, drop_after=cut)
    last_heard = _last_stamp(t.frames[:cut])
    async with FakeAmi(first) as server:
        provider = AmiProvider(options(server.port, link_grace=30))
        rec = Recorder()
        await provider.start(rec)
        await provider.wait_connected(5)
        await _until(lambda: provider.client.dropped_at is not None)
        await asyncio.sleep(0.3)  # the PBX is away (connections refused at once) …
        assert len(rec.manager.live_calls()) == 2  # … within the grace: nothing decided yet
        server.add(Session(frames=[], keep_open=True))  # … and back, without the call
        await _until(lambda: provider.client.connections == 2 and rec.manager.live_calls() == ())
        await provider.close()
    for call in rec.finals.values():
        assert call.end_reason is EndReason.COMPLETED
        assert call.ended_at is not None and call.ended_at.timestamp() == pytest.approx(last_heard, abs=0.25)
    alice = next(c for c in rec.finals.values() if c.extension == "1001")
    assert alice.duration_seconds == 4  # answered …18.5, last heard …22.5: not 4 s + the outage


async def test_calls_end_as_of_the_loss_when_the_link_stays_down() -> None:
    """Past ``link_grace`` no desktop shows a call as talking on a PBX nobody can see; a call that
    in fact survived (the network was cut, not the PBX) is not logged a second time."""
    t, cut = _cut("02_internal_answered", lambda m: m.event == "HangupRequest")
    first = Session.replay(t.name, drop_after=cut)
    last_heard = _last_stamp(t.frames[:cut])
    async with FakeAmi(first) as server:
        provider = AmiProvider(options(server.port, link_grace=0.2))
        rec = Recorder()
        await provider.start(rec)
        await provider.wait_connected(5)
        await _until(lambda: rec.manager.live_calls() == ())
        assert not provider.client.online  # ended while the link is still down
        ended = {c.extension: c for c in rec.finals.values()}
        assert {c.end_reason for c in ended.values()} == {EndReason.COMPLETED}
        assert all(c.ended_at is not None and c.ended_at.timestamp() == pytest.approx(last_heard, abs=0.25)
                   for c in ended.values())  # fmt: skip
        events = len(rec.events)
        # The link comes back: both channels are still up, then hang up as captured.
        goodbye = t.frames_until(lambda m: m.response == "Goodbye")
        # (A state report on Alice's surviving leg must not start a second call either.)
        again = frame(Event="Newstate", Channel="SIP/1001-00000001", ChannelState="6", Uniqueid="1795627114.1",
                      Linkedid="1795627114.0", ConnectedLineNum="1002", Timestamp="1795627121.0")  # fmt: skip
        server.add(Session(frames=[again, *t.frames[cut:goodbye]], channels=TALKING_02, keep_open=True))
        await _until(lambda: provider.client.connections == 2 and provider.resyncs == 2)
        await _until(lambda: provider.channel_count == 0)  # every Hangup read
        await provider.close()
    assert rec.manager.live_calls() == () and provider.live_call_ids() == ()
    assert rec.events[events:] == []  # the survivors were neither adopted nor ended twice


def provider_done(rec: Recorder) -> bool:
    return (
        bool(rec.events)
        and rec.manager.live_calls() == ()
        and any(e.event.value == "ended" for e in rec.events)
    )


async def test_pbx_restart_while_ringing_no_pop_up_stays_ringing() -> None:
    t, cut = _cut("04_internal_unanswered_caller_cancel", lambda m: m.event == "HangupRequest")
    first = Session.replay(t.name, drop_after=cut)  # the phone is ringing when Asterisk dies
    after = Transcript.load("06_trunk_did_7000")
    restarted = Session(
        banner=b"Asterisk Call Manager/9.0.0\r\n",
        frames=[frame(Event="FullyBooted", Privilege="system,all", Uptime="1", LastReload="1", Status="Fully Booted"),
                *after.frames[2:]],
        sent=after.sent,
        channels=(),
    )  # fmt: skip
    rec, provider, server = await _run(first, restarted)
    assert server.errors == []
    assert provider.client.connections == 2
    old = [e for e in rec.events if e.call_id.startswith("ami:1795627135.")]
    new = [e for e in rec.events if e not in old]
    summary = Recorder(events=old).summary()
    assert summary[:4] == EXPECTED[t.name][:4]  # ringing when Asterisk died
    # The ringing call ended at the resync: missed for Alice, no answer for Bob …
    assert sorted(summary[4:]) == [
        ("ended", "1001", "incoming", "missed"),
        ("ended", "1002", "outgoing", "no_answer"),
    ]
    # … and the restarted PBX's next call is followed as usual.
    assert settled(Recorder(events=new).summary()) == settled(EXPECTED["06_trunk_did_7000"])
    assert rec.manager.live_calls() == ()


async def test_call_answered_while_the_link_was_down() -> None:
    t, cut = _cut("02_internal_answered", lambda m: m.event == "DialState")
    first = Session.replay(t.name, drop_after=cut + 1)  # ringing
    rest = t.frames[t.frames_until(lambda m: m.event == "HangupRequest") :]
    live = [dict(item, Uniqueid=uid, Linkedid="1795627114.0", Channel=chan) for item, uid, chan in (
        ({"ChannelState": "6", "ChannelStateDesc": "Up", "ConnectedLineNum": "1001", "BridgeId": "b"}, "1795627114.0",
         "SIP/1002-00000000"),
        ({"ChannelState": "6", "ChannelStateDesc": "Up", "ConnectedLineNum": "1002", "BridgeId": "b"}, "1795627114.1",
         "SIP/1001-00000001"),
    )]  # fmt: skip
    second = Session(frames=rest, sent=t.sent, channels=live)
    rec, _, server = await _run(first, second)
    assert server.errors == []
    alice = [e.event.value for e in rec.events if e.extension == "1001"]
    assert alice == ["incoming", "answered", "ended"]
    final = next(c for c in rec.finals.values() if c.extension == "1001")
    assert final.end_reason is EndReason.COMPLETED


async def test_call_answered_while_the_link_was_down_counts_from_the_pbx_answer() -> None:
    """Answered during the outage: its talk time starts when the PBX answered (the channel's CDR
    answer time, which ``Status`` gives), not when the link was lost (that would add the rest of
    the ringing to the talk time) nor at the reconnect (that would cut it short)."""
    t, cut = _cut("02_internal_answered", lambda m: m.event == "DialState")
    answered_at = _last_stamp(t.frames[: cut + 1]) + 1.25  # the PBX answered 1.25 s after the loss
    rest = t.frames[t.frames_until(lambda m: m.event == "HangupRequest") :]
    live = [dict(item, Uniqueid=uid, Linkedid="1795627114.0", Channel=chan) for item, uid, chan in (
        ({"ChannelState": "6", "ChannelStateDesc": "Up", "ConnectedLineNum": "1001", "BridgeId": "b"}, "1795627114.0",
         "SIP/1002-00000000"),
        ({"ChannelState": "6", "ChannelStateDesc": "Up", "ConnectedLineNum": "1002", "BridgeId": "b"}, "1795627114.1",
         "SIP/1001-00000001"),
    )]  # fmt: skip
    status = {
        chan["Channel"]: [("Uniqueid", chan["Uniqueid"]), ("Variable", f"CDR(answer,u)={answered_at:.6f}")]
        for chan in live
    }
    sessions = (
        Session.replay(t.name, drop_after=cut + 1),  # ringing, then the link drops
        Session(frames=[], keep_open=True, channels=live, status=status),  # both talking
    )
    async with FakeAmi(*sessions) as server:
        provider = AmiProvider(options(server.port))
        rec = Recorder()
        await provider.start(rec)
        try:
            await _until(lambda: provider.resyncs >= 2 and len(server.conns) == 2)
            await _until(lambda: sum(e.event.value == "answered" for e in rec.events) == 2)
            await server.conns[1].inject(*rest)  # they hang up
            await _until(lambda: rec.manager.live_calls() == ())
        finally:
            await provider.close()
    assert server.errors == []
    for call in rec.finals.values():
        assert call.answered_at is not None and call.end_reason is EndReason.COMPLETED
        assert call.answered_at.timestamp() == pytest.approx(answered_at, abs=0.001)


async def test_calls_already_live_at_connect_are_adopted() -> None:
    live = channel_items("13_ami_actions_status_hangup")
    hangups = [
        frame(Event="Hangup", Channel="SIP/1001-0000001e", Uniqueid="1795627259.30", Linkedid="1795627259.29",
              Cause="16", Timestamp="1795627265.0"),
        frame(Event="Hangup", Channel="SIP/1002-0000001d", Uniqueid="1795627259.29", Linkedid="1795627259.29",
              Cause="16", Timestamp="1795627265.0"),
    ]  # fmt: skip
    # What Asterisk's Status action says about Alice's leg: the variables set before we listened.
    status = {
        "SIP/1001-0000001e": [
            ("Uniqueid", "1795627259.30"),
            ("Variable", "CALLED_DID=7000"),
            ("Variable", "CALLED_LINE=Sales"),
            ("Variable", "CUSTOMER_ID=4711"),
        ]
    }
    devices = {
        "SIP/1001": "INUSE",
        "SIP/1002": "INUSE",
        "SIP/1003": "UNAVAILABLE",
        "Queue:support_avail": "INUSE",
    }
    session = Session(frames=[], keep_open=True, channels=live, status=status, devices=devices)
    async with FakeAmi(session) as server:
        provider = AmiProvider(options(server.port, variables=["CUSTOMER_ID"]))
        rec = Recorder()
        await provider.start(rec)
        await provider.wait_connected(5)
        await _until(
            lambda: len(rec.manager.live_calls()) == 2 and any(c.line for c in rec.manager.live_calls())
        )
        calls = {c.extension: c for c in rec.manager.live_calls()}
        # Up for 4 s (Duration: 00:00:04) when listed: that is when the call started, not now.
        for call in calls.values():
            assert call.started_at.timestamp() == pytest.approx(time.time() - 4, abs=1.5)
        assert calls["1001"].direction is Direction.INCOMING and calls["1001"].state is CallState.ACTIVE
        assert (calls["1001"].remote.digits, calls["1001"].remote_name) == ("1002", "Bob")
        assert (calls["1001"].line, calls["1001"].dnis) == ("Sales", "7000")  # IN12 after a reconnect
        assert calls["1001"].variables == {"CUSTOMER_ID": "4711"}  # SET2 after a reconnect
        assert calls["1002"].direction is Direction.OUTGOING and calls["1002"].remote.digits == "1001"
        lines = {line.id: line.registration for line in provider.lines()}
        assert lines == {
            "1001": Registration.ONLINE,
            "1002": Registration.ONLINE,
            "1003": Registration.OFFLINE,
        }
        await server.conns[0].inject(*hangups)
        await _until(lambda: rec.manager.live_calls() == ())
        await provider.close()
    assert {c.end_reason for c in rec.finals.values()} == {EndReason.COMPLETED}


async def test_click_to_dial_lost_with_the_link_ends_as_failed() -> None:
    first = Session(frames=[], keep_open=True, accept=("Originate",))
    second = Session(frames=[], keep_open=True)
    async with FakeAmi(first, second) as server:
        provider = AmiProvider(options(server.port, extensions=["1001"]))
        rec = Recorder()
        await provider.start(rec)
        await provider.wait_connected(5)
        call_id = await provider.dial("1002")
        assert rec.manager.get(call_id) is not None
        server.conns[0].writer.close()  # the link drops before Asterisk created any channel
        await _until(lambda: rec.manager.live_calls() == ())
        await provider.close()
    final = rec.finals[call_id]
    assert final.end_reason is EndReason.FAILED and final.direction is Direction.OUTGOING


def _rss() -> int:
    """Resident memory of this process in bytes (Linux), 0 where /proc is missing."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


@pytest.mark.slow
async def test_event_flood_stays_bounded_and_correct() -> None:
    frames, per_call = flood_frames(1100)  # 110k events, 46 MB of real AMI text
    total = len(frames)
    assert total >= 100_000
    # A marker event tells us the provider has read everything.
    frames.append(raw_frame(("Event", "UserEvent"), ("UserEvent", "flood-done")))
    session = Session(frames=frames, keep_open=True)
    gc.collect()
    base = _rss()
    peak_rss = base
    peak_channels = 0
    async with FakeAmi(session) as server:
        provider = AmiProvider(options(server.port, extensions=["1001"]))
        rec = Recorder()
        await provider.start(rec)
        await provider.wait_connected(5)

        async def watch() -> None:
            nonlocal peak_channels, peak_rss
            while True:
                peak_channels = max(peak_channels, provider.channel_count)
                peak_rss = max(peak_rss, _rss())
                await asyncio.sleep(0.01)

        watcher = asyncio.ensure_future(watch())
        try:
            await _until(lambda: provider.events_seen >= total + 1, timeout=240)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await provider.close()
    assert per_call * 1100 == total
    ended = [e for e in rec.events if e.event.value == "ended"]
    assert len(ended) == 1100 and {e.reason for e in ended} == {EndReason.COMPLETED}
    assert rec.manager.live_calls() == () and provider.channel_count == 0
    assert peak_channels <= 50  # channels are forgotten at their Hangup
    # Reading 46 MB must not cost anything like 46 MB: frames are parsed and dropped as they come.
    assert peak_rss - base < 25 * 1024 * 1024, f"memory grew by {(peak_rss - base) / 1e6:.0f} MB"


async def test_mutated_captures_never_break_the_mapping(caplog: pytest.LogCaptureFixture) -> None:
    """Real frames with headers dropped or replaced by junk, sometimes shuffled: the provider
    keeps going, builds only valid call events, and logs no error."""
    junk = ["", " ", "<unknown>", "x" * 300, "-1", "99999999999999999999", "abc", "\u202e1001", "nan", "SIP/", "/",
            "PJSIP/1001", "Local/1001@x;2", "0", "5", "6"]  # fmt: skip
    rnd = random.Random(5)
    captures = {
        n: [m for raw in Transcript.load(n).frames if (m := parse_frame(raw.decode()))] for n in SCENARIOS
    }
    caplog.set_level(logging.ERROR)
    for i in range(400):
        name = rnd.choice(SCENARIOS)
        provider = AmiProvider(options(1, extensions=["1001", "1002", "1003"] if i % 2 else ["*"]))
        rec = Recorder()
        provider._listener = rec
        messages = [Message(dict(m.headers)) for m in captures[name]]
        for msg in messages:
            if rnd.random() < 0.2:
                key = rnd.choice(list(msg.headers))
                if rnd.random() < 0.3:
                    del msg.headers[key]
                else:
                    msg.headers[key] = rnd.choice(junk)
        if rnd.random() < 0.3:
            rnd.shuffle(messages)
        for msg in messages:
            provider.handle_message(msg)
        assert provider.channel_count <= len(messages)
        assert all(e.call_id.startswith("ami:") for e in rec.events)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
