"""The real softphone with its slow idle timer: it still rings, answers, hangs up and refreshes.

Between calls the provider polls pjsua2 only every ``IDLE_POLL_INTERVAL`` and otherwise when
one of pjsip's sockets is readable. These tests run pjsua2 against kamailio and baresip with
that timer — or with an idle timer of an hour, where only the sockets can wake the phone.

An idle phone wakes its process a few times a second at most (a laptop on battery all day):
pjmedia's threads — its worker polling the RTP sockets every 10 ms, the conference bridge's
clock every 20 ms — run only while a call has media. Counted, not timed: how often each of the
``callsys phone`` process's threads was put on a CPU (``/proc/PID/task/*/schedstat``).
"""

from __future__ import annotations

import asyncio
import collections
import glob
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from callsys.model import CallEvent, EndReason
from providers.sip import provider as provider_module

from .peers import Baresip, Kamailio, Phone, registered_far_end
from .rawsip import SipClient, answered_call

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]


def lines(kam: Kamailio, reg_timeout: int = 60) -> dict[str, object]:
    return {
        "lines": [
            {
                "id": "office",
                "registrar": kam.uri,
                "user": "1001",
                "password": "secret1001",
                "reg_timeout": reg_timeout,
            },
            {
                "id": "sales",
                "registrar": kam.uri,
                "user": "1003",
                "password": "secret1003",
                "transport": "tcp",
                "reg_timeout": reg_timeout,
            },
        ],
        "default_line": "office",
        "listen_port": 0,
    }


@pytest_asyncio.fixture
async def far_end(tmp_path: Path, kamailio: Kamailio) -> AsyncIterator[Baresip]:
    async with registered_far_end(tmp_path, kamailio) as peer:
        yield peer


async def test_calls_over_udp_and_tcp_reach_an_idle_phone_through_its_sockets(
    start_phone, kamailio: Kamailio, far_end: Baresip, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone = await start_phone(**lines(kamailio))
    await phone.online()
    # From now on only a readable socket (UDP listener, the TCP connection to kamailio) wakes it.
    monkeypatch.setattr(provider_module, "IDLE_POLL_INTERVAL", 3600.0)
    await phone.until(lambda: not phone.provider.engine.call_count(), 5, "no call")
    for user, line in (("1003", "sales"), ("1001", "office")):
        since = len(phone.events)
        await far_end.cmd("dial", f"sip:{user}@127.0.0.1:{kamailio.port}")
        ring = await phone.event(CallEvent.INCOMING, since=since)
        assert ring.dnis == user, line
        await phone.provider.answer(ring.call_id)
        await phone.event(CallEvent.ANSWERED, ring.call_id)
        await phone.hears(ring.call_id, 1000)
        await far_end.cmd("hangup")
        ended = await phone.event(CallEvent.ENDED, ring.call_id)
        assert ended.reason is EndReason.COMPLETED


async def test_registrations_are_refreshed_with_the_idle_timer(start_phone, kamailio: Kamailio) -> None:
    # registered for 30 s: pjsua refreshes 5 s before that, from a timer of its own
    phone = await start_phone(**lines(kamailio, reg_timeout=30))
    await phone.online()

    def registers() -> collections.Counter[str]:  # REGISTER requests per Call-ID (one per line)
        rows = [row for row in kamailio.log().splitlines() if "REQ REGISTER" in row]
        return collections.Counter(row.rsplit("ci=", 1)[-1] for row in rows)

    first = registers()
    assert len(first) == 2
    await phone.until(lambda: all(registers()[ci] > first[ci] for ci in first), 45, "a refresh of each line")
    await phone.online()
    assert not phone.provider.engine.call_count()


#: wake-ups a second an idle phone may cost, all its threads together (its loop's idle timer:
#: 2; before, pjmedia's worker and clock added about 150)
IDLE_WAKEUPS_PER_SECOND = 10


def thread_wakeups(pid: int) -> dict[str, int]:
    """``name/tid`` → how often that thread of *pid* has been put on a CPU so far."""
    out: dict[str, int] = {}
    for task in glob.glob(f"/proc/{pid}/task/*"):
        try:
            name = Path(task, "comm").read_text(encoding="utf-8").strip()
            out[f"{name}/{Path(task).name}"] = int(
                Path(task, "schedstat").read_text(encoding="ascii").split()[2]
            )
        except (OSError, ValueError, IndexError):  # a thread that just ended
            continue
    return out


async def wakes_rarely(phone: Phone, window: float = 3.0, ceiling: float = 30.0) -> None:
    """Counts the phone's wake-ups over windows of *window* seconds until one stays under
    ``IDLE_WAKEUPS_PER_SECOND`` (within *ceiling* seconds: a call just ended may still be
    finishing); fails with the last window's count per thread."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ceiling
    while True:
        start, began = thread_wakeups(phone.proc.pid), loop.time()
        await asyncio.sleep(window)
        end, took = thread_wakeups(phone.proc.pid), loop.time() - began
        woken = {name: count - start.get(name, 0) for name, count in end.items()}
        if sum(woken.values()) <= IDLE_WAKEUPS_PER_SECOND * took:
            return
        assert loop.time() < deadline, (
            f"{sum(woken.values()) / took:.0f} wake-ups a second at idle: "
            + ", ".join(f"{name} {count}" for name, count in sorted(woken.items(), key=lambda kv: -kv[1]))
        )


async def test_an_idle_phone_wakes_its_process_a_few_times_a_second(tmp_path: Path) -> None:
    phone = await Phone.start(tmp_path, log_file="")
    client = await SipClient(phone.port).open()
    try:
        if not thread_wakeups(phone.proc.pid):
            pytest.skip("no /proc/PID/task/*/schedstat here")
        await wakes_rarely(phone)
        # a call with media starts pjmedia's clock and RTP reading; its end stops them again
        for user in ("5001", "5002"):
            mark = len(phone.lines)
            dialog, call = await answered_call(phone, client, user)
            await client.send(dialog.bye())
            assert (await client.final(dialog, "BYE")).status == 200
            await phone.expect(since=mark, event="ended", call=call)
            await wakes_rarely(phone)
        assert phone.alive()
    finally:
        await client.close()
        await phone.stop()
