"""The server never loses a call: the fault run. One command, prints figures:

    .venv/bin/python benchmarks/server_faults.py [--calls 1000] [--rate 5] [--kill-every 5] [--cut-every 4]

Two ``callsys server`` processes share a throwaway PostgreSQL cluster (Debian's ``postgresql``:
``initdb`` + ``pg_ctl``); a synthetic Asterisk plays copies of the captured calls (answered, and one
in five not answered) at a steady rate in real time and writes each one's CDR row to ``Master.csv``;
the leader is ``kill -9``'d every ``--kill-every`` seconds (the killed node is restarted and stands
by), and the leader's AMI link is cut about every ``--cut-every`` seconds. Afterwards the Dataverse
fake must hold exactly one phone-call activity per call leg (two per call: the caller's and the
callee's), each with the right state and talk time (± 1 s), none left open.

Printed: calls, legs, activities, duplicates, missing, wrong durations, wrong states, left open,
takeovers, takeover time (kill → the standby leads and listens) and PBX re-login time (kill → the new
leader is logged in to the PBX), link cuts, and the legs logged or corrected from the CDR.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.server.faults import run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=5.0, help="calls started per second")
    parser.add_argument("--kill-every", type=float, default=5.0, help="seconds between kills of the leader")
    parser.add_argument(
        "--cut-every", type=float, default=4.0, help="mean seconds between AMI link cuts (0 = none)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--show", type=int, default=20, help="problems to list")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="callsys-faults-") as tmp:
        figures, problems = asyncio.run(
            run(
                Path(tmp),
                calls=args.calls,
                rate=args.rate,
                kill_every=args.kill_every,
                cut_every=args.cut_every,
                seed=args.seed,
                log=lambda text: print(f"  {text}", flush=True),
            )
        )
    times = figures.takeover_times or [0.0]
    relogins = figures.relogin_times or [0.0]
    load = os.getloadavg()[0]
    print(
        f"\ncalls {figures.calls} at {args.rate:g}/s over {figures.seconds:.0f} s (load average {load:.1f})"
    )
    print(f"  call legs              {figures.legs}")
    print(f"  activities             {figures.activities}")
    print(f"  duplicates             {figures.duplicates}")
    print(f"  missing                {figures.missing}")
    print(f"  wrong durations (>1 s) {figures.wrong_durations}")
    print(f"  wrong states           {figures.wrong_states}")
    print(f"  left open              {figures.open}")
    print(f"  takeovers (kill -9)    {figures.takeovers}")
    print(f"  takeover time          median {statistics.median(times):.2f} s, max {max(times):.2f} s")
    print(f"  PBX re-login after kill median {statistics.median(relogins):.2f} s, max {max(relogins):.2f} s")
    print(f"  no PBX re-login in 60 s {figures.no_relogin}")
    print(f"  AMI link cuts          {figures.link_cuts}")
    print(f"  legs from the CDR      {figures.reconciled}")
    for line in problems[: args.show]:
        print(f"  ! {line}")
    return 0 if figures.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
