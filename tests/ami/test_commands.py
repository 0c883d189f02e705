"""Commands and configuration: honest capabilities, click-to-dial with prefix and line
(OUT3, SET3, SET4), reject, hang up, blind transfer, hold seen on the phone, PJSIP names,
watching every extension, and readable configuration errors."""

from __future__ import annotations

import pytest

from callsys.errors import ConfigError, NotSupported, ProviderError, ProviderUnavailable, UnknownCall
from callsys.model import CallEvent, CallState, EndReason
from callsys.provider import Capability, Provider, require
from providers import REGISTRY
from providers.ami import NO_ANSWER_MESSAGE, ActionFailed, AmiProvider, endpoint_of
from tests.ami.expected import EXPECTED
from tests.ami.fakeami import FakeAmi, Session, Transcript, frame
from tests.ami.harness import Recorder, _prefix_of, _until, connected, options, replay, settled

pytestmark = pytest.mark.asyncio


async def test_capabilities_are_honest_no_answer_on_a_desk_phone() -> None:
    provider = AmiProvider({"username": "u", "extensions": ["1001"]})
    assert isinstance(provider, Provider)
    caps = provider.capabilities
    assert Capability.ANSWER not in caps and Capability.HOLD not in caps and Capability.DTMF not in caps
    assert {Capability.DIAL, Capability.HANGUP, Capability.REJECT, Capability.TRANSFER} <= caps
    assert Capability.ALL_EXTENSIONS not in caps
    with pytest.raises(NotSupported) as exc:
        await provider.answer("ami:1.1")
    assert str(exc.value) == NO_ANSWER_MESSAGE and "softphone" in str(exc.value)
    with pytest.raises(NotSupported, match="cannot hold"):
        await provider.hold("ami:1.1")
    with pytest.raises(NotSupported):
        require(provider, Capability.ANSWER)
    with pytest.raises(UnknownCall):
        await provider.hangup("ami:no-such-call")


async def test_registry_and_configuration_errors_name_the_key() -> None:
    assert REGISTRY.title("ami") == "Asterisk (AMI)"
    provider = REGISTRY.create("ami", {"username": "callsys", "extensions": "1001, 1002", "name": "branch2"})
    assert isinstance(provider, AmiProvider)
    assert provider.name == "branch2" and [line.id for line in provider.lines()] == ["1001", "1002"]
    for bad, key in (
        ({}, "username"),
        ({"username": "u", "port": 70000}, "port"),
        ({"username": "u", "port": "x"}, "port"),
        ({"username": "u", "lines": [{"label": "no id"}]}, "lines"),
        ({"username": "u", "technology": "SIP/"}, "technology"),
        ({"username": "u", "region": "Atlantis"}, "region"),
        ({"username": "u", "pbx_clock": "yes"}, "pbx_clock"),
    ):
        with pytest.raises(ConfigError) as exc:
            AmiProvider(bad)
        assert exc.value.key == f"phone.options.{key}"


@pytest.mark.parametrize(
    ("channel", "endpoint"),
    [
        ("SIP/1001-00000001", "1001"),
        ("PJSIP/1001-0000002a", "1001"),
        ("PJSIP/alice-00000003", "alice"),
        ("SIP/trunk-00000008", "trunk"),
        ("IAX2/1001-12345", "1001"),
        ("Local/1001@from-queue-00000001;1", None),
        ("", None),
    ],
)
async def test_channel_names_of_any_technology(channel: str, endpoint: str | None) -> None:
    assert endpoint_of(channel) == endpoint


async def test_pjsip_channel_names_give_the_same_calls() -> None:
    """chan_pjsip produces the same events with PJSIP/ names: nothing hard-codes SIP/."""
    t = Transcript.load("02_internal_answered")
    session = Session.replay(t.name)
    session.frames = [f.replace(b"SIP/", b"PJSIP/") for f in session.frames]
    async with FakeAmi(session) as server:
        provider = AmiProvider(options(server.port, technology="PJSIP"))
        rec = Recorder()
        await provider.start(rec)
        await provider.wait_connected(5)
        await provider.close()
    assert settled(rec.summary()) == settled(EXPECTED[t.name])


async def test_watching_every_extension_skips_the_trunk() -> None:
    rec, provider, _ = await replay("06_trunk_did_7000", extensions=["*"])
    assert Capability.ALL_EXTENSIONS in provider.capabilities
    assert {e.extension for e in rec.events} == {"1001"}  # not "trunk"
    rec, _, _ = await replay("02_internal_answered", extensions=["*"])
    assert {e.extension for e in rec.events} == {"1001", "1002"}


LINES = [{"id": "sales", "label": "Sales", "prefix": "81", "context": "out-sales"}]


