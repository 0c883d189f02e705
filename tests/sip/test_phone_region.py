"""``callsys phone`` reads a caller's number with the configured number plan (``numbers.region``)
— driven as the real command in a subprocess, rung by a real SIP INVITE."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from .invite import RawCaller

ROOT = Path(__file__).resolve().parents[2]

# (numbers.region, the caller's SIP user part, the number the call carries)
CALLERS = [
    ("DE", "01712345678", "+491712345678"),  # was +981712345678: read as an Iranian number
    ("US", "2125550142", "+12125550142"),
    ("IR", "09123456789", "+989123456789"),
]


class Phone:
    """``python -m callsys phone --config FILE`` with its stdin and stdout piped."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.seen: list[dict[str, Any]] = []

    @classmethod
    async def start(cls, config: Path) -> Phone:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "callsys", "phone", "--config", str(config), cwd=ROOT, env=env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        return cls(proc)

    async def expect(self, event: str, timeout: float = 20.0) -> dict[str, Any]:
        assert self.proc.stdout is not None
        while True:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
            if not line:
                raise AssertionError(f"the phone exited; it wrote {self.seen[-5:]}")
            obj: dict[str, Any] = json.loads(line)  # every stdout line is JSON
            self.seen.append(obj)
            if obj.get("event") == event:
                return obj

    async def quit(self) -> int:
        assert self.proc.stdin is not None
        if self.proc.returncode is None:
            self.proc.stdin.write(b"quit\n")
            await self.proc.stdin.drain()
            self.proc.stdin.close()
        try:
            return await asyncio.wait_for(self.proc.wait(), 20)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise


@pytest.mark.asyncio
@pytest.mark.parametrize(("region", "user", "e164"), CALLERS)
async def test_callsys_phone_reads_the_caller_with_the_configured_region(
    tmp_path: Path, region: str, user: str, e164: str
) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(
        f'[numbers]\nregion = "{region}"\n'
        '[phone]\nprovider = "sip"\n'
        'options = { listen_host = "127.0.0.1", listen_port = 0, audio = { mode = "none" } }\n',
        encoding="utf-8",
    )
    phone = await Phone.start(config)
    try:
        ready = await phone.expect("ready")
        port = int(ready["listen"].rsplit(":", 1)[1])
        with RawCaller() as caller:
            caller.invite(port, user, name="Erika", dialled="7000")
            incoming = await phone.expect("incoming")
        assert incoming["remote_e164"] == e164
        assert incoming["remote_name"] == "Erika"
        assert incoming["dnis"] == "7000"
    finally:
        assert await phone.quit() == 0
