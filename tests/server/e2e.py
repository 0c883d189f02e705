"""End-to-end rig: a real ``callsys server`` subprocess between the replayed Asterisk captures
(``tests/ami/fakeami.py`` on a loopback port) and the contract-strict Dataverse fake served over
HTTP (``tests/dataverse_fake.py``), with its own settings file, database and environment.

Nothing in the server is replaced: the AMI provider, CallManager, ActivityLogger, Outbox and
DynamicsCrm are the product's own code. ``EXPECTED`` says what each capture must leave in the CRM;
the ``rig`` fixture gives the Dataverse fake its three agents and a customer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
import tomli_w

from tests.ami.fakeami import FakeAmi, Session, Transcript
from tests.dataverse_fake import DataverseFake, FakeServer

ROOT = Path(__file__).resolve().parents[2]
SHARED_SECRET = "e2e-shared-secret-5d1c"

#: The captures that are complete calls the PBX made on its own (no action of ours needed).
CALL_SCENARIOS = (
    "02_internal_answered",
    "03_internal_answered_callee_hangup",
    "04_internal_unanswered_caller_cancel",
    "05_internal_rejected_busy",
    "06_trunk_did_7000",
    "06_trunk_did_7001",
    "07_ivr_customer_id",
    "08_call_waiting_unanswered",
    "12_queue_call",
)

TRUNK = "+49301234567"  # the trunk's caller ID 030 1234567 (Berlin), as E.164
RECEIVED, MADE, CANCELED = (1, 4), (1, 2), (2, 3)

# What the captures are (reference/ami-transcripts/README.md), one row per activity: whose
# queue (extension), outgoing?, the other party's number, (statecode, statuscode), talk seconds.
# Internal calls are logged because the branch sets min_log_digits = 0; the queue member who did
# not answer (1001 in 12_queue_call) gets no activity: a colleague took the call (B1).
EXPECTED: dict[str, list[tuple[str, bool, str, tuple[int, int], int | None]]] = {
    "02_internal_answered": [("1002", True, "1001", MADE, 4), ("1001", False, "1002", RECEIVED, 4)],
    "03_internal_answered_callee_hangup": [
        ("1002", True, "1001", MADE, 3),
        ("1001", False, "1002", RECEIVED, 3),
    ],
    "04_internal_unanswered_caller_cancel": [
        ("1002", True, "1001", CANCELED, None),
        ("1001", False, "1002", CANCELED, None),
    ],
    "05_internal_rejected_busy": [
        ("1002", True, "1001", CANCELED, None),
        ("1001", False, "1002", CANCELED, None),
    ],
    "06_trunk_did_7000": [("1001", False, TRUNK, RECEIVED, 3)],
    "06_trunk_did_7001": [("1001", False, TRUNK, RECEIVED, 3)],
    "07_ivr_customer_id": [("1002", True, "7100", MADE, 8), ("1001", False, "1002", RECEIVED, 3)],
    "08_call_waiting_unanswered": [
        ("1002", True, "1001", MADE, 10),
        ("1001", False, "1002", RECEIVED, 10),
        ("1003", True, "1001", CANCELED, None),
        ("1001", False, "1003", CANCELED, None),
    ],
    "12_queue_call": [("1002", True, "7200", MADE, 4), ("1003", False, "1002", RECEIVED, None)],
}


def stream(*names: str, keep_open: bool = True) -> Session:
    """The captures, one after the other, as one AMI connection's life: the login, then every
    event of every capture in order (they come from one Asterisk run: unique ids and timestamps
    keep increasing), then — with *keep_open* — a quiet PBX that answers pings until closed.
    The capturing client's own Logoff answers are left out: our server never logs off."""
    first = Transcript.load(names[0])
    frames = [first.frames[0]]  # "Response: Success / ActionID: login-1"
    for name in names:
        frames += [f for f in Transcript.load(name).frames if not f.startswith(b"Response:")]
    return Session(
        frames=frames, banner=first.banner, sent=first.sent, login_response=False, keep_open=keep_open
    )


def idle_session() -> Session:
    """A PBX that logs us in and then stays quiet (answers pings) until closed."""
    t = Transcript.load("01_register")
    return Session(frames=[t.frames[0]], banner=t.banner, sent=t.sent, login_response=False, keep_open=True)