async def test_click_to_dial_with_prefix_and_lines_set3_set4() -> None:
    session = Session(frames=[], keep_open=True, accept=("Originate",))
    async with connected(
        session,
        extensions=["1001", "1002"],
        prefix="9",
        technology="PJSIP",
        context="from-internal",
        lines=LINES,
    ) as (provider, rec, server):
        public = await provider.dial("030 1234567")
        internal = await provider.dial("1003")
        on_line = await provider.dial("030 1234567", line="sales")
        from_bob = await provider.dial("1003", line="1002")
        with pytest.raises(ProviderError, match="no line"):
            await provider.dial("1003", line="nope")
        with pytest.raises(ProviderError, match="cannot be dialled"):
            await provider.dial("anonymous")
        sent = server.actions("Originate")
        assert [(m.get("Channel"), m.get("Exten"), m.get("Context")) for m in sent] == [
            ("PJSIP/1001", "90301234567", "from-internal"),  # SET3: outside-line prefix
            ("PJSIP/1001", "1003", "from-internal"),  # an extension: no prefix
            ("PJSIP/1001", "810301234567", "out-sales"),  # SET4: the line's own route
            ("PJSIP/1002", "1003", "from-internal"),  # ring Bob's phone first
        ]
        assert "CALLSYS_LINE=sales" in sent[2].get_all("Variable")
        assert all(m.get("Async") == "true" and m.get("Timeout") == "30000" for m in sent)
        assert not any("CallerID" in m for m in sent)  # the phones' own caller IDs go out
        calls = {c.id: c for c in rec.manager.live_calls()}
        assert set(calls) == {public, internal, on_line, from_bob}
        assert calls[public].remote.e164 == "+49301234567" and calls[public].state is CallState.DIALING
        assert calls[on_line].line == "Sales"
        assert calls[from_bob].extension == "1002"
        assert provider.lines()[0].label == "Sales"
        # The agent's phone never rang (Asterisk says so): the pending call ends, none stays.
        await server.conns[0].inject(
            frame(Event="OriginateResponse", ActionID=sent[1].action_id, Response="Failure", Reason="3"),
            frame(Event="OriginateResponse", ActionID=sent[0].action_id, Response="Failure", Reason="0"),
        )
        await _until(lambda: len(rec.manager.live_calls()) == 2)
    assert rec.finals[internal].end_reason is EndReason.CANCELLED
    assert rec.finals[public].end_reason is EndReason.FAILED


async def test_refused_originate_raises_and_ends_the_call() -> None:
    async with connected(Session(frames=[], keep_open=True), extensions=["1001"]) as (provider, rec, _):
        with pytest.raises(ActionFailed, match="refused Originate"):
            await provider.dial("1002")
    assert [(e.event, e.reason) for e in rec.events] == [
        (CallEvent.OUTGOING, None),
        (CallEvent.ENDED, EndReason.FAILED),
    ]


async def test_dial_while_disconnected_is_refused_without_a_ghost_call() -> None:
    provider = AmiProvider({"username": "u", "extensions": ["1001"], "port": 9})
    rec = Recorder()
    provider._listener = rec
    with pytest.raises(ProviderUnavailable):
        await provider.dial("1002")
    assert rec.events == []


async def test_reject_a_ringing_call() -> None:
    session = _prefix_of("02_internal_answered", lambda m: m.event == "DialState", accept=("Hangup",))
    async with connected(session, extensions=["1001"]) as (provider, rec, server):
        await _until(lambda: len(rec.manager.live_calls()) == 1)
        (call,) = rec.manager.live_calls()
        assert call.state is CallState.RINGING
        await provider.reject(call.id)
        (hangup,) = server.actions("Hangup")
        assert (hangup.get("Channel"), hangup.get("Cause")) == ("SIP/1001-00000001", "21")
        await server.conns[0].inject(
            frame(Event="Hangup", Channel="SIP/1001-00000001", Uniqueid="1795627114.1", Linkedid="1795627114.0",
                  ChannelState="5", Cause="21", Timestamp="1795627115.0")
        )  # fmt: skip
        await _until(lambda: rec.manager.live_calls() == ())
    assert rec.finals[call.id].end_reason is EndReason.REJECTED


VOICEMAIL = {"voicemail_exten": "vm${EXTEN}", "voicemail_context": "default"}
ALICE_LEG = {"Channel": "SIP/1001-00000001", "Uniqueid": "1795627114.1", "Linkedid": "1795627114.0"}


