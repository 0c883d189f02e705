"""Hold by the far end with real re-INVITEs (issue #3): sipp holds the three ways phones do
(``a=sendonly``, ``a=inactive``, RFC 2543's ``c=0.0.0.0``) and baresip holds with its own
command; the CallManager's call says ``remote_hold`` and stays connected, then comes back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from callsys.model import CallEvent, CallState, EndReason

from .peers import HOST, Baresip, free_port, run_sipp

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]

REMOTE_HOLD = Path(__file__).resolve().parent / "sipp_hold" / "remote_hold.xml"
RESUME_491 = Path(__file__).resolve().parent / "sipp_hold" / "resume_491.xml"


def remote_hold_changes(phone, call_id: str) -> list[tuple[bool, CallState]]:  # type: ignore[no-untyped-def]
    """(remote_hold, state) of the call each time the CallManager reported a change of it."""
    out: list[tuple[bool, CallState]] = []
    last = False
    for event, call in phone.calls:
        if call.id == call_id and event is CallEvent.UPDATED and call.remote_hold != last:
            last = call.remote_hold
            out.append((last, call.state))
    return out


@pytest.mark.parametrize(
    ("hold_dir", "hold_ip"),
    [("a=sendonly", HOST), ("a=inactive", HOST), ("a=sendrecv", "0.0.0.0")],
    ids=["sendonly", "inactive", "c=0.0.0.0"],
)
async def test_far_end_holds_and_resumes_with_a_reinvite(
    start_phone, tmp_path: Path, hold_dir: str, hold_ip: str
) -> None:
    phone = await start_phone()
    sipp = asyncio.create_task(
        run_sipp(
            [
                f"{HOST}:{phone.port}", "-sf", str(REMOTE_HOLD), "-key", "hold_dir", hold_dir,
                "-key", "hold_ip", hold_ip, "-m", "1", "-i", HOST, "-p", str(free_port()),
                "-nostdin", "-timeout", "30s", "-recv_timeout", "10000",
            ],
            tmp_path,
        )
    )  # fmt: skip
    ring = await phone.event(CallEvent.INCOMING)
    await phone.provider.answer(ring.call_id)
    await phone.event(CallEvent.ANSWERED, ring.call_id)
    await phone.until(lambda: remote_hold_changes(phone, ring.call_id), 10, "hold by the far end")
    call = phone.manager.get(ring.call_id)
    assert call is not None and call.remote_hold and call.state is CallState.ACTIVE
    await phone.until(lambda: len(remote_hold_changes(phone, ring.call_id)) == 2, 10, "the far end resuming")
    assert remote_hold_changes(phone, ring.call_id) == [(True, CallState.ACTIVE), (False, CallState.ACTIVE)]
    status, out = await sipp
    assert status == 0, out
    ended = await phone.event(CallEvent.ENDED, ring.call_id)
    assert ended.reason is EndReason.COMPLETED


async def test_baresip_holds_and_resumes(start_phone, baresip: Baresip) -> None:
    phone = await start_phone()
    call_id = await phone.provider.dial(f"1002@{baresip.address}")
    await phone.event(CallEvent.ANSWERED, call_id)
    await phone.hears(call_id, 1000)
    await baresip.cmd("hold")
    await phone.until(lambda: remote_hold_changes(phone, call_id), 10, "hold by baresip")
    assert phone.manager.get(call_id).state is CallState.ACTIVE  # type: ignore[union-attr]
    await phone.silent(call_id)  # baresip stopped sending its tone
    # our own hold and resume still work while they hold us
    await phone.provider.hold(call_id)
    await phone.event(CallEvent.HELD, call_id)
    await phone.provider.resume(call_id)
    await phone.event(CallEvent.RESUMED, call_id)
    await phone.until(lambda: phone.manager.get(call_id).remote_hold, 10, "still held by baresip")
    await baresip.cmd("resume")
    await phone.until(lambda: not phone.manager.get(call_id).remote_hold, 10, "baresip resuming")
    assert phone.manager.get(call_id).state is CallState.ACTIVE  # type: ignore[union-attr]
    await phone.hears(call_id, 1000)  # and its tone is back
    await phone.provider.hangup(call_id)
    assert (await phone.event(CallEvent.ENDED, call_id)).reason is EndReason.COMPLETED


async def test_a_resume_pjsua_undoes_by_itself_is_done_again(start_phone, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """pjsua marks a call held again when *any* re-INVITE after our resume fails (its own one
    that locks a codec, refused 491 because the far end re-INVITEs at the same time: what made
    test_baresip_holds_and_resumes fail under load); its next answer then says sendonly. The
    phone resumes the call again instead of leaving it held with nobody having asked for it —
    sipp (``sipp_hold/resume_491.xml``) waits for that re-INVITE."""
    phone = await start_phone()
    sipp = asyncio.create_task(
        run_sipp(
            [
                f"{HOST}:{phone.port}", "-sf", str(RESUME_491), "-m", "1", "-i", HOST,
                "-p", str(free_port()), "-nostdin", "-timeout", "30s", "-recv_timeout", "10000",
            ],
            tmp_path,
        )
    )  # fmt: skip
    ring = await phone.event(CallEvent.INCOMING)
    await phone.provider.answer(ring.call_id)
    await phone.event(CallEvent.ANSWERED, ring.call_id)
    await phone.provider.hold(ring.call_id)
    await phone.event(CallEvent.HELD, ring.call_id)
    await phone.provider.resume(ring.call_id)
    await phone.event(CallEvent.RESUMED, ring.call_id)
    status, out = await sipp
    assert status == 0, out  # the phone sent the second resume
    assert (await phone.event(CallEvent.ENDED, ring.call_id)).reason is EndReason.COMPLETED
    holds = [e.event for e in phone.events if e.event in (CallEvent.HELD, CallEvent.RESUMED)]
    assert holds == [CallEvent.HELD, CallEvent.RESUMED]  # no hold the agent did not ask for
