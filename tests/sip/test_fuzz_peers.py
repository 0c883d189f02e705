"""The softphone survives mutated SIP: a short fixed-seed run of ``sipfuzz`` (the long run is
``benchmarks/sip_fuzz.py``). Valid INVITE, ACK, BYE, CANCEL, OPTIONS and MESSAGE requests are
mutated and sent over UDP and TCP to ``callsys phone`` (a subprocess: a crash kills only it);
after every batch the phone must be alive and answer a normal call."""

from __future__ import annotations

from pathlib import Path

import pytest

from .sipfuzz import Fuzzer

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_mutated_requests_do_not_kill_the_phone(tmp_path: Path, seed: int) -> None:
    fuzzer = Fuzzer(seed, tmp_path, batch=100)
    report = await fuzzer.run(1000)
    assert not report.crashes, report.crashes
    assert report.sent >= 1000
    assert report.checks == report.batches  # a normal call answered after every batch