async def test_send_to_voicemail_redirects_the_caller_in6() -> None:
    """Bob (1002) rings Alice (1001); Alice sends him to her voicemail: Bob's channel — not
    Alice's ringing leg — is redirected to vm1001@default, byte for byte as AMI frames it."""
    session = _prefix_of("02_internal_answered", lambda m: m.event == "DialState", accept=("Redirect",))
    async with connected(session, extensions=["1001"], **VOICEMAIL) as (provider, rec, server):
        assert Capability.VOICEMAIL in provider.capabilities
        await _until(lambda: len(rec.manager.live_calls()) == 1)
        (call,) = rec.manager.live_calls()
        assert call.state is CallState.RINGING
        await provider.send_to_voicemail(call.id)
        (redirect,) = server.actions("Redirect")
        frame_bytes = (
            f"Action: Redirect\r\nActionID: {redirect.action_id}\r\nChannel: SIP/1002-00000000\r\n"
            "Context: default\r\nExten: vm1001\r\nPriority: 1\r\n\r\n"
        ).encode()
        assert frame_bytes in bytes(server.conns[0].raw)
        assert server.actions("Hangup") == []  # Alice's leg is left to Asterisk
        # What Asterisk does next: Bob's Dial ends (CANCEL) and Alice's leg is hung up.
        await server.conns[0].inject(
            frame(Event="DialEnd", Channel="SIP/1002-00000000", Uniqueid="1795627114.0",
                  Linkedid="1795627114.0", DestChannel="SIP/1001-00000001", DestUniqueid="1795627114.1",
                  DestLinkedid="1795627114.0", DialStatus="CANCEL", Timestamp="1795627115.0"),
            frame(Event="Hangup", **ALICE_LEG, ChannelState="5", Cause="16", Timestamp="1795627115.1"),
        )  # fmt: skip
        await _until(lambda: rec.manager.live_calls() == ())
    ended = rec.finals[call.id]
    assert ended.end_reason is EndReason.VOICEMAIL and ended.answered_at is None


async def test_voicemail_refused_by_asterisk_is_a_clear_error_and_the_call_rings_on() -> None:
    session = _prefix_of("02_internal_answered", lambda m: m.event == "DialState")  # Redirect → Error
    async with connected(session, extensions=["1001"], voicemail_exten="*97", voicemail_priority=2) as (
        provider,
        rec,
        server,
    ):
        await _until(lambda: len(rec.manager.live_calls()) == 1)
        (call,) = rec.manager.live_calls()
        with pytest.raises(ProviderError) as exc:
            await provider.send_to_voicemail(call.id)
        assert str(exc.value) == (
            "Could not send the call to voicemail: Asterisk refused the Redirect of "
            "SIP/1002-00000000 to *97@internal (Not part of this recording)."
        )
        (redirect,) = server.actions("Redirect")
        assert (redirect.get("Context"), redirect.get("Exten"), redirect.get("Priority")) == (
            "internal",  # voicemail_context defaults to context
            "*97",
            "2",
        )
        # the caller gives up later: an ordinary cancelled call, not "voicemail"
        await server.conns[0].inject(
            frame(Event="Hangup", **ALICE_LEG, ChannelState="5", Cause="16", Timestamp="1795627116.0")
        )
        await _until(lambda: rec.manager.live_calls() == ())
    assert rec.finals[call.id].end_reason is EndReason.CANCELLED


async def test_voicemail_only_when_configured_and_only_for_a_ringing_incoming_call() -> None:
    provider = AmiProvider({"username": "u", "extensions": ["1001"]})
    assert Capability.VOICEMAIL not in provider.capabilities
    with pytest.raises(NotSupported, match="cannot send calls to voicemail"):
        await provider.send_to_voicemail("ami:1.1")
    for bad, key in (
        ({"voicemail_exten": "vm${CALLERID(num)}"}, "voicemail_exten"),
        ({"voicemail_exten": "vm 1001"}, "voicemail_exten"),
        ({"voicemail_exten": "vm1\nAction: Command"}, "voicemail_exten"),
        ({"voicemail_exten": "vm${EXTEN}", "voicemail_context": "a,b"}, "voicemail_context"),
        ({"voicemail_exten": "vm${EXTEN}", "voicemail_priority": 0}, "voicemail_priority"),
    ):
        with pytest.raises(ConfigError) as exc:
            AmiProvider({"username": "u", **bad})
        assert exc.value.key == f"phone.options.{key}"
    session = _prefix_of(
        "02_internal_answered",
        lambda m: m.event == "BridgeEnter" and m.get("Channel").startswith("SIP/1002"),
        accept=("Redirect",),
    )
    async with connected(session, extensions=["1001"], **VOICEMAIL) as (provider, rec, server):
        await _until(lambda: [c.state for c in rec.manager.live_calls()] == [CallState.ACTIVE])
        (call,) = rec.manager.live_calls()
        with pytest.raises(ProviderError, match="Only a ringing incoming call"):
            await provider.send_to_voicemail(call.id)
        assert server.actions("Redirect") == []