@dataclass
class ServerProcess:
    proc: asyncio.subprocess.Process
    port: int
    log: Path

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        try:
            code = await asyncio.wait_for(self.proc.wait(), timeout)
        finally:
            await self._drain_pipes()
        return code

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()  # SIGKILL: no cleanup, no flush — what a crash or an OOM kill does
        await self.proc.wait()
        await self._drain_pipes()

    async def _drain_pipes(self) -> None:
        if self.proc.stdout is not None:
            with contextlib.suppress(Exception):
                await self.proc.stdout.read()
        transport = getattr(self.proc, "_transport", None)
        if transport is not None:
            transport.close()

    def log_records(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out


@dataclass
class Node:
    """A server process that may not listen yet (a standby node)."""

    proc: asyncio.subprocess.Process
    log: Path

    async def listening(self, timeout: float = 30.0) -> ServerProcess:
        """Wait for the process's ``{"listening": …}`` line (it leads and serves)."""
        proc = self.proc
        assert proc.stdout is not None
        buffer = b""
        try:
            while b"}" not in buffer:
                chunk = await asyncio.wait_for(proc.stdout.read(256), timeout)
                if not chunk:
                    raise AssertionError(f"the server exited: {self.log.read_text()[-3000:]}")
                buffer += chunk
        except BaseException:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
            raise
        first = json.loads(buffer[: buffer.index(b"}") + 1])
        if "listening" not in first:
            raise AssertionError(f"the server said {first}: {self.log.read_text()[-3000:]}")
        listening = first["listening"]
        return ServerProcess(proc, int(listening.rsplit(":", 1)[1]), self.log)


@dataclass
class Rig:
    tmp: Path
    fake: DataverseFake
    crm: FakeServer
    ami: FakeAmi
    users: dict[str, str]  # extension → systemuserid
    customer: str  # contactid of the trunk caller (030 1234567)
    token: str
    extra_settings: dict[str, Any] = field(default_factory=dict)
    runs: int = 0
    branch_options: dict[str, Any] = field(default_factory=dict)  # merged into the branch's options
    branch_extra: dict[str, Any] = field(default_factory=dict)  # more keys of the branch (cdr …)

    def settings_file(self, node: str = "") -> Path:
        doc: dict[str, Any] = {
            "crm": {
                "backend": "dynamics",
                "url": self.crm.url,
                "auth": "env",
                "token_env": "CALLSYS_CRM_TOKEN",
            },
            "storage": {"database": str(self.tmp / f"server{node}.sqlite3")},
            "server": {
                "listen_host": "127.0.0.1",
                "listen_port": 0,
                "seats": 5,
                "heartbeat_timeout": 5,
                "drain_seconds": 3,
                "crm_retry_max_seconds": 1,
                "users": dict(self.users),
                "branches": [
                    {
                        "name": "hq",
                        "provider": "ami",
                        "region": "DE",
                        "min_log_digits": 0,  # log internal calls too, so every capture counts
                        "options": {
                            "host": "127.0.0.1",
                            "port": self.ami.port,
                            "username": "callsys",
                            "technology": "SIP",
                            "context": "internal",
                            "backoff_initial": 0.05,
                            "backoff_max": 0.2,
                            "connect_timeout": 5,
                            "action_timeout": 5,
                            **self.branch_options,
                        },
                        **self.branch_extra,
                    }
                ],
            },
        }
        for key, value in self.extra_settings.items():
            section, name = key.split(".", 1)
            doc.setdefault(section, {})[name] = value
        path = self.tmp / f"server{node}.toml"
        path.write_text(tomli_w.dumps(doc), encoding="utf-8")
        return path

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(extra or {})
        env.update(
            {
                "CALLSYS_CRM_TOKEN": self.token,
                "CALLSYS_SECRET_AMI_HQ": "callsys",
                "CALLSYS_SECRET_SERVER_SHARED_SECRET": SHARED_SECRET,
                "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
                "PYTHONPATH": str(ROOT),
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    async def spawn(self, node: str = "", extra_env: dict[str, str] | None = None) -> Node:
        """Start a server process without waiting for it to listen (a standby node listens only
        once it leads)."""
        self.runs += 1
        log = self.tmp / f"server{node}-{self.runs}.log"
        with log.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "callsys",
                "server",
                "--config",
                str(self.settings_file(node)),
                "--json",
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
                env=self.env(extra_env),
                cwd=str(ROOT),
            )
        return Node(proc, log)

    async def start_server(
        self, timeout: float = 30.0, extra_env: dict[str, str] | None = None
    ) -> ServerProcess:
        node = await self.spawn("", extra_env)
        return await node.listening(timeout)

    def phonecalls(self) -> list[dict[str, Any]]:
        with self.fake.lock:
            return [dict(row) for row in self.fake.rows["phonecall"].values()]


async def wait_for(predicate: Any, timeout: float = 30.0, interval: float = 0.05) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


async def health(server: ServerProcess) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{server.port}/health")
        body: dict[str, Any] = response.json()
        return body


@pytest_asyncio.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    fake = DataverseFake()
    users = {
        ext: fake.add(
            "systemuser", {"firstname": name, "lastname": "Agent", "internalemailaddress": f"{ext}@x.test"}
        )
        for ext, name in (("1001", "Alice"), ("1002", "Bob"), ("1003", "Carol"))
    }
    customer = fake.add("contact", {"firstname": "Erika", "lastname": "Mustermann", "telephone1": TRUNK})
    with fake.serve() as crm:
        ami = FakeAmi()
        async with ami:
            yield Rig(tmp_path, fake, crm, ami, users, customer, fake.issue_token())


def all_closed(rig: Rig, count: int) -> bool:
    rows = rig.phonecalls()
    return len(rows) >= count and all(r.get("statecode") != 0 for r in rows)


def seconds_of(row: dict[str, Any]) -> int | None:
    found = re.search(r"\((\d+) s\)", str(row.get("description") or ""))
    return int(found.group(1)) if found else None


def observed_rows(rig: Rig, *, with_seconds: bool = True) -> Counter[tuple[Any, ...]]:
    by_user = {v: k for k, v in rig.users.items()}
    out: Counter[tuple[Any, ...]] = Counter()
    for row in rig.phonecalls():
        seconds = seconds_of(row) if with_seconds else None
        out[
            (
                by_user.get(row.get("_ownerid_value"), row.get("_ownerid_value")),
                bool(row.get("directioncode")),
                row.get("phonenumber"),
                (row.get("statecode"), row.get("statuscode")),
                seconds,
            )
        ] += 1
    return out
