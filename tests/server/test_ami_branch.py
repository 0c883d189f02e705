"""A server branch on the AMI provider: what its start-up says in the log."""

from __future__ import annotations

import asyncio
import logging

import pytest

from callsys.numbers import NumberPlan
from callsys.provider import Registration
from callsys.server.config import Branch
from tests.ami.fakeami import FakeAmi, Session

from .conftest import ServerMaker


@pytest.mark.asyncio
async def test_branch_online_is_logged_once_at_start_up(
    make_server: ServerMaker, caplog: pytest.LogCaptureFixture
) -> None:
    """Each phone's device state arrives after the login and refreshes the branch's lines; the
    branch itself went online once, and the log says so once."""
    devices = {"SIP/1001": "NOT_INUSE", "SIP/1002": "NOT_INUSE", "SIP/1003": "UNAVAILABLE"}
    caplog.set_level(logging.INFO, logger="callsys.server")
    async with FakeAmi(Session(frames=[], keep_open=True, devices=devices)) as ami:
        options = {"host": "127.0.0.1", "port": ami.port, "username": "callsys", "secret": "callsys",
                   "context": "internal", "technology": "SIP", "extensions": ["1001", "1002", "1003"]}  # fmt: skip
        branch = Branch("hq", "ami", options, NumberPlan(region="DE"), {})
        server = await make_server(branches=(branch,))
        provider = server.branches["hq"].provider
        for _ in range(500):
            lines = {line.id: line.registration for line in provider.lines()}
            if lines.get("1003") is Registration.OFFLINE:
                break
            await asyncio.sleep(0.01)
        assert lines == {
            "1001": Registration.ONLINE,
            "1002": Registration.ONLINE,
            "1003": Registration.OFFLINE,
        }
        await server.stop()
    online = [r.getMessage() for r in caplog.records if r.getMessage() == "branch hq is online"]
    assert online == ["branch hq is online"]
