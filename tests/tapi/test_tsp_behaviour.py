"""What TSPs really do, played by the fake tapi32, through the real ctypes layer and a real
CallManager: late caller ID, missed calls, a waiting second call, monitor-only lines, LINEERR_*
codes, late and lost LINE_REPLYs, click-to-dial with the line's prefix, hold, transfer."""

from __future__ import annotations

import asyncio

import pytest

from callsys.errors import NotSupported, ProviderError, ProviderUnavailable, UnknownCall
from callsys.model import CallEvent, CallState, Direction, EndReason
from callsys.provider import Capability, Registration
from providers.tapi import MONITOR_ONLY_MESSAGE, TapiError
from providers.tapi.binding import load
from tests.tapi.conftest import Rig
from tests.tapi.fake import (
    BUSY_MODE,
    CONNECTED,
    DISCONNECTED,
    IDLE,
    NO_ANSWER,
    NOANSWER,
    NORMAL,
    PICKUP,
    REFUSE_OWNER,
    FakeTapi,
    until,
)

pytestmark = pytest.mark.asyncio

SARA = "+982188776655"
SARA_NAME = "سارا احمدی"  # UTF-16 both ways: a Persian name must survive the W functions
LINEERR_INVALCALLSTATE = 0x8000001C
LINEERR_INVALADDRESS = 0x80000010
LINEERR_RESOURCEUNAVAIL = 0x8000004B
LINEERR_NODRIVER = 0x80000043


async def ringing(
    rig: Rig, caller: str | None = SARA, name: str = "", called: str = "7000"
) -> tuple[int, str]:
    """Make a call ring on line 0; returns its HCALL and callsys call id."""
    before = {call.id for _e, call in rig.events}
    handle = rig.fake.offer(0, caller, name, called)
    await until(lambda: {call.id for _e, call in rig.events} - before, "the call rings")
    (call_id,) = {call.id for _e, call in rig.events} - before
    return handle, call_id


async def test_caller_id_that_comes_after_offering_updates_the_call_and_is_logged(rig: Rig) -> None:
    handle, call_id = await ringing(rig, caller=None)
    first = rig.call(call_id)
    assert first.state is CallState.RINGING and first.direction is Direction.INCOMING
    assert first.remote.is_anonymous and first.dnis == "7000" and first.line == "Sales 201"

    rig.fake.set_caller(handle, SARA, SARA_NAME)  # LINE_CALLINFO(CALLERID) a moment later
    await until(lambda: rig.kinds(call_id)[-1] is CallEvent.UPDATED, "the caller ID update")
    updated = rig.call(call_id)
    assert updated.remote.e164 == SARA and updated.remote_name == SARA_NAME

    rig.fake.state(handle, DISCONNECTED, NORMAL)  # the caller gives up
    await until(lambda: rig.fake.live_calls == 0, "the call is dropped and deallocated")
    ended = rig.call(call_id)
    assert ended.end_reason is EndReason.CANCELLED and ended.is_missed
    assert ended.remote.e164 == SARA and ended.remote_name == SARA_NAME  # what the call log gets
    assert any(line.startswith("lineDrop") for line in rig.fake.log())  # the owner frees it


async def test_offering_then_idle_is_a_missed_call_and_the_handle_is_freed(rig: Rig) -> None:
    handle, call_id = await ringing(rig)
    rig.fake.state(handle, IDLE)
    await until(lambda: rig.fake.live_calls == 0, "lineDeallocateCall")
    call = rig.call(call_id)
    assert rig.kinds(call_id) == [CallEvent.INCOMING, CallEvent.ENDED]
    assert call.end_reason is EndReason.MISSED and call.remote.e164 == SARA


@pytest.mark.parametrize(
    ("mode", "reason"),
    [(NOANSWER, EndReason.MISSED), (PICKUP, EndReason.ANSWERED_ELSEWHERE), (BUSY_MODE, EndReason.BUSY)],
)
async def test_disconnect_modes_of_a_ringing_call(rig: Rig, mode: int, reason: EndReason) -> None:
    handle, call_id = await ringing(rig)
    rig.fake.state(handle, DISCONNECTED, mode)
    await until(lambda: rig.fake.live_calls == 0, "the call is freed")
    assert rig.call(call_id).end_reason is reason


async def test_answer_from_callsys_then_the_far_end_hangs_up(rig: Rig) -> None:
    handle, call_id = await ringing(rig, name="Sara")
    await rig.provider.answer(call_id)
    await until(lambda: rig.call(call_id).state is CallState.ACTIVE, "connected")
    assert f"lineAnswer {handle}" in rig.fake.log()
    rig.fake.state(handle, DISCONNECTED, NORMAL)
    await until(lambda: rig.fake.live_calls == 0, "freed")
    assert rig.call(call_id).end_reason is EndReason.COMPLETED


