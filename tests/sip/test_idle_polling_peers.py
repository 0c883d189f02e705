"""The real softphone with its slow idle timer: it still rings, answers, hangs up and refreshes.

Between calls the provider polls pjsua2 only every ``IDLE_POLL_INTERVAL`` and otherwise when
one of pjsip's sockets is readable. These tests run pjsua2 against kamailio and baresip with
that timer — or with an idle timer of an hour, where only the sockets can wake the phone.
"""

from __future__ import annotations

import collections
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from callsys.model import CallEvent, EndReason
from providers.sip import provider as provider_module

from .peers import Baresip, Kamailio, registered_far_end

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
