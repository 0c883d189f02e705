"""The fault run, short (``benchmarks/server_faults.py`` is the long one with its figures): calls
played in real time through two server nodes on PostgreSQL while the leader is ``kill -9``'d every
few seconds and its PBX link is cut at random — afterwards the CRM holds exactly one activity per
call leg, each with the right state, none left open, and talk times within a second (but for the
known residual of one call, see docs/server.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .faults import run

pytestmark = pytest.mark.slow


@pytest.mark.asyncio
@pytest.mark.timeout(900)  # ~1 min on an idle machine; a busy one stretches every restart
async def test_no_call_is_lost_or_logged_twice_across_kills_and_link_cuts(tmp_path: Path) -> None:
    figures, problems = await run(tmp_path, calls=40, rate=4.0, kill_every=3.0, cut_every=2.5, seed=13)
    assert figures.takeovers >= 2 and figures.link_cuts >= 2  # the faults really happened
    assert (figures.legs, figures.activities) == (80, 80), problems
    assert (figures.duplicates, figures.missing, figures.open, figures.wrong_states) == (0, 0, 0, 0), problems
    assert figures.no_relogin == 0, f"a new leader never logged in to the PBX; {problems}"
    # Known residual (docs/server.md, the fault run): a call's talk time can be a second short
    # when its answer was stamped late and the CDR check did not reach it in time — more of them
    # on a busy machine, where every restart is slow. benchmarks/server_faults.py prints the count.
    assert figures.wrong_durations <= figures.legs // 10, problems
