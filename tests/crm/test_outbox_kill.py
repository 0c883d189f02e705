"""Exactly one activity per call when the flushing process is killed (SIGKILL) mid-flush (B4)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from callsys.activity import ActivityLogger
from callsys.callmanager import CallManager
from callsys.model import EndReason
from callsys.numbers import NumberPlan
from callsys.outbox import Outbox
from callsys.store import open_database
from tests.crm.helpers import play_call
from tests.dataverse_fake import DataverseFake

ROOT = Path(__file__).resolve().parents[2]
WORKER = ROOT / "tests" / "crm" / "outbox_worker.py"


def _worker(db: Path, url: str, token: str, *batching: int) -> subprocess.Popen[str]:
    env = {**os.environ, "CALLSYS_CRM_TOKEN": token, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(db), url, *map(str, batching)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _thirty_calls_logged(path: Path) -> set[str | None]:
    """20 answered and 10 missed calls logged into the outbox at *path* while the CRM was away;
    the ids of their 30 activities."""
    plan = NumberPlan(region="DE")
    db = open_database(path)
    logger = ActivityLogger(Outbox(db))
    manager = CallManager(is_loggable=plan.is_loggable)
    manager.subscribe(logger)
    for n in range(20):
        play_call(manager, plan, f"a{n}", f"+49301234{n:02d}", talk=40 + n)
    for n in range(10):
        play_call(manager, plan, f"m{n}", f"+49307777{n:02d}", answer_after=None, reason=EndReason.MISSED)
    expected = {logger.activity_id(f"a{n}") for n in range(20)} | {
        logger.activity_id(f"m{n}") for n in range(10)
    }
    db.conn.close()
    return expected


def test_kill_in_the_middle_of_a_flush_then_restart_gives_exactly_one_activity_per_call(
    tmp_path: Path,
) -> None:
    path = tmp_path / "callsys.sqlite3"
    expected = _thirty_calls_logged(path)

    fake = DataverseFake()
    token = fake.issue_token()
    with fake.serve() as server:
        server.response_delay = 0.3  # each write is applied, then its answer takes a while
        first = _worker(path, server.url, token)
        deadline = time.monotonic() + 60
        while fake.count("phonecall") < 6 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.01)
        # the worker now waits for the answer to a write the CRM has already applied
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
        assert first.returncode == -signal.SIGKILL
        created_before_restart = fake.count("phonecall")
        assert 6 <= created_before_restart < 30

        server.response_delay = 0.0
        fake.inject(503, times=1)
        fake.inject(429, retry_after=0.2, times=1)
        fake.inject(drop="after", times=1, method="POST")
        second = _worker(path, server.url, token)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, (out, err)

    assert set(fake.rows["phonecall"]) == expected and len(expected) == 30
    states = sorted((r["statecode"], r["statuscode"]) for r in fake.rows["phonecall"].values())
    assert states == [(1, 4)] * 20 + [(2, 3)] * 10


def test_kill_while_batches_are_in_flight_then_restart_gives_exactly_one_activity_per_call(
    tmp_path: Path,
) -> None:
    """Many activities to a $batch, two batches in flight: killed after the service applied
    them but before their answers came, the restarted sender delivers them again (duplicates
    settle as "already there", closed calls as closed) — one activity per call, each in its
    final state."""
    path = tmp_path / "callsys.sqlite3"
    expected = _thirty_calls_logged(path)

    fake = DataverseFake()
    token = fake.issue_token()
    with fake.serve() as server:
        server.response_delay = 0.5  # the batches are applied, then their answers take a while
        first = _worker(path, server.url, token, 5, 2)
        deadline = time.monotonic() + 60
        while fake.count("phonecall") < 5 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
        assert first.returncode == -signal.SIGKILL
        applied = fake.count("phonecall")
        assert 5 <= applied < 30  # killed with a batch applied and unanswered, the rest not sent
        assert fake.count("phonecall", statecode=1) == 0  # no call was completed yet

        server.response_delay = 0.0
        fake.inject(503, times=1)
        fake.inject(429, retry_after=0.2, times=1)
        fake.inject(drop="after", times=1, method="POST")
        second = _worker(path, server.url, token, 5, 2)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, (out, err)

    assert set(fake.rows["phonecall"]) == expected and len(expected) == 30
    states = sorted((r["statecode"], r["statuscode"]) for r in fake.rows["phonecall"].values())
    assert states == [(1, 4)] * 20 + [(2, 3)] * 10