async def test_transfer_and_hangup_of_a_connected_call() -> None:
    session = _prefix_of(
        "02_internal_answered",
        lambda m: m.event == "BridgeEnter" and m.get("Channel").startswith("SIP/1002"),
        accept=("Redirect", "Hangup"),
    )
    async with connected(session, extensions=["1001"]) as (provider, rec, server):
        await _until(lambda: [c.state for c in rec.manager.live_calls()] == [CallState.ACTIVE])
        (call,) = rec.manager.live_calls()
        with pytest.raises(ProviderError, match="Only a ringing"):
            await provider.reject(call.id)
        with pytest.raises(ProviderError, match="not a number"):
            await provider.transfer(call.id, "sales; Action: Command")
        await provider.transfer(call.id, "1003")
        (redirect,) = server.actions("Redirect")
        # Bob (the other party) is sent on to 1003; Alice's leg then ends.
        assert (redirect.get("Channel"), redirect.get("Exten"), redirect.get("Context")) == (
            "SIP/1002-00000000",
            "1003",
            "internal",
        )
        await provider.hangup(call.id)
        assert server.actions("Hangup")[0].get("Channel") == "SIP/1001-00000001"


async def test_hold_and_unhold_on_the_phone() -> None:
    session = _prefix_of(
        "02_internal_answered", lambda m: m.event == "BridgeEnter" and m.get("Channel").startswith("SIP/1002")
    )
    async with connected(session, extensions=["1001"]) as (_, rec, server):
        await _until(lambda: [c.state for c in rec.manager.live_calls()] == [CallState.ACTIVE])
        alice = {"Channel": "SIP/1001-00000001", "Uniqueid": "1795627114.1", "Linkedid": "1795627114.0"}
        await server.conns[0].inject(frame(Event="Hold", **alice))
        await _until(lambda: [c.state for c in rec.manager.live_calls()] == [CallState.HELD])
        await server.conns[0].inject(frame(Event="Unhold", **alice))
        await _until(lambda: [c.state for c in rec.manager.live_calls()] == [CallState.ACTIVE])
    assert [e.event for e in rec.events][-2:] == [CallEvent.HELD, CallEvent.RESUMED]


async def test_the_party_put_on_hold_sees_it() -> None:
    """Alice holds Bob: AMI reports Hold on Alice's channel only; Bob's call, in the same bridge,
    shows that he is waiting on hold, and that it is over at the Unhold."""
    session = _prefix_of(
        "02_internal_answered", lambda m: m.event == "BridgeEnter" and m.get("Channel").startswith("SIP/1002")
    )
    async with connected(session, extensions=["1001", "1002"]) as (_, rec, server):
        await _until(
            lambda: (
                {c.state for c in rec.manager.live_calls()} == {CallState.ACTIVE}
                and len(rec.manager.live_calls()) == 2
            )
        )
        calls = {c.extension: c.id for c in rec.manager.live_calls()}
        alice = {"Channel": "SIP/1001-00000001", "Uniqueid": "1795627114.1", "Linkedid": "1795627114.0"}

        def bob_on_hold() -> bool | None:
            call = rec.manager.get(calls["1002"])
            return call.remote_hold if call else None

        await server.conns[0].inject(frame(Event="Hold", **alice))
        await _until(lambda: bob_on_hold() is True)
        assert rec.manager.get(calls["1001"]).state is CallState.HELD  # type: ignore[union-attr]
        assert rec.manager.get(calls["1002"]).state is CallState.ACTIVE  # type: ignore[union-attr]
        await server.conns[0].inject(frame(Event="Unhold", **alice))
        await _until(lambda: bob_on_hold() is False)
        assert rec.manager.get(calls["1001"]).state is CallState.ACTIVE  # type: ignore[union-attr]


async def test_server_mode_dials_from_any_watched_extension() -> None:
    """One connection watching every phone (the callsys server): the caller says which
    extension rings first, and may pick a line (SET4) on top."""
    session = Session(frames=[], keep_open=True, accept=("Originate",))
    async with connected(session, extensions=["*"], lines=LINES, technology="PJSIP") as (
        provider,
        rec,
        server,
    ):
        with pytest.raises(ProviderError, match="No extension"):
            await provider.dial("1002")  # from whom?
        first = await provider.dial("1002", line="1003")
        second = await provider.dial_as("1001", "030 1234567", "sales")
        with pytest.raises(ProviderError, match="not watched"):
            await provider.dial_as("trunk", "1002")
        with pytest.raises(ProviderError, match="no line"):
            await provider.dial_as("1001", "1002", "nope")
        sent = server.actions("Originate")
        assert [(m.get("Channel"), m.get("Exten"), m.get("Context")) for m in sent] == [
            ("PJSIP/1003", "1002", "internal"),
            ("PJSIP/1001", "810301234567", "out-sales"),
        ]
        calls = {c.id: c for c in rec.manager.live_calls()}
        assert (calls[first].extension, calls[second].extension, calls[second].line) == (
            "1003",
            "1001",
            "Sales",
        )
