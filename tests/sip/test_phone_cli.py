"""run_phone in-process: JSON lines out, dial prefix from the NumberPlan (SET3), clean exit."""

from __future__ import annotations

import io
import json

import pytest

from callsys.numbers import NumberPlan
from providers.sip.engines import current
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
    ready = next(o for o in lines if o["event"] == "ready")
    assert ready["max_calls"] == current().max_calls == ready["engine"]["max_calls"]
    assert ready["engine"]["engine"] == current().kind
    outgoing = next(o for o in lines if o["event"] == "outgoing")
    # SET3: the PBX is dialled with the prefix; the call carries the customer's number (so the
    # CRM lookup and the log see +49 30 …, not the PBX route 9030…).
    assert outgoing["line"] == "Office" and outgoing["remote"] == "+49301234567"
    assert any(o["event"] == "ok" and o["command"] == "dial" for o in lines)
    assert any(o["event"] == "error" and o["command"] == "bogus" for o in lines)
    assert lines[-1] == {"event": "bye"}


@pytest.mark.asyncio
async def test_bad_options_exit_2_with_a_json_error() -> None:
    stdout = io.StringIO()
    assert await run_phone({"reject_code": 404}, io.StringIO(""), stdout) == 2
    assert json.loads(stdout.getvalue())["event"] == "error"


def test_callsys_phone_reads_settings_and_keyring(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`callsys phone` through the real CLI: options from the settings file, the line password
    from the keyring (here its environment override), JSON lines out, quit on stdin."""
    from callsys.cli import main
    from providers import REGISTRY
    from providers.sip import phone_cli

    registrar = free_port()
    config = tmp_path / "settings.toml"
    config.write_text(
        "[phone]\n"
        'provider = "sip"\n'
        "dnd = true\n"
        'options = { listen_host = "127.0.0.1", listen_port = 0, audio = { mode = "none" }, '
        f'lines = [{{ id = "office", registrar = "sip:127.0.0.1:{registrar}", user = "1001", transport = "tcp" }}] }}\n'
    )
    monkeypatch.setenv("CALLSYS_SECRET_SIP_1001_127_0_0_1", "s3cret")
    from callsys.settings import load_settings

    options = phone_cli.settings_options(load_settings(config))
    assert options["lines"][0]["password"] == "s3cret" and options["dnd"] is True

    monkeypatch.setattr("sys.stdin", io.StringIO("status\nquit\n"))
    out = io.StringIO()
    code = main(["phone", "--config", str(config)], registry=REGISTRY, extra=[phone_cli.register], out=out)
    assert code == 0
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert any(o["event"] == "ready" for o in lines)
    status = next(o for o in lines if o["event"] == "ok" and o["command"] == "status")
    assert status["dnd"] is True and status["lines"][0]["id"] == "office"
    assert lines[-1] == {"event": "bye"}


def test_a_pj_call_kept_past_close_does_not_abort_the_process(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A pj.Call still referenced at libDestroy (say, from a logged traceback) used to abort the
    process when collected later; the engine now hands such stragglers to C++ instead."""
    import subprocess
    import sys
    from pathlib import Path

    code = f"""
import asyncio, gc
from providers.sip.provider import SipProvider

class L:
    def call_event(self, e): pass
    def status_changed(self, s): pass

async def main():
    p = SipProvider({{"listen_host": "127.0.0.1", "listen_port": 0, "audio": {{"mode": "none"}}}})
    await p.start(L())
    key = await p.dial("sip:nobody@127.0.0.1:{free_port()}")
    kept = p.engine._calls[key]  # an outside reference to the pj.Call
    await p.close()
    return kept

kept = asyncio.run(main())
del kept
gc.collect()
p = SipProvider({{"listen_host": "127.0.0.1", "listen_port": 0, "audio": {{"mode": "none"}}}})
asyncio.run(p.start(L()))
print("still alive")
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "still alive" in result.stdout, result.stderr[-2000:]
