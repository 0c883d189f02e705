"""Helpers shared by the server tests (and the desktop's): a self-signed certificate for 127.0.0.1,
a real ``callsys server`` process that pushes a settings layer (the ``server`` fixture), and the
in-process server's simulated branch with a wait that polls."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w

from callsys.callmanager import CallManager
from callsys.model import CallState
from callsys.server.daemon import CallServer
from providers.sim import SimulatedProvider
from tests.helpers import listening_server

ROOT = Path(__file__).resolve().parents[2]


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


TOKEN = "pushed-layer-token-8c2e"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """(wss:// address, the server's certificate, its pushed settings file): a real server process."""
    cert, key = self_signed(tmp_path)
    pushed = tmp_path / "pushed.toml"
    pushed.write_text(
        '[numbers]\nregion = "DE"\narea_code = "30"\n\n[phone]\ndial_prefix = "7"\n\n'
        '[logging]\nmin_log_digits = 7\n\n[locked]\nkeys = ["logging.min_log_digits", "phone.dial_prefix"]\n',
        encoding="utf-8",
    )
    config = tmp_path / "server.toml"
    config.write_text(
        tomli_w.dumps(
            {
                "storage": {"database": str(tmp_path / "server.sqlite3")},
                "server": {
                    "listen_host": "127.0.0.1",
                    "listen_port": 0,
                    "tls_certificate": str(cert),
                    "tls_key_file": str(key),
                    "pushed_settings": str(pushed),
                    "branches": [{"name": "hq", "provider": "sim"}],
                    "agents": [{"name": "sara", "extensions": ["1001"], "branch": "hq"}],
                },
            }
        ),
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "CALLSYS_SECRET_SERVER_AGENT_SARA": TOKEN,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
    }
    argv = [sys.executable, "-m", "callsys", "server", "--config", str(config), "--json"]
    with listening_server(argv, env, ROOT, tmp_path / "server.log") as listening:
        port = int(listening.rsplit(":", 1)[1])
        yield f"wss://127.0.0.1:{port}/ws", cert, pushed


def sim(server: CallServer, branch: str = "hq") -> SimulatedProvider:
    provider = server.branches[branch].provider
    assert isinstance(provider, SimulatedProvider)
    return provider


def state_of(manager: CallManager, call_id: str) -> CallState | None:
    call = manager.get(call_id)
    return call.state if call is not None else None


async def until(predicate: object, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():  # type: ignore[operator]
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