async def test_reject_drops_the_ringing_call(rig: Rig) -> None:
    handle, call_id = await ringing(rig)
    await rig.provider.reject(call_id)
    await until(lambda: rig.fake.live_calls == 0, "freed")
    assert f"lineDrop {handle}" in rig.fake.log()
    assert rig.call(call_id).end_reason is EndReason.REJECTED
    with pytest.raises(UnknownCall):
        await rig.provider.answer(call_id)


async def test_a_second_call_on_the_line_waits_and_answering_it_holds_the_first(rig: Rig) -> None:
    first, first_id = await ringing(rig)
    await rig.provider.answer(first_id)
    await until(lambda: rig.call(first_id).state is CallState.ACTIVE, "first connected")
    second, second_id = await ringing(rig, caller="09123456789")
    assert rig.call(second_id).waiting  # IN5

    await rig.provider.answer(second_id)
    await until(lambda: rig.call(second_id).state is CallState.ACTIVE, "second connected")
    assert rig.call(first_id).state is CallState.HELD
    log = rig.fake.log()
    assert log.index(f"lineHold {first}") < log.index(f"lineAnswer {second}")

    rig.fake.state(second, DISCONNECTED, NORMAL)
    await until(lambda: rig.call(second_id).state is CallState.ENDED, "second ended")
    await rig.provider.resume(first_id)
    await until(lambda: rig.call(first_id).state is CallState.ACTIVE, "first back")
    assert rig.kinds(first_id)[-2:] == [CallEvent.HELD, CallEvent.RESUMED]


async def test_a_line_the_tsp_lets_us_only_watch_says_why_answer_is_not_possible(fake: FakeTapi) -> None:
    fake.add_line("Reception", REFUSE_OWNER)
    rig = await Rig(fake).start()
    try:
        assert fake.privileges(0) == 0x2  # LINECALLPRIVILEGE_MONITOR only, after the refusal
        (line,) = rig.provider.lines()
        assert line.registration is Registration.ONLINE and "watched only" in line.detail
        assert Capability.ANSWER not in rig.provider.capabilities
        _handle, call_id = await ringing(rig)
        assert rig.call(call_id).remote.e164 == SARA  # the pop-up still shows who calls
        with pytest.raises(NotSupported) as exc:
            await rig.provider.answer(call_id)
        assert str(exc.value) == MONITOR_ONLY_MESSAGE and "desk phone" in str(exc.value)
        with pytest.raises(NotSupported):
            await rig.provider.dial("1002")
    finally:
        await rig.provider.close()


async def test_a_line_without_the_answer_feature_says_so_before_asking(fake: FakeTapi) -> None:
    fake.add_line("Hotline", NO_ANSWER)
    rig = await Rig(fake).start()
    try:
        _handle, call_id = await ringing(rig)
        with pytest.raises(NotSupported, match="only watched"):
            await rig.provider.answer(call_id)
        assert not any(line.startswith("lineAnswer") for line in fake.log())
    finally:
        await rig.provider.close()


async def test_monitor_only_option_opens_with_monitor_privilege(fake: FakeTapi) -> None:
    fake.add_line("Sales 201")
    rig = await Rig(fake, monitor_only=True).start()
    try:
        assert fake.privileges(0) == 0x2
        assert rig.provider.capabilities == frozenset()
    finally:
        await rig.provider.close()


async def test_lineerr_codes_become_sentences_at_once_and_in_the_reply(rig: Rig) -> None:
    handle, call_id = await ringing(rig)
    rig.fake.fail_next("lineAnswer", LINEERR_INVALCALLSTATE, later=True)  # in the LINE_REPLY
    with pytest.raises(ProviderError) as exc:
        await rig.provider.answer(call_id)
    text = str(exc.value)
    assert text.startswith("Could not answer the call. The call is not in a state that allows this")
    assert "LINEERR_INVALCALLSTATE" in text
    assert rig.call(call_id).state is CallState.RINGING

    rig.fake.fail_next("lineDrop", LINEERR_RESOURCEUNAVAIL)  # refused at once
    with pytest.raises(TapiError, match="busy; try again") as refused:
        await rig.provider.reject(call_id)
    assert refused.value.code == LINEERR_RESOURCEUNAVAIL
    rig.fake.state(handle, IDLE)
    await until(lambda: rig.fake.live_calls == 0, "freed")
    assert rig.call(call_id).end_reason is EndReason.MISSED  # the failed reject did not count


