"""Two ``callsys server`` processes on one PostgreSQL (a throwaway cluster): one leads, the other
stands by without listening; when the leader is ``kill -9``'d the standby leads, adopts the call
the PBX still has as the *same* call (the state is shared), and the CRM ends with one activity
per call leg."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.ami.fakeami import TALKING_02, Session, Transcript

from .e2e import EXPECTED, Rig, all_closed, observed_rows, wait_for
from .e2e import rig as _rig
from .pgcluster import PgCluster, cluster

pytestmark = pytest.mark.slow
rig = _rig
_names = itertools.count()


@pytest.fixture(scope="module")
def pg() -> Iterator[PgCluster]:
    with cluster() as running:
        yield running


@pytest.mark.asyncio
async def test_the_standby_takes_over_a_live_call_from_a_killed_leader(rig: Rig, pg: PgCluster) -> None:
    rig.extra_settings["server.database"] = pg.database(f"nodes{os.getpid()}_{next(_names)}")
    t = Transcript.load("02_internal_answered")
    cut = t.frames_until(lambda m: m.event == "HangupRequest")  # both phones are talking
    rig.ami.add(
        Session(frames=t.frames[:cut], banner=t.banner, sent=t.sent, login_response=False, keep_open=True)
    )
    leader = await (await rig.spawn("a")).listening()
    standby = await rig.spawn("b")
    waiting = asyncio.ensure_future(standby.listening(60))
    try:
        await wait_for(lambda: len(rig.phonecalls()) == 2, timeout=30)  # both legs' activities, open
        await asyncio.sleep(0.5)
        assert not waiting.done()  # the standby neither listens nor talks to the PBX
        assert len(rig.ami.conns) == 1
        # Asterisk still has the call when the standby connects
        rig.ami.add(Session(frames=[], sent=t.sent, channels=TALKING_02, keep_open=True))
        await leader.kill()
        successor = await waiting
        await wait_for(lambda: len(rig.ami.conns) == 2 and rig.ami.conns[1].login_ok, timeout=30)
        await asyncio.sleep(0.5)  # the resync has adopted the call
        await rig.ami.conns[1].inject(*(f for f in t.frames[cut:] if not f.startswith(b"Response:")))
        await wait_for(lambda: all_closed(rig, 2), timeout=30)
        await asyncio.sleep(1.0)
        assert Counter(
            (ext, outgoing, number, status) for ext, outgoing, number, status, _ in observed_rows(rig)
        ) == Counter(
            (ext, outgoing, number, status)
            for ext, outgoing, number, status, _ in EXPECTED["02_internal_answered"]
        )
        assert await successor.stop() == 0
    finally:
        waiting.cancel()
        for node in (standby,):
            if node.proc.returncode is None:
                node.proc.kill()
            await node.proc.wait()
        await leader.kill()
