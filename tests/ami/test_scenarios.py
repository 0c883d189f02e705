"""Every scenario of the real Asterisk 20 captures, replayed byte-exact, and the call events the
AMI provider derives from it — as the agents (1001 Alice, 1002 Bob, 1003 Carol) would see them,
and as the one CallManager ends up recording them."""

from __future__ import annotations

import re

import pytest

from callsys.model import Call, CallState, Direction, EndReason
from callsys.provider import Registration
from providers.ami import AmiProvider
from tests.ami.expected import EXPECTED
from tests.ami.fakeami import SCENARIOS, TRANSCRIPTS, FakeAmi, Session, Transcript, own_caller_id
from tests.ami.harness import Recorder, options, replay, settled

pytestmark = pytest.mark.asyncio


async def test_every_scenario_of_the_readme_is_covered() -> None:
    readme = (TRANSCRIPTS / "README.md").read_text()
    table = readme[readme.index("| file |") :]
    listed = set(re.findall(r"\b(\d\d_[a-z0-9_]+)", table))
    assert listed == set(SCENARIOS) == set(EXPECTED)
    for name in SCENARIOS:
        assert Transcript.load(name).data == (TRANSCRIPTS / f"{name}.txt").read_bytes(), "byte-exact replay"


async def _dial_1002(provider: AmiProvider) -> None:
    call_id = await provider.dial("1002")
    assert call_id.startswith("ami:callsys-")


async def _ami_actions(provider: AmiProvider) -> None:
    """What the capturing client did in scenario 13, through our client and provider."""
    peers = await provider.client.send_action("SIPpeers")
    assert [e.get("ObjectName") for e in peers.events] == ["1001", "1002", "1003", "trunk"]
    state = await provider.client.send_action("ExtensionState", {"Exten": "1001", "Context": "internal"})
    assert state.response.get("StatusText") == "Idle"
    status = await provider.client.send_action("Status")
    assert [e.get("Channel") for e in status.events] == ["SIP/1002-0000001d", "SIP/1001-0000001e"]
    out = await provider.client.send_action("Command", {"Command": "core show channels concise"})
    assert len(out.response.get_all("Output")) == 2
    alice = [c for c in provider.live_call_ids() if c == "ami:1795627259.30"]
    assert alice, provider.live_call_ids()
    await provider.hangup(alice[0])


ACTIONS = {"10_originate_click_to_dial": _dial_1002, "13_ami_actions_status_hangup": _ami_actions}
CHECK = {"Originate": ("Channel", "Context", "Exten", "Priority", "Timeout", "Async")}
#: Captures replayed as Asterisk sends them for what the provider sends (see ``own_caller_id``).
REWRITE = {"10_originate_click_to_dial": own_caller_id}


@pytest.mark.parametrize("name", SCENARIOS)
async def test_scenario_derives_the_expected_call_events(name: str) -> None:
    rec, provider, server = await replay(
        name, actions=ACTIONS.get(name), check=CHECK, rewrite=REWRITE.get(name)
    )
    assert server.errors == []
    assert settled(rec.summary()) == settled(EXPECTED[name])
    # Nothing stays live: no pop-up stuck ringing, in the provider or in the CallManager.
    assert provider.live_call_ids() == ()
    assert rec.manager.live_calls() == ()
    assert all(c.state is CallState.ENDED for c in rec.finals.values())
    # Call ids are unique and carry the provider name.
    ids = [c.id for c in rec.finals.values()]
    assert len(set(ids)) == len(ids) and all(i.startswith("ami:") for i in ids)


def _only(rec: Recorder, extension: str) -> list[Call]:
    calls = rec.calls(extension)
    assert len(calls) == 1, calls
    return calls


async def test_internal_answered_call_as_the_call_manager_records_it() -> None:
    rec, _, _ = await replay("02_internal_answered")
    (alice,) = _only(rec, "1001")
    assert alice.direction is Direction.INCOMING
    assert (alice.remote.digits, alice.remote_name) == ("1002", "Bob")
    assert alice.end_reason is EndReason.COMPLETED
    assert alice.duration_seconds == 4  # the PBX's own timestamps: 4 s of talk
    (bob,) = _only(rec, "1002")
    assert bob.direction is Direction.OUTGOING and bob.remote.digits == "1001" and bob.remote_name == "Alice"


async def test_callee_hangup_talk_time() -> None:
    rec, _, _ = await replay("03_internal_answered_callee_hangup")
    (alice,) = _only(rec, "1001")
    assert alice.end_reason is EndReason.COMPLETED and alice.duration_seconds == 3


