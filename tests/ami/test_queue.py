"""Queue and ring-group calls (B1): one customer call is one activity, whichever way it ends and
in whatever order Asterisk reports its legs' ends — real Asterisk 22 (chan_pjsip) captures of
queue 7200 (ring-all, members 1001 Alice and 1003 Carol; Bob 1002 calls)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from callsys.activity import ActivityLogger
from callsys.model import CallState, EndReason
from callsys.outbox import Outbox
from callsys.store import open_database
from providers.ami import AmiProvider
from providers.ami.protocol import parse_frame
from tests.ami.fakeami import FakeAmi, Session, Transcript, frame
from tests.ami.harness import Recorder, options, replay

pytestmark = pytest.mark.asyncio

ABANDONED = "pjsip/09_queue_7200_abandoned"
ANSWERED = "pjsip/08_queue_7200_answered"
MEMBERS = ("1001", "1003")


@pytest.fixture
def logged(tmp_path: Path) -> Iterator[tuple[Recorder, ActivityLogger]]:
    """A recorder whose CallManager feeds the real activity logger (over its outbox)."""
    db = open_database(tmp_path / "callsys.sqlite3")
    logger = ActivityLogger(Outbox(db))
    rec = Recorder()
    rec.manager.subscribe(logger)
    try:
        yield rec, logger
    finally:
        db.conn.close()


def activities(logger: ActivityLogger) -> list[tuple[str, str]]:
    """(call id, summary) of every activity the logger made."""
    return [
        (str(r[0]), str(r[1] or "")) for r in logger.db.execute("SELECT call_id, summary FROM activity_calls")
    ]


def _members_hang_up_the_other_way(frames: list[bytes]) -> list[bytes]:
    """Alice's leg's Hangup before Carol's: chan_pjsip reports the two in either order."""
    hangups = [i for i, raw in enumerate(frames) if raw.startswith(b"Event: Hangup\r\n")]
    members = [
        i for i in hangups if (m := parse_frame(frames[i].decode())) and m.get("Channel")[6:10] in MEMBERS
    ]
    first, second = members
    out = list(frames)
    out[first], out[second] = frames[second], frames[first]
    return out


@pytest.mark.parametrize("rewrite", [None, _members_hang_up_the_other_way], ids=["as-captured", "swapped"])
async def test_abandoned_queue_call_is_one_unanswered_activity(
    logged: tuple[Recorder, ActivityLogger], rewrite: object
) -> None:
    """Bob hangs up while the queue rings Alice and Carol: one "Unanswered" for the customer call,
    on the member whose leg ended first; the other merely rang — not missed (B1)."""
    rec, logger = logged
    await replay(ABANDONED, technology="PJSIP", rewrite=rewrite, recorder=rec, extensions=list(MEMBERS))  # type: ignore[arg-type]
    legs = {c.extension: c for c in rec.finals.values()}
    assert set(legs) == set(MEMBERS) and all(c.state is CallState.ENDED for c in legs.values())
    reasons = sorted(c.end_reason.value for c in legs.values() if c.end_reason)
    assert reasons == ["answered_elsewhere", "cancelled"]
    assert sum(c.is_missed for c in legs.values()) <= 1
    (activity,) = activities(logger)
    assert activity[1].startswith("Not answered (cancelled)")
    first = next(e for e in rec.events if e.event.value == "ended")  # the leg reported first
    assert activity[0] == first.call_id


async def test_answered_queue_call_is_one_activity(logged: tuple[Recorder, ActivityLogger]) -> None:
    rec, logger = logged
    await replay(ANSWERED, technology="PJSIP", recorder=rec, extensions=list(MEMBERS))
    legs = {c.extension: c for c in rec.finals.values()}
    assert legs["1003"].end_reason is EndReason.COMPLETED
    assert legs["1001"].end_reason is EndReason.ANSWERED_ELSEWHERE
    assert [a[0] for a in activities(logger)] == [legs["1003"].id]


@pytest.mark.parametrize("alice_first", [True, False], ids=["alice-ends-first", "carol-ends-first"])
async def test_queue_call_sent_to_voicemail_is_one_activity(
    logged: tuple[Recorder, ActivityLogger], alice_first: bool
) -> None:
    """Alice sends the queue call to voicemail while it rings Carol too: Alice's activity says so;
    Carol merely rang — no "Not answered (cancelled)" for her."""
    rec, logger = logged
    t = Transcript.load(ANSWERED)
    ringing = t.frames_until(lambda m: m.event == "Newstate" and m.get("Channel").startswith("PJSIP/1001"))
    session = Session(frames=t.frames[: ringing + 1], sent=t.sent, login_response=False, keep_open=True,
                      accept=("Redirect",))  # fmt: skip
    bob = {"Channel": "PJSIP/1002-00000010", "Uniqueid": "1796608462.16", "Linkedid": "1796608462.16"}
    legs = {
        "1001": {"DestChannel": "PJSIP/1001-00000012", "DestUniqueid": "1796608462.18", "DestLinkedid": "1796608462.16"},
        "1003": {"DestChannel": "PJSIP/1003-00000011", "DestUniqueid": "1796608462.17", "DestLinkedid": "1796608462.16"},
    }  # fmt: skip
    async with FakeAmi(session) as server:
        provider = AmiProvider(options(server.port, technology="PJSIP", extensions=list(MEMBERS),
                                       voicemail_exten="vm${EXTEN}"))  # fmt: skip
        await provider.start(rec)
        try:
            await provider.wait_connected(5)
            for _ in range(500):
                if len(rec.manager.live_calls()) == 2:
                    break
                await asyncio.sleep(0.01)
            alice = next(c for c in rec.manager.live_calls() if c.extension == "1001")
            await provider.send_to_voicemail(alice.id)
            (redirect,) = server.actions("Redirect")
            assert (redirect.get("Channel"), redirect.get("Exten")) == ("PJSIP/1002-00000010", "vm1001")
            order = ["1001", "1003"] if alice_first else ["1003", "1001"]
            frames = [frame(Event="DialEnd", **bob, **legs[ext], DialStatus="CANCEL", Timestamp="1796608464.0")
                      for ext in order]  # fmt: skip
            frames += [
                frame(Event="Hangup", Channel=legs[ext]["DestChannel"], Uniqueid=legs[ext]["DestUniqueid"],
                      Linkedid="1796608462.16", ChannelState="5", Cause="0", Timestamp="1796608464.1")
                for ext in order
            ]  # fmt: skip
            await server.conns[0].inject(*frames)
            for _ in range(500):
                if rec.manager.live_calls() == ():
                    break
                await asyncio.sleep(0.01)
        finally:
            await provider.close()
    ended = {c.extension: c.end_reason for c in rec.finals.values()}
    assert ended == {"1001": EndReason.VOICEMAIL, "1003": EndReason.ANSWERED_ELSEWHERE}
    (activity,) = activities(logger)
    assert activity[0] == alice.id and activity[1].startswith("Sent to voicemail")
