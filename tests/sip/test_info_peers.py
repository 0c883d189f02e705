"""DTMF in SIP INFO on a connected call, and callbacks that fail inside pjsua2.

The INFO requests are written by hand (``rawsip``) to ``callsys phone`` as a subprocess."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .peers import Phone
from .rawsip import Dialog, SipClient, answered_call, token

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]


async def info(client: SipClient, dialog: Dialog, content_type: str, body: str) -> int:
    dialog.cseq += 1
    await client.send(
        dialog.request(
            "INFO", body=body, content_type=content_type, branch="z9hG4bK" + token(), in_dialog=True
        )
    )
    return (await client.final(dialog, "INFO")).status


def digits(phone: Phone, call: str, since: int) -> list[Any]:
    return [
        line["digits"] for line in phone.lines[since:] if line.get("event") == "dtmf" and line["call"] == call
    ]


async def test_dtmf_in_info_is_answered_200_and_reported(tmp_path: Path) -> None:
    """``application/dtmf`` (the digit as the body) used to be answered 500 and lost; now 200
    and the digit is a ``dtmf`` event, as ``application/dtmf-relay`` (pjsua's own) already was.
    An INFO that says dtmf but carries no digit gets 400; the call goes on."""
    phone = await Phone.start(tmp_path)
    client = await SipClient(phone.port).open()
    try:
        dialog, call = await answered_call(phone, client, "5005")
        mark = len(phone.lines)
        assert await info(client, dialog, "application/dtmf", "5") == 200
        await phone.expect(since=mark, event="dtmf", call=call, digits="5")
        assert await info(client, dialog, "application/dtmf-relay", "Signal=7\r\nDuration=160\r\n") == 200
        await phone.expect(since=mark, event="dtmf", call=call, digits="7")
        assert await info(client, dialog, "application/dtmf", "#") == 200
        await phone.expect(since=mark, event="dtmf", call=call, digits="#")
        assert await info(client, dialog, "application/dtmf", "hello") == 400
        assert digits(phone, call, mark) == ["5", "7", "#"]
        await client.send(dialog.bye())
        assert (await client.final(dialog, "BYE")).status == 200
        ended = await phone.expect(since=mark, event="ended", call=call)
        assert ended["reason"] == "completed"
        assert phone.alive()
    finally:
        await client.close()
        await phone.stop()


@pytest.mark.parametrize(
    "body",
    [
        "Signal=5",
        "Signal= 5",
        "Signal=5\r\nDuration=",
        "Signal=5\r\nDuration",
        "Signal=5\r\n",
        "Signal=\r\n",
        "\r\n",
    ],
)
async def test_dtmf_relay_bodies_that_aborted_the_phone(tmp_path: Path, body: str) -> None:
    """Found by the fuzzer: pjsua's own ``application/dtmf-relay`` parser steps past the end of
    a body without a line break after the signal and aborts in ``pj_strstr`` (``Assertion
    `str->slen >= 0'``). The engine now reads these INFOs itself."""
    phone = await Phone.start(tmp_path)
    client = await SipClient(phone.port).open()
    try:
        dialog, call = await answered_call(phone, client, "5006")
        mark = len(phone.lines)
        status = await info(client, dialog, "application/dtmf-relay", body)
        assert phone.alive(), await phone.stderr()
        if "5" in body:
            assert status == 200
            await phone.expect(since=mark, event="dtmf", call=call, digits="5")
        else:
            assert status == 400
        assert await info(client, dialog, "application/dtmf", "1") == 200  # the call goes on
        await phone.expect(since=mark, event="dtmf", call=call, digits="1")
        assert phone.alive()
    finally:
        await client.close()
        await phone.stop()