async def test_caller_gives_up_is_a_missed_call_for_the_agent() -> None:
    rec, _, _ = await replay("04_internal_unanswered_caller_cancel")
    (alice,) = _only(rec, "1001")
    assert alice.end_reason is EndReason.CANCELLED and alice.is_missed and alice.answered_at is None


async def test_rejected_call_is_rejected_not_missed() -> None:
    rec, _, _ = await replay("05_internal_rejected_busy")
    (alice,) = _only(rec, "1001")
    assert alice.end_reason is EndReason.REJECTED and alice.end_reason.is_unanswered
    (bob,) = _only(rec, "1002")
    assert bob.end_reason is EndReason.BUSY


@pytest.mark.parametrize(
    ("name", "did", "line"),
    [("06_trunk_did_7000", "7000", "Sales"), ("06_trunk_did_7001", "7001", "Support")],
)
async def test_trunk_call_carries_the_receiving_line_in12(name: str, did: str, line: str) -> None:
    rec, _, _ = await replay(name, extensions=["1001"])
    (alice,) = _only(rec, "1001")
    assert (alice.line, alice.dnis) == (line, did)
    assert alice.remote.e164 == "+49301234567"
    assert alice.remote_name == ""  # the trunk sent the number as the name: not a name
    assert alice.variables == {}  # CALLED_DID / CALLED_LINE became line and DNIS, not variables
    # The line is on the very first event, so the pop-up shows it while it rings.
    assert rec.events[0].line == line and rec.events[0].dnis == did


async def test_line_label_from_a_configured_did_when_the_dialplan_sets_no_line_variable() -> None:
    rec, _, _ = await replay(
        "06_trunk_did_7001",
        extensions=["1001"],
        line_variable="NO_SUCH_VAR",
        lines=[{"id": "sup", "label": "Hotline", "did": "7001"}],
    )
    (alice,) = _only(rec, "1001")
    assert (alice.line, alice.dnis) == ("Hotline", "7001")


async def test_ivr_variables_ride_on_the_pop_up_set2() -> None:
    rec, _, _ = await replay("07_ivr_customer_id", extensions=["1001"], variables=["IVR_DIGITS"])
    first = rec.events[0]
    assert first.event.value == "incoming"
    assert first.variables == {"CUSTOMER_ID": "4711", "IVR_CHOICE": "support", "IVR_DIGITS": "4711"}
    (alice,) = _only(rec, "1001")
    assert alice.variables["CUSTOMER_ID"] == "4711" and alice.dnis == "7100"
    assert alice.end_reason is EndReason.COMPLETED


async def test_second_call_rings_as_a_waiting_call_in5() -> None:
    rec, _, _ = await replay("08_call_waiting_unanswered", extensions=["1001"])
    first, second = sorted(rec.calls("1001"), key=lambda c: c.started_at)
    assert not first.waiting and first.end_reason is EndReason.COMPLETED
    assert second.waiting and second.remote.digits == "1003" and second.remote_name == "Carol"
    assert second.end_reason is EndReason.CANCELLED


async def test_click_to_dial_out3() -> None:
    rec, provider, server = await replay(
        "10_originate_click_to_dial",
        extensions=["1001"],
        actions=_dial_1002,
        check=CHECK,
        rewrite=own_caller_id,
    )
    assert server.errors == []
    (originate,) = server.actions("Originate")
    assert originate.get("Channel") == "SIP/1001" and originate.get("Exten") == "1002"
    # No CallerID: Alice's leg keeps her phone's caller ID, which is what Bob's phone shows.
    assert "CallerID" not in originate
    assert originate.get("ChannelId", "").startswith("callsys-")
    (alice,) = _only(rec, "1001")
    assert alice.id == f"ami:{originate.get('ChannelId')}"
    assert alice.direction is Direction.OUTGOING and alice.remote.digits == "1002"
    assert alice.end_reason is EndReason.COMPLETED and alice.duration_seconds == 4
    # Alice picking up her own phone (Up at …222.71) is not the answer; Bob's (…224.718) is.
    (answered,) = [e for e in rec.events if e.event.value == "answered"]
    assert answered.at is not None and answered.at.timestamp() == pytest.approx(1795627224.718, abs=0.01)
    assert provider.live_call_ids() == ()


