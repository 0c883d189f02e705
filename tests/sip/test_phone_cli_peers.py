"""``callsys phone`` (providers.sip.phone_cli) driven as a subprocess against baresip."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from providers.sip.engines import resolve

from .peers import HOST, Baresip, PhoneProcess, free_port

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]


async def test_headless_phone_answers_dials_and_quits(tmp_path: Path, baresip: Baresip) -> None:
    port = free_port()
    options = {
        "listen_host": HOST, "listen_port": port, "audio": {"mode": "none"},
        "log_file": str(tmp_path / "pjsip.log"), "log_level": 4,
    }  # fmt: skip
    phone = await PhoneProcess.start(options)
    proc = phone.proc
    try:
        ready = await phone.expect(event="ready")
        assert ready["listen"] == f"{HOST}:{port}" and ready["max_calls"] == ready["engine"]["max_calls"]
        assert ready["engine"]["engine"] == resolve()  # the child picks the engine as we would

        # incoming: ring, answer, DTMF out, hang up
        await baresip.cmd("uafind", "sip:1002@127.0.0.1")
        await baresip.cmd("dial", f"sip:2000@{HOST}:{port}")
        ring = await phone.expect(event="incoming")
        assert ring["remote"] == "1002" and ring["dnis"] == "2000" and ring["state"] == "ringing"
        await phone.send("answer")
        await phone.expect(event="ok", command="answer", call=ring["call"])
        await phone.expect(event="answered", call=ring["call"])
        mark = len(baresip.events)
        await phone.send("dtmf 4")
        await phone.expect(event="ok", command="dtmf")
        assert (await baresip.wait_event("CALL_DTMF_START", since=mark))["param"] == "4"
        await phone.send("hangup")
        ended = await phone.expect(event="ended", call=ring["call"])
        assert ended["reason"] == "completed"

        # outgoing: dial, hold, resume, far end hangs up
        await phone.send(f"dial 1002@{baresip.address}")
        ok = await phone.expect(event="ok", command="dial")
        await phone.expect(event="answered", call=ok["call"])
        await phone.send("hold")
        await phone.expect(event="held", call=ok["call"])
        await phone.send("resume")
        await phone.expect(event="resumed", call=ok["call"])
        await baresip.cmd("hangup")
        await phone.expect(event="ended", call=ok["call"])

        # errors are JSON too, and the phone carries on
        await phone.send("hold")
        error = await phone.expect(event="error", command="hold")
        assert error["message"]
        await phone.send("frobnicate")
        await phone.expect(event="error", command="frobnicate")

        await phone.send("quit")
        await phone.expect(event="bye")
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
