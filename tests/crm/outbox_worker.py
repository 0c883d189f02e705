"""A separate process that flushes the outbox to a Dataverse (the fake on a loopback port).

Used by ``test_outbox_kill.py``: killed with SIGKILL in the middle of a flush, then started
again. Exit status 0 = everything delivered, 3 = something left over. Optional third and fourth
arguments: items per ``$batch`` and batches in flight (default 1 and 1: one write at a time).
"""

from __future__ import annotations

import asyncio
import sys

from callsys.activity import register_handlers
from callsys.auth import EnvTokens
from callsys.crm.dynamics.client import DynamicsCrm
from callsys.numbers import NumberPlan
from callsys.outbox import Outbox
from callsys.store import open_database


async def main(db_path: str, org_url: str, batch_size: int = 1, concurrency: int = 1) -> int:
    db = open_database(db_path)
    try:
        outbox = Outbox(db, base_delay=0.05, max_delay=0.5, batch_size=batch_size, concurrency=concurrency)
        async with DynamicsCrm(org_url, EnvTokens("CALLSYS_CRM_TOKEN"), plan=NumberPlan(region="DE")) as crm:
            register_handlers(outbox, crm)
            result = await outbox.drain(max_wait=60)
    finally:
        db.conn.close()
    print(f"pending={result.pending} dead={result.dead}", flush=True)
    return 0 if result.pending == 0 and result.dead == 0 else 3


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:5]))))