async def test_click_to_dial_shows_the_called_party_who_calls() -> None:
    """Bob's pop-up and activity show Alice, who clicked — not his own number (the Originate used
    to set the caller ID to the destination: "Click2Dial 1002" on Bob's phone)."""
    rec, _, server = await replay(
        "10_originate_click_to_dial", actions=_dial_1002, check=CHECK, rewrite=own_caller_id
    )
    assert server.errors == []
    (bob,) = _only(rec, "1002")
    assert bob.direction is Direction.INCOMING
    assert (bob.remote.digits, bob.remote_name) == ("1001", "Alice")
    (alice,) = _only(rec, "1001")
    assert (alice.remote.digits, alice.remote_name) == ("1002", "Bob")


async def test_click_to_dial_caller_id_name_presents_the_agents_extension() -> None:
    session = Session(frames=[], keep_open=True, accept=("Originate",))
    async with FakeAmi(session) as server:
        provider = AmiProvider(options(server.port, caller_id_name="Sales desk"))
        await provider.start(Recorder())
        try:
            await provider.wait_connected(5)
            await provider.dial("1003")
            await provider.dial("1003", line="1002")
        finally:
            await provider.close()
    sent = server.actions("Originate")
    assert [m.get("CallerID") for m in sent] == ['"Sales desk" <1001>', '"Sales desk" <1002>']


async def test_queue_call_answered_by_carol_is_answered_elsewhere_for_alice_b1() -> None:
    rec, _, _ = await replay("12_queue_call", extensions=["1001", "1003"])
    (alice,) = _only(rec, "1001")
    (carol,) = _only(rec, "1003")
    assert alice.end_reason is EndReason.ANSWERED_ELSEWHERE and not alice.is_missed
    assert carol.end_reason is EndReason.COMPLETED and carol.answered_at is not None
    assert alice.dnis == carol.dnis == "7200"


async def test_resync_during_a_live_call_adds_nothing_twice() -> None:
    """Scenario 13: our resync's CoreShowChannels is answered while the call is up and known."""
    rec, provider, server = await replay("13_ami_actions_status_hangup", actions=_ami_actions)
    assert server.errors == []
    assert provider.resyncs == 1
    assert len(server.actions("CoreShowChannels")) == 1
    assert [e.event.value for e in rec.events if e.extension == "1001"] == ["incoming", "answered", "ended"]


@pytest.mark.parametrize(
    ("name", "carol"),
    [
        ("01_register", Registration.ONLINE),
        ("14_unregister", Registration.OFFLINE),
        ("15_register_after_unregister", Registration.ONLINE),
    ],
)
async def test_registration_of_the_watched_phones(name: str, carol: Registration) -> None:
    rec, _, _ = await replay(name)
    online = [s for s in rec.statuses if s.registration is Registration.ONLINE]
    assert online, rec.statuses
    lines = {line.id: line for line in online[-1].lines}
    assert lines["1003"].registration is carol
    if carol is Registration.OFFLINE:
        assert lines["1003"].detail == "the phone is not registered"
    assert rec.statuses[-1].registration is Registration.OFFLINE  # we logged off


def _variant(name: str, edit: dict[bytes, bytes]) -> Session:
    """A capture with some bytes changed — for outcomes the capture session did not record."""
    session = Session.replay(name)
    frames = []
    for original in session.frames:
        raw = original
        for old, new in edit.items():
            raw = raw.replace(old, new)
        frames.append(raw)
    session.frames = frames
    return session


async def _run_session(session: Session, **extra: object) -> Recorder:
    async with FakeAmi(session) as server:
        provider = AmiProvider(options(server.port, **extra))
        rec = Recorder()
        await provider.start(rec)
        await provider.wait_connected(5)
        await provider.close()
    assert server.errors == []
    return rec


async def test_rang_out_unanswered_is_missed_and_no_answer() -> None:
    """04 with Dial's timeout instead of the caller's cancel: DialStatus NOANSWER, cause 19."""
    session = _variant(
        "04_internal_unanswered_caller_cancel",
        {
            b"DialStatus: CANCEL": b"DialStatus: NOANSWER",
            b"Cause: 16\r\nCause-txt: Normal Clearing": b"Cause: 19\r\nCause-txt: No answer",
        },
    )
    rec = await _run_session(session)
    ends = {(e.extension, e.reason) for e in rec.events if e.event.value == "ended"}
    assert ends == {("1001", EndReason.MISSED), ("1002", EndReason.NO_ANSWER)}


