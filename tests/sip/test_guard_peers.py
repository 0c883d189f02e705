"""The flood guard's budget never leaks (issue #3 review): many normal calls of every way a
call can end — the caller cancelling (487), the ring timeout (480), the 5th call refused by the
4-call limit (486), DND (486), our reject (486), send to voicemail (302), a cut-short INVITE
(400), answered and hung up by either side (BYE), outgoing calls — at a normal pace (20 a
second), most kinds more often than the guard's 28-call budget holds. Not one of them may get
the guard's 503; after each kind no call is left and, once pjlib has had the sockets back, no
media slot counts as taken; and a normal call still rings.

A slot that leaked once per call would make the phone refuse every caller with 503 after at
most 28 calls; sipp fails a call that gets a 503 (``sipp_budget/*.xml``)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from callsys.errors import ProviderError
from callsys.model import CallEvent, EndReason
from providers.sip.guard import BUDGET, SLOTS_PER_CALL

from .peers import HOST, _udp_taken, free_port, run_sipp

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]

HERE = Path(__file__).resolve().parent
CALLER = HERE / "sipp_budget" / "caller.xml"
CANCEL = HERE / "sipp_budget" / "caller_cancel.xml"
CUT_SHORT = HERE / "sipp_malformed" / "m04_bad_content_length.xml"
#: calls of each kind: more than the budget holds, so one leaked slot per call would show
CALLS = BUDGET // SLOTS_PER_CALL + 2


async def callers(phone: Any, cwd: Path, scenario: Path, calls: int, limit: int = 3) -> None:
    """*calls* callers from sipp, 20 a second, at most *limit* at once; every one must end
    the way the scenario allows (never 503)."""
    args = [f"{HOST}:{phone.port}", "-sf", str(scenario), "-m", str(calls), "-r", "20", "-l", str(limit)]
    args += ["-i", HOST, "-p", str(free_port()), "-nostdin", "-timeout", "90s", "-recv_timeout", "10000"]
    status, out = await run_sipp(args, cwd, timeout=120)
    assert status == 0, f"{scenario.name}: {out[-3000:]}"


def budget_of(phone: Any) -> Any:
    return phone.provider.engine._budget


async def slots_back(phone: Any, what: str) -> None:
    """No call left, and once pjlib has had the closed sockets back no slot counts as taken."""
    assert phone.provider.engine.call_count() == 0, what
    await phone.until(lambda: budget_of(phone).slots_in_use(0) == 0, 5, f"{what}: the budget back to 0")


async def test_no_way_a_call_ends_leaks_a_media_slot(start_phone, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    phone = await start_phone(
        ring_timeout=1.0, lines=[{"id": "desk", "user": "callsys", "voicemail_uri": "*97"}]
    )
    mode = ["ring"]
    tasks: set[asyncio.Task[None]] = set()

    async def act(call_id: str, what: str) -> None:
        with contextlib.suppress(ProviderError):  # the caller may be gone meanwhile
            if what == "reject":
                await phone.provider.reject(call_id)
            elif what == "voicemail":
                await phone.provider.send_to_voicemail(call_id)
            elif what in ("answer", "answer+hangup"):
                await phone.provider.answer(call_id)
            elif what == "hangup":
                await phone.provider.hangup(call_id)

    def on_event(kind: CallEvent, call: Any) -> None:
        if kind is CallEvent.INCOMING and mode[0] != "ring":
            what = mode[0]
        elif kind is CallEvent.ANSWERED and mode[0] == "answer+hangup":
            what = "hangup"  # at once: sipp hangs up itself 0.5 s after its ACK
        else:
            return
        task = asyncio.get_running_loop().create_task(act(call.id, what))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    phone.manager.subscribe(on_event)

    async def kind(name: str, scenario: Path, calls: int = CALLS, limit: int = 3) -> None:
        mode[0] = name
        await callers(phone, tmp_path, scenario, calls, limit)
        await phone.until(lambda: not phone.manager.live_calls() and not tasks, 15, f"{name}: all ended")
        await slots_back(phone, name)

    await kind("ring", CANCEL)  # the caller gives up while it rings: 487
    await kind("reject", CALLER)  # 486 (reject_code)
    await kind("voicemail", CALLER)  # 302
    # answered one at a time (answering a 2nd would hold the 1st: a re-INVITE sipp does not take)
    await kind("answer", CALLER, calls=10, limit=1)  # the caller hangs up after 0.5 s: their BYE
    await kind("answer+hangup", CALLER, limit=1)  # we hang up: our BYE
    await kind("ring", CUT_SHORT)  # Content-Length larger than the datagram: 400, never rings
    await kind("ring", CALLER, calls=12, limit=6)  # 480 after ring_timeout; the 5th and 6th: 486
    await phone.provider.set_dnd(True)
    await kind("ring", CALLER)  # DND: 486
    await phone.provider.set_dnd(False)

    # outgoing calls, answered by sipp and hung up by us
    uas_port = free_port()
    uas_args = [f"{HOST}:{uas_port}", "-sn", "uas", "-i", HOST, "-p", str(uas_port), "-m", str(CALLS)]
    uas = asyncio.create_task(run_sipp([*uas_args, "-nostdin", "-timeout", "90s"], tmp_path, timeout=120))
    await phone.until(lambda: _udp_taken(uas_port), 10, "sipp listening")
    for _ in range(CALLS):
        await asyncio.sleep(0.05)  # 20 calls a second, like the callers above (a 4 ms call
        # each as fast as they go is a flood: 28 within 0.11 s and the guard refuses the 29th)
        call_id = await phone.provider.dial(f"uas@{HOST}:{uas_port}")
        await phone.event(CallEvent.ANSWERED, call_id)
        await phone.provider.hangup(call_id)
        assert (await phone.event(CallEvent.ENDED, call_id)).reason is EndReason.COMPLETED
    status, out = await uas
    assert status == 0, out[-3000:]

    # every call is over: once pjlib has had its slots back, none counts as taken
    ended = phone.of(CallEvent.ENDED)
    assert {e.reason for e in ended} >= {
        EndReason.CANCELLED, EndReason.REJECTED, EndReason.VOICEMAIL, EndReason.COMPLETED,
        EndReason.MISSED, EndReason.BUSY,
    }  # fmt: skip
    await slots_back(phone, "outgoing")
    assert budget_of(phone).refused == 0  # no normal caller was ever refused 503

    # and a normal call still rings
    mode[0] = "answer"
    mark = len(phone.events)
    await callers(phone, tmp_path, CALLER, 1)
    ring = await phone.event(CallEvent.INCOMING, since=mark)
    assert (await phone.event(CallEvent.ENDED, ring.call_id, since=mark)).reason is EndReason.COMPLETED
