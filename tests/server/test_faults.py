"""The fault run, short (``benchmarks/server_faults.py`` is the long one with its figures): calls
played in real time through two server nodes on PostgreSQL while the leader is ``kill -9``'d every
few seconds and its PBX link is cut at random — afterwards the CRM holds exactly one activity per
call leg, each with the right state and talk time (± 1 s), none left open."""

from __future__ import annotations

from pathlib import Path

import pytest

from .faults import run

pytestmark = pytest.mark.slow


@pytest.mark.asyncio
async def test_no_call_is_lost_or_logged_twice_across_kills_and_link_cuts(tmp_path: Path) -> None:
    figures, problems = await run(tmp_path, calls=40, rate=4.0, kill_every=3.0, cut_every=2.5, seed=13)
    assert figures.takeovers >= 2 and figures.link_cuts >= 2  # the faults really happened
    assert problems == []
    assert (figures.legs, figures.activities) == (80, 80)