async def test_busy_without_ringing_is_busy_not_rejected() -> None:
    """05 without the phone ever ringing (DND / already busy): the agent did not decline it."""
    never_rang = b"ChannelState: 0\r\nChannelStateDesc: Down"
    session = _variant(
        "05_internal_rejected_busy",
        {
            b"ChannelState: 5\r\nChannelStateDesc: Ringing": never_rang,
            b"DestChannelState: 5\r\nDestChannelStateDesc: Ringing": b"Dest"
            + never_rang.replace(b"\n", b"\nDest"),
        },
    )
    rec = await _run_session(session, extensions=["1001"])
    ((_, reason),) = [(e.extension, e.reason) for e in rec.events if e.event.value == "ended"]
    assert reason is EndReason.BUSY


async def test_sibling_answer_is_answered_elsewhere_even_without_cause_26() -> None:
    """12 with a plain Normal Clearing on Alice's leg (older Asterisk, other channel drivers):
    the queue's own DialEnd ANSWER for Carol still tells that Alice's leg was answered elsewhere."""
    session = _variant(
        "12_queue_call",
        {b"Cause: 26\r\nCause-txt: Answered elsewhere": b"Cause: 16\r\nCause-txt: Normal Clearing"},
    )
    rec = await _run_session(session, extensions=["1001"])
    ((_, reason),) = [(e.extension, e.reason) for e in rec.events if e.event.value == "ended"]
    assert reason is EndReason.ANSWERED_ELSEWHERE


async def test_queue_member_rung_out_is_missed() -> None:
    """A queue member whose ring time runs out (AgentRingNoAnswer) missed the call; the caller
    stays in the queue."""
    t = Transcript.load("12_queue_call")
    cut = t.frames_until(lambda m: m.event == "DialState")
    session = Session.replay(t.name)
    alice = "Channel: SIP/1002-0000001a\r\nUniqueid: 1795627249.26\r\nLinkedid: 1795627249.26\r\n"
    dest = "DestChannel: SIP/1001-0000001c\r\nDestUniqueid: 1795627250.28\r\nDestLinkedid: 1795627249.26\r\n"
    session.frames = [
        *t.frames[:cut],
        f"Event: AgentRingNoAnswer\r\n{alice}{dest}Queue: support\r\nInterface: SIP/1001\r\nRingTime: 15\r\n\r\n".encode(),
        b"Event: Hangup\r\nChannel: SIP/1001-0000001c\r\nUniqueid: 1795627250.28\r\nLinkedid: 1795627249.26\r\n"
        b"ChannelState: 5\r\nCause: 16\r\nCause-txt: Normal Clearing\r\n\r\n",
        t.frames[-1],  # Goodbye
    ]
    rec = await _run_session(session, extensions=["1001"])
    ((_, reason),) = [(e.extension, e.reason) for e in rec.events if e.event.value == "ended"]
    assert reason is EndReason.MISSED


def _hangups_swapped(frames: list[bytes]) -> list[bytes]:
    """The two legs' Hangup frames in the other order (chan_pjsip reports them either way)."""
    hangups = [i for i, raw in enumerate(frames) if raw.startswith(b"Event: Hangup\r\n")]
    first, second = hangups[-2:]
    out = list(frames)
    out[first], out[second] = frames[second], frames[first]
    return out


@pytest.mark.parametrize("name", ["pjsip/01_internal_answered", "pjsip/02_internal_callee_hangup"])
async def test_either_order_of_the_two_hangups_gives_the_same_calls(name: str) -> None:
    """Asterisk 22 chan_pjsip: caller and callee hang up (01: Bob, 02: Alice); whichever leg's
    Hangup comes first, both calls end the same way with the same durations."""
    outcomes = []
    for rewrite in (None, _hangups_swapped):
        rec, provider, server = await replay(name, technology="PJSIP", rewrite=rewrite)
        assert server.errors == [] and provider.live_call_ids() == ()
        outcomes.append(
            {
                c.extension: (c.direction, c.end_reason, c.duration_seconds, c.remote.digits)
                for c in rec.finals.values()
            }
        )
        assert settled(rec.summary())[-2:] == [
            ("ended", "1001", "incoming", "completed"),
            ("ended", "1002", "outgoing", "completed"),
        ]
    assert outcomes[0] == outcomes[1]
    assert {ext: o[1] for ext, o in outcomes[0].items()} == {
        "1001": EndReason.COMPLETED,
        "1002": EndReason.COMPLETED,
    }