async def test_a_late_reply_is_matched_to_its_request(rig: Rig) -> None:
    _handle, call_id = await ringing(rig)
    rig.fake.hold_replies()
    answering = asyncio.ensure_future(rig.provider.answer(call_id))
    await until(lambda: rig.fake.pending_replies == 1, "the request is out")
    await asyncio.sleep(0)
    assert not answering.done()  # waits for its LINE_REPLY, not for the lineAnswer return
    assert rig.fake.release_replies() == 1
    await answering
    await until(lambda: rig.call(call_id).state is CallState.ACTIVE, "connected")


async def test_a_reply_that_never_comes_times_out_with_a_clear_error(fake: FakeTapi) -> None:
    fake.add_line("Sales 201")
    rig = await Rig(fake, reply_timeout=0.05).start()
    try:
        handle, call_id = await ringing(rig)
        fake.hold_replies()
        with pytest.raises(ProviderUnavailable, match="did not confirm the request to answer the call"):
            await rig.provider.answer(call_id)
        fake.hold_replies(False)
        fake.release_replies()  # the late reply arrives and is ignored; the call goes on
        await until(lambda: rig.call(call_id).state is CallState.ACTIVE, "connected after all")
        fake.state(handle, DISCONNECTED, NORMAL)
        await until(lambda: fake.live_calls == 0, "freed")
    finally:
        await rig.provider.close()


async def test_click_to_dial_on_a_line_with_its_prefix_hold_and_blind_transfer(fake: FakeTapi) -> None:
    fake.add_line("Sales 201")
    fake.add_line("Trunk 2")
    rig = await Rig(
        fake, lines=[{"id": "Sales 201", "label": "Sales"}, {"id": "trunk 2", "label": "Out", "prefix": "9"}]
    ).start()
    try:
        call_id = await rig.provider.dial("021 8877 6655", line="Out")
        assert "lineMakeCallW Trunk 2 902188776655" in fake.log()
        await until(lambda: rig.call(call_id).state is CallState.ALERTING, "ringback")
        call = rig.call(call_id)
        assert call.direction is Direction.OUTGOING and call.remote.e164 == SARA and call.line == "Out"
        made = fake.last_call
        fake.state(made, CONNECTED)
        await until(lambda: rig.call(call_id).state is CallState.ACTIVE, "answered")
        await rig.provider.hold(call_id)
        await until(lambda: rig.call(call_id).state is CallState.HELD, "held")
        await rig.provider.resume(call_id)
        await until(lambda: rig.call(call_id).state is CallState.ACTIVE, "resumed")
        await rig.provider.transfer(call_id, "1002")
        assert f"lineBlindTransferW {made} 1002" in fake.log()
        await until(lambda: fake.live_calls == 0, "transferred away and freed")
        assert rig.call(call_id).end_reason is EndReason.COMPLETED
        assert not any(line.startswith("lineDrop") for line in fake.log())  # it was not ours to drop
    finally:
        await rig.provider.close()


async def test_a_dial_the_tsp_refuses_ends_the_call_as_failed(rig: Rig) -> None:
    rig.fake.fail_next("lineMakeCallW", LINEERR_INVALADDRESS, later=True)
    with pytest.raises(ProviderError, match="cannot dial that number"):
        await rig.provider.dial("09123456789")
    call = rig.only_call()
    assert rig.kinds(call.id) == [CallEvent.OUTGOING, CallEvent.ENDED]
    assert call.end_reason is EndReason.FAILED and rig.fake.live_calls == 0
    rig.fake.fail_next("lineMakeCallW", LINEERR_INVALADDRESS)  # refused at once: no call at all
    with pytest.raises(ProviderError, match="cannot dial that number"):
        await rig.provider.dial("09123456789")
    assert len({c.id for _e, c in rig.events}) == 1


async def test_an_outgoing_call_to_a_busy_number(rig: Rig) -> None:
    call_id = await rig.provider.dial("1002")
    await until(lambda: rig.call(call_id).state is CallState.ALERTING, "ringback")
    made = rig.fake.last_call
    rig.fake.state(made, 0x40)  # LINECALLSTATE_BUSY
    rig.fake.state(made, DISCONNECTED, BUSY_MODE)
    await until(lambda: rig.fake.live_calls == 0, "freed")
    assert rig.call(call_id).end_reason is EndReason.BUSY


async def test_a_call_dialled_on_the_desk_phone_shows_up_as_outgoing(rig: Rig) -> None:
    handle = rig.fake.phone_dials(0, "09123456789")
    await until(lambda: rig.events, "the call appears")
    call = rig.only_call()
    assert call.direction is Direction.OUTGOING and call.remote.digits.endswith("9123456789")
    rig.fake.set_connected(handle, "09123456789")
    rig.fake.state(handle, CONNECTED)
    await until(lambda: rig.call(call.id).state is CallState.ACTIVE, "answered")


