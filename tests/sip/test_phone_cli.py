"""run_phone in-process: JSON lines out, dial prefix from the NumberPlan (SET3), clean exit."""

from __future__ import annotations

import io
import json

import pytest

from callsys.numbers import NumberPlan
from providers.sip.phone_cli import run_phone

from .peers import HOST, free_port


@pytest.mark.asyncio
async def test_dial_applies_the_prefix_and_every_line_is_json() -> None:
    registrar = free_port()  # nobody listens there: the call fails, which is fine here
    options = {
        "listen_host": HOST, "listen_port": 0, "audio": {"mode": "none"},
        "lines": [{"id": "office", "label": "Office", "registrar": f"sip:{HOST}:{registrar}", "user": "1001",
                   "transport": "tcp", "reg_timeout": 60}],
        "number_plan": NumberPlan(region="DE", dial_prefix="9"),
    }  # fmt: skip
    stdin = io.StringIO("status\ndial 0301234567 office\nbogus\nquit\n")
    stdout = io.StringIO()
    assert await run_phone(options, stdin, stdout) == 0
    lines = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert lines[0]["event"] in ("status", "ready")
    assert any(o["event"] == "ready" and o["max_calls"] == 4 for o in lines)
    outgoing = next(o for o in lines if o["event"] == "outgoing")
    assert outgoing["line"] == "Office" and outgoing["remote"].startswith(
        "9030"
    )  # SET3 prefix, national form
    assert any(o["event"] == "ok" and o["command"] == "dial" for o in lines)
    assert any(o["event"] == "error" and o["command"] == "bogus" for o in lines)
    assert lines[-1] == {"event": "bye"}


@pytest.mark.asyncio
async def test_bad_options_exit_2_with_a_json_error() -> None:
    stdout = io.StringIO()
    assert await run_phone({"reject_code": 404}, io.StringIO(""), stdout) == 2
    assert json.loads(stdout.getvalue())["event"] == "error"
