"""Who may ring the phone: four INVITEs nobody cancels used to take all 4 calls for
``ring_timeout`` (120 s), every real caller getting 486. On a direct line at most
``ringing_per_source`` calls ring from one IP address and an unknown caller rings at most
``unknown_ring_timeout``; a registered line takes INVITEs only from its registrar or proxy.

Callers are hand-made (``rawsip``) on 127.0.0.1 and — as "other addresses" — 127.0.0.2/.3.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from callsys.model import CallEvent

from .peers import Kamailio, Phone
from .rawsip import Dialog, SipClient, answered_call

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]


async def ring(phone: Phone, client: SipClient, user: str) -> tuple[Dialog, str]:
    dialog = Dialog(client, user=user)
    mark = len(phone.lines)
    await client.send(dialog.invite())
    found = await phone.expect(since=mark, event="incoming", remote_name=f"Raw {user}")
    return dialog, str(found["call"])


async def test_uncancelled_invites_from_one_address_do_not_lock_the_phone(tmp_path: Path) -> None:
    phone = await Phone.start(tmp_path, ring_timeout=0, unknown_ring_timeout=2)  # 0: never
    flood = await SipClient(phone.port).open()
    caller = await SipClient(phone.port, host="127.0.0.2").open()
    stranger = await SipClient(phone.port, host="127.0.0.3").open()
    try:
        # four INVITEs that are never cancelled, from one address: two ring, two get 486
        dialogs = [Dialog(flood, user=f"800{n}") for n in range(4)]
        for dialog in dialogs:
            await flood.send(dialog.invite())
        finals = {d.user: (await flood.final(d)).status for d in dialogs[2:]}
        assert finals == {"8002": 486, "8003": 486}
        rang = [line for line in phone.lines if line.get("event") == "incoming"]
        assert sorted(line["remote_name"] for line in rang) == ["Raw 8000", "Raw 8001"]

        # a real caller from elsewhere still gets through, and is answered
        dialog, _ = await answered_call(phone, caller, "7001")
        await caller.send(dialog.bye())
        assert (await caller.final(dialog, "BYE")).status == 200

        # the two unknown callers ring at most unknown_ring_timeout: missed, 480
        for dialog, found in zip(dialogs[:2], rang, strict=True):
            ended = await phone.expect(event="ended", call=found["call"])
            assert ended["reason"] == "missed"
            assert (await flood.final(dialog)).status == 480

        # 127.0.0.2 is known now (a call from it was answered): it rings for ring_timeout
        # (never here), while a call from another unknown address placed with it is missed
        _, known = await ring(phone, caller, "7002")
        _, unknown = await ring(phone, stranger, "9001")
        ended = await phone.expect(event="ended", call=unknown)
        assert ended["reason"] == "missed"
        assert not [line for line in phone.lines if line.get("event") == "ended" and line["call"] == known]
        assert phone.alive()
    finally:
        for client in (flood, caller, stranger):
            await client.close()
        await phone.stop()


def registered(kam: Kamailio, **extra: object) -> dict[str, object]:
    return {
        "lines": [{"id": "office", "registrar": kam.uri, "user": "1001", "password": "secret1001", **extra}],
        "listen_port": 0,
    }


@pytest.mark.parametrize("only_server", [True, False], ids=["default", "off"])
async def test_a_registered_line_takes_invites_only_from_its_registrar(
    start_phone, kamailio: Kamailio, only_server: bool
) -> None:
    """An INVITE sent straight to a registered phone's port (not through kamailio) gets 403;
    with ``accept_only_from_server`` false it rings as before."""
    phone = await start_phone(**registered(kamailio, accept_only_from_server=only_server))
    await phone.online()
    client = await SipClient(phone.port, host="127.0.0.2").open()
    try:
        dialog = Dialog(client, user="6666")
        mark = len(phone.events)
        await client.send(dialog.invite())
        if only_server:
            final = await client.final(dialog)
            assert final.status == 403, final.first
            await client.send(dialog.ack(final))
            assert not phone.of(CallEvent.INCOMING)
        else:
            ring = await phone.event(CallEvent.INCOMING, since=mark)
            await phone.provider.reject(ring.call_id)
            assert (await client.final(dialog)).status == 486
    finally:
        await client.close()


async def test_calls_through_the_registrar_still_ring(
    start_phone, kamailio: Kamailio, tmp_path: Path
) -> None:
    from .peers import registered_far_end

    phone = await start_phone(**registered(kamailio))
    await phone.online()
    async with registered_far_end(tmp_path, kamailio) as far_end:
        await far_end.cmd("dial", f"sip:1001@127.0.0.1:{kamailio.port}")
        ring = await phone.event(CallEvent.INCOMING)
        await phone.provider.answer(ring.call_id)
        await phone.event(CallEvent.ANSWERED, ring.call_id)
        await phone.provider.hangup(ring.call_id)
        await phone.event(CallEvent.ENDED, ring.call_id)