async def test_long_call_info_is_read_again_with_the_size_tapi_asks_for(rig: Rig) -> None:
    name = "ب" * 300  # 600 bytes of UTF-16: more than the first buffer's room for strings
    handle, call_id = await ringing(rig, name=name)
    assert rig.fake.too_small >= 1  # the first try was too small …
    lib = load(str(rig.fake.path))
    assert lib.call_info(handle).caller_name == name  # … the second got all of it
    assert rig.call(call_id).remote_name == name[:256]  # callsys keeps 256 characters of any name


async def test_no_tsp_and_no_lines_are_said_plainly(fake: FakeTapi) -> None:
    rig = await Rig(fake).start()  # the fake offers no line
    assert rig.statuses[-1].registration is Registration.OFFLINE
    assert "TSP" in rig.statuses[-1].message and "Phone and Modem" in rig.statuses[-1].message
    assert not fake.initialized  # nothing to watch: TAPI is given back at once
    with pytest.raises(ProviderUnavailable):
        await rig.provider.dial("1002")
    await rig.provider.close()

    fake.init_error(LINEERR_NODRIVER)
    rig = await Rig(fake).start()
    assert rig.statuses[-1].registration is Registration.OFFLINE
    assert "LINEERR_NODRIVER" in rig.statuses[-1].message and "Phone and Modem" in rig.statuses[-1].message
    await rig.provider.close()


async def test_a_configured_line_tapi_does_not_have_is_named_with_the_ones_it_has(fake: FakeTapi) -> None:
    fake.add_line("Sales 201")
    fake.add_line("Old line", 4)  # TAPI 1.4 only: skipped
    rig = await Rig(fake, lines=["Sales 201", "Support 202"]).start()
    try:
        sales, support = rig.provider.lines()
        assert sales.registration is Registration.ONLINE
        assert support.registration is Registration.OFFLINE and "it has: Sales 201" in support.detail
        assert rig.statuses[-1].registration is Registration.ONLINE
    finally:
        await rig.provider.close()


async def test_close_frees_calls_closes_lines_and_shuts_tapi_down(rig: Rig) -> None:
    await ringing(rig)
    assert rig.fake.app_name == "callsys"
    await rig.provider.close()
    log = rig.fake.log()
    assert "lineClose Sales 201" in log and log[-1] == "lineShutdown"
    assert not rig.fake.initialized and rig.fake.live_calls == 0
    assert rig.statuses[-1].registration is Registration.OFFLINE


async def test_a_call_state_that_comes_before_the_dial_reply_is_kept_for_the_call(rig: Rig) -> None:
    rig.fake.late_handle()  # PROCEEDING arrives while the HCALL is not known yet
    rig.fake.hold_replies()
    dialling = asyncio.ensure_future(rig.provider.dial("1002"))
    await until(lambda: rig.fake.pending_replies == 1, "the request is out")
    await until(lambda: rig.provider.messages_seen >= 1, "the early LINE_CALLSTATE")
    rig.fake.hold_replies(False)
    rig.fake.release_replies()
    call_id = await dialling
    await until(lambda: rig.call(call_id).state is CallState.ALERTING, "ringback")
    assert len({c.id for _e, c in rig.events}) == 1  # not a second, adopted call
    rig.fake.state(rig.fake.last_call, CONNECTED)
    await until(lambda: rig.call(call_id).state is CallState.ACTIVE, "answered")
    await rig.provider.hangup(call_id)
    await until(lambda: rig.fake.live_calls == 0, "freed")
    assert rig.call(call_id).end_reason is EndReason.COMPLETED


async def test_a_line_the_tsp_closes_ends_its_calls_and_says_so(rig: Rig) -> None:
    _handle, call_id = await ringing(rig)
    rig.fake.post(rig.fake.line_handle(0), 3)  # LINE_CLOSE
    await until(lambda: rig.statuses[-1].registration is Registration.OFFLINE, "offline")
    assert "closed the line" in rig.statuses[-1].message
    assert rig.call(call_id).state is CallState.ENDED
    with pytest.raises(ProviderUnavailable, match="closed the line"):
        await rig.provider.dial("1002")


async def test_the_dialled_number_names_the_line_and_a_forwarded_call_says_so(fake: FakeTapi) -> None:
    fake.add_line("Sales 201")
    rig = await Rig(
        fake,
        lines=[{"id": "Sales 201", "label": "Agent"}, {"id": "DID", "label": "Sales", "did": "021 7000"}],
    ).start()
    try:
        fake.offer(0, SARA, "", "0217000", reason=0x4)  # LINECALLREASON_FWDNOANSWER
        await until(lambda: rig.events, "rings")
        call = rig.only_call()
        assert call.dnis == "0217000" and call.line == "Sales"  # IN12: the DID, not the phone's line
        assert dict(call.variables) == {"Reason": "forwarded (no answer)"}
    finally:
        await rig.provider.close()
