"""IN6 on the embedded softphone: "send to voicemail" answers the ringing INVITE with
302 Moved Temporarily and the line's ``voicemail_uri`` as the one Contact — proved with sipp as
the caller (``sipp_voicemail_302.xml`` fails unless that is exactly what it gets)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from callsys.model import CallEvent, EndReason
from callsys.provider import Capability

from .peers import HOST, PhoneProcess, free_port, run_sipp

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]

SCENARIO = Path(__file__).resolve().parent / "sipp_voicemail_302.xml"


def _sipp(phone_port: int, cwd: Path) -> asyncio.Task[tuple[int, str]]:
    args = [f"{HOST}:{phone_port}", "-sf", str(SCENARIO), "-m", "1", "-i", HOST, "-p", str(free_port())]
    args += ["-nostdin", "-trace_msg", "-timeout", "20s", "-recv_timeout", "15000"]
    return asyncio.create_task(run_sipp(args, cwd))


def _responses(trace: str) -> list[str]:
    """Every SIP response sipp received, as text."""
    messages = (chunk.split("\n\n", 1)[-1].strip() for chunk in re.split(r"(?m)^-{10,}.*$", trace))
    return [m for m in messages if m.startswith("SIP/2.0 ")]


async def test_voicemail_is_a_302_to_the_lines_voicemail_uri(start_phone, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    phone = await start_phone(lines=[{"id": "desk", "user": "callsys", "voicemail_uri": "*97"}])
    assert Capability.VOICEMAIL in phone.provider.capabilities
    sipp = _sipp(phone.port, tmp_path)
    ring = await phone.event(CallEvent.INCOMING)
    await phone.provider.send_to_voicemail(ring.call_id)
    ended = await phone.event(CallEvent.ENDED, ring.call_id)
    assert ended.reason is EndReason.VOICEMAIL
    status, out = await sipp
    assert status == 0, out  # sipp got its 302 with the right Contact
    (trace,) = tmp_path.glob("sipp_voicemail_302_*_messages.log")
    final = [r for r in _responses(trace.read_text(errors="replace")) if not r.startswith("SIP/2.0 1")]
    assert len(final) == 1 and final[0].startswith("SIP/2.0 302 ")
    contacts = re.findall(r"^(?:Contact|m):\s*(.*?)\s*$", final[0], re.M | re.I)
    assert contacts == [f"<sip:*97@{HOST}:{phone.port}>"]
    call = phone.manager.get(ring.call_id)
    assert call is not None and call.end_reason is EndReason.VOICEMAIL and call.answered_at is None


async def test_no_voicemail_without_a_voicemail_uri(start_phone, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    phone = await start_phone()
    assert Capability.VOICEMAIL not in phone.provider.capabilities


async def test_headless_phone_sends_to_voicemail(tmp_path: Path) -> None:
    """``callsys phone``'s ``voicemail`` command: the same 302, reported as JSON lines."""
    port = free_port()
    options = {
        "listen_host": HOST, "listen_port": port, "audio": {"mode": "none"},
        "lines": [{"id": "desk", "user": "callsys", "voicemail_uri": "*97"}],
    }  # fmt: skip
    phone = await PhoneProcess.start(options)
    proc = phone.proc
    try:
        await phone.expect(event="ready")
        sipp = _sipp(port, tmp_path)
        ring = await phone.expect(event="incoming")
        await phone.send("voicemail")
        await phone.expect(event="ok", command="voicemail", call=ring["call"])
        ended = await phone.expect(event="ended", call=ring["call"])
        assert ended["reason"] == "voicemail"
        status, out = await sipp
        assert status == 0, out
        await phone.send("quit")
        await phone.expect(event="bye")
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
