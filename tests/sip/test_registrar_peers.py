"""The softphone with lines registered at kamailio (digest 401 + qop, 407 on INVITE), SET4."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from callsys.model import CallEvent, EndReason
from callsys.provider import Registration

from .peers import Baresip, Kamailio, registered_far_end

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]


def lines(kam: Kamailio, reg_retry: int = 30) -> dict[str, object]:
    return {
        "lines": [
            # REGISTER and INVITE are challenged with 401 + qop=auth
            {
                "id": "office",
                "label": "Office",
                "registrar": kam.uri,
                "user": "1001",
                "password": "secret1001",
            },
            # REGISTER 401 + qop, INVITE 407 Proxy-Authenticate + qop; over TCP
            {
                "id": "sales",
                "label": "Sales",
                "registrar": kam.uri,
                "user": "1003",
                "auth_user": "1003",
                "password": "secret1003",
                "transport": "tcp",
                "reg_timeout": 60,
            },
        ],
        "default_line": "office",
        "listen_port": 0,
        "reg_retry": reg_retry,
    }


@pytest_asyncio.fixture
async def far_end(tmp_path: Path, kamailio: Kamailio) -> AsyncIterator[Baresip]:
    async with registered_far_end(tmp_path, kamailio) as peer:
        yield peer


async def test_lines_register_and_call_through_the_registrar(
    start_phone, kamailio: Kamailio, far_end: Baresip
):
    phone = await start_phone(**lines(kamailio))
    await phone.online()
    assert {line.id for line in phone.provider.lines()} == {"office", "sales"}

    # office: INVITE challenged 401 + qop
    call_id = await phone.provider.dial("1002")
    out = phone.of(CallEvent.OUTGOING, call_id)[0]
    assert out.line == "Office"
    await phone.event(CallEvent.ANSWERED, call_id)
    await phone.hears(call_id, 1000)
    await phone.provider.hangup(call_id)
    await phone.event(CallEvent.ENDED, call_id)

    # sales: INVITE challenged 407 Proxy-Authenticate + qop, over TCP
    call_id = await phone.provider.dial("1002", "sales")
    assert phone.of(CallEvent.OUTGOING, call_id)[0].line == "Sales"
    await phone.event(CallEvent.ANSWERED, call_id)
    await phone.hears(call_id, 1000)
    await phone.provider.hangup(call_id)
    await phone.event(CallEvent.ENDED, call_id)

    # incoming through the proxy to line "sales" (1003)
    await far_end.cmd("dial", f"sip:1003@127.0.0.1:{kamailio.port}")
    ring = await phone.event(CallEvent.INCOMING)
    assert ring.line == "Sales" and ring.dnis == "1003"
    assert ring.remote is not None and ring.remote.digits == "1002"
    await phone.provider.answer(ring.call_id)
    await phone.event(CallEvent.ANSWERED, ring.call_id)
    await phone.hears(ring.call_id, 1000)
    await far_end.cmd("hangup")
    ended = await phone.event(CallEvent.ENDED, ring.call_id)
    assert ended.reason is EndReason.COMPLETED
    log = kamailio.log()  # the challenges really were made
    for challenge in (
        "401 qop REGISTER 1001",
        "401 qop REGISTER 1003",
        "401 qop INVITE 1001",
        "407 qop INVITE 1003",
    ):
        assert f"CHALLENGE {challenge}" in log


async def test_wrong_password_shows_the_line_offline(start_phone, kamailio: Kamailio) -> None:
    phone = await start_phone(
        lines=[{"id": "office", "registrar": kamailio.uri, "user": "1001", "password": "wrong"}],
        listen_port=0,
    )
    status = await phone.until(
        lambda: (
            phone.statuses and phone.statuses[-1].lines[0].detail.startswith("401") and phone.statuses[-1]
        ),
        10,
        "401 on the line",
    )
    assert status.registration is Registration.OFFLINE


async def test_registration_lost_and_regained(start_phone, kamailio: Kamailio) -> None:
    phone = await start_phone(**lines(kamailio, reg_retry=1))
    await phone.online()

    def sales() -> Registration:
        return next(line.registration for line in phone.statuses[-1].lines if line.id == "sales")

    kamailio.stop()  # the TCP connection drops: pjsua notices and retries, which fails
    await phone.until(lambda: sales() is Registration.OFFLINE, 15, "sales offline")
    assert phone.statuses[-1].lines[1].detail

    kamailio.start(same_port=True)  # the retry every reg_retry seconds succeeds
    await phone.until(lambda: sales() is Registration.ONLINE, 15, "sales online again")
