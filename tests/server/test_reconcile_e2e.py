"""End to end: a ``callsys server`` subprocess that was ``kill -9``'d logs, from the PBX's CDR
(``Master.csv``), the calls that ended while it was down — the call it was logging when it died is
completed with the PBX's end, the calls it never saw are logged once, and nothing is logged twice."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.ami.fakeami import Session, Transcript

from .e2e import MADE, RECEIVED, Rig, all_closed, idle_session, seconds_of, wait_for
from .e2e import rig as _rig

rig = _rig  # the same rig as the other end-to-end tests

pytestmark = pytest.mark.slow

CDR = Path(__file__).with_name("cdr")


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def retimed(name: str, end: datetime) -> str:
    """The rows of a recorded ``Master.csv`` moved in time so that the last leg ends at *end*."""
    rows = list(csv.reader((CDR / name).read_text(encoding="utf-8").splitlines()))
    times = [
        datetime.strptime(r[i], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        for r in rows
        for i in (9, 10, 11)
        if r[i]
    ]
    shift = end.replace(microsecond=0) - max(times)
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for r in rows:
        for i in (9, 10, 11):
            if r[i]:
                r[i] = _stamp(datetime.strptime(r[i], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC) + shift)
        writer.writerow(r)
    return out.getvalue()


def cdr_row(
    a: str, b: str, uid: str, start: datetime, answer: datetime | None, end: datetime, disposition: str
) -> str:
    fields = ["", "1002", "1001", "internal", '"Bob" <1002>', a, b, "Dial", "SIP/1001,30", _stamp(start),
              _stamp(answer) if answer else "", _stamp(end), str(int((end - start).total_seconds())),
              str(int((end - answer).total_seconds())) if answer else "0", disposition, "DOCUMENTATION", uid, ""]  # fmt: skip
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow(fields)
    return out.getvalue()


def prepare(rig: Rig) -> Path:
    path = rig.tmp / "Master.csv"
    path.write_text("", encoding="utf-8")
    rig.branch_options = {"pbx_clock": False}  # the captures' own times are days old
    rig.branch_extra = {"cdr": str(path)}
    return path


def legs(rig: Rig) -> list[dict[str, Any]]:
    with sqlite3.connect(rig.tmp / "server.sqlite3") as conn:
        cur = conn.execute("SELECT call_id, channel, started, answered, ended FROM pbx_legs ORDER BY started")
        return [dict(zip(("call", "channel", "started", "answered", "ended"), r, strict=True)) for r in cur]


@pytest.mark.asyncio
async def test_a_call_that_ended_while_the_server_was_down_is_completed_from_the_cdr(rig: Rig) -> None:
    master = prepare(rig)
    t = Transcript.load("02_internal_answered")
    cut = t.frames_until(lambda m: m.event == "HangupRequest")  # both phones are talking
    rig.ami.add(
        Session(frames=t.frames[:cut], banner=t.banner, sent=t.sent, login_response=False, keep_open=True)
    )
    server = await rig.start_server()
    await wait_for(lambda: len(rig.phonecalls()) == 2, timeout=30)  # both legs' activities, open
    await asyncio.sleep(1.2)  # the PBX was heard (the gap starts at the last heartbeat)
    await server.kill()
    seen = legs(rig)
    assert [leg["channel"] for leg in seen] == ["SIP/1002-00000000", "SIP/1001-00000001"]
    assert all(leg["ended"] is None for leg in seen)
    # The call ends while the server is down; Asterisk writes its CDR row.
    await asyncio.sleep(1.0)
    start = datetime.fromtimestamp(seen[0]["started"], UTC)
    answer = datetime.fromtimestamp(seen[1]["answered"], UTC)
    end = datetime.now(UTC)
    master.write_text(
        cdr_row("SIP/1002-00000000", "SIP/1001-00000001", "1795627114.0", start, answer, end, "ANSWERED")
    )
    rig.ami.add(idle_session())  # the PBX has no channel left
    restarted = await rig.start_server()
    try:
        await wait_for(lambda: all_closed(rig, 2), timeout=30)
        rows = rig.phonecalls()
        assert len(rows) == 2  # completed, never a second activity
        talk = (end.replace(microsecond=0) - answer).total_seconds()
        for row in rows:
            seconds = seconds_of(row)
            assert seconds is not None and abs(seconds - talk) <= 1.0
        assert sorted((r["statecode"], r["statuscode"]) for r in rows) == sorted([MADE, RECEIVED])
    finally:
        assert await restarted.stop() == 0


@pytest.mark.asyncio
async def test_calls_that_began_and_ended_while_the_server_was_down_are_logged_once(rig: Rig) -> None:
    master = prepare(rig)
    rig.ami.add(idle_session())
    server = await rig.start_server()
    await asyncio.sleep(1.5)  # heard at least once
    await server.kill()
    await asyncio.sleep(1.0)
    # Asterisk 22's own rows for an answered internal call (4 s) and a DID call nobody answered.
    now = datetime.now(UTC)
    master.write_text(
        retimed("01_internal_answered.csv", now) + retimed("18_did_7000_no_answer_timeout.csv", now)
    )
    rig.ami.add(idle_session())
    restarted = await rig.start_server()
    try:
        await wait_for(lambda: all_closed(rig, 3), timeout=30)
        await asyncio.sleep(1.5)
        by_user = {v: k for k, v in rig.users.items()}
        got = sorted(
            (
                by_user.get(r["_ownerid_value"]),
                bool(r["directioncode"]),
                r["statecode"],
                r["statuscode"],
                seconds_of(r),
            )
            for r in rig.phonecalls()
        )
        assert got == [
            ("1001", False, 1, 4, 4),  # Alice received Bob's call: 4 s
            ("1001", False, 2, 3, None),  # the DID call that rang Alice 30 s: not answered
            ("1002", True, 1, 2, 4),  # Bob's call to Alice
        ]
    finally:
        assert await restarted.stop() == 0
    # A second restart reads the same rows again: nothing new
    rig.ami.add(idle_session())
    again = await rig.start_server()
    try:
        await asyncio.sleep(2.5)
        assert len(rig.phonecalls()) == 3
    finally:
        assert await again.stop() == 0
