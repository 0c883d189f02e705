"""Mutation fuzzing of the embedded softphone, the long run.

    .venv/bin/python benchmarks/sip_fuzz.py [SEED] [COUNT] [--batch 100] [--keep-going]

Sends COUNT mutated SIP requests (``tests/sip/sipfuzz.py``: valid INVITE, ACK, BYE, CANCEL,
OPTIONS and MESSAGE with bytes flipped, headers deleted or duplicated, Content-Length lies,
truncation, huge values, bad URIs, CRLF games …) over UDP and TCP, in batches, to
``callsys phone`` running as a subprocess on 127.0.0.1; after every batch the phone must be
alive and answer a normal call. Prints requests sent, crashes, the phone's RSS at the start,
its peak and at the end. A crash writes the batch's requests to a file (named in the output);
with ``--keep-going`` a new phone is started and the run goes on. The same SEED sends the same
bytes. Exit status 1 when the phone crashed or failed a check.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.sip.sipfuzz import Fuzzer  # noqa: E402


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("seed", nargs="?", type=int, default=1)
    parser.add_argument("count", nargs="?", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=100, help="requests between two normal calls")
    parser.add_argument("--keep-going", action="store_true", help="restart the phone after a crash")
    parser.add_argument("--out", type=Path, default=None, help="where crash files go (default: a temp dir)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="sip-fuzz-"))
    out.mkdir(parents=True, exist_ok=True)
    fuzzer = Fuzzer(args.seed, out, batch=args.batch)
    started = time.monotonic()
    try:
        report = await fuzzer.run(args.count, stop_on_crash=not args.keep_going)
    except AssertionError as exc:  # alive but a normal call failed
        print(f"check failed: {exc}")
        return 1
    seconds = time.monotonic() - started
    print(f"seed {args.seed}: {report.sent} requests sent in {report.batches} batches over {seconds:.0f} s")
    print(
        f"  phone sent back {report.responses} messages; {report.rang} mutated INVITEs rang (rejected after)"
    )
    print(f"  normal calls answered after batches: {report.checks}/{report.batches}")
    print(f"  crashes: {len(report.crashes)}")
    for crash in report.crashes:
        print("   ", crash)
    print(
        f"  phone RSS: start {report.rss_start / 1024:.1f} MiB, peak {report.rss_peak / 1024:.1f} MiB, "
        f"end {report.rss_end / 1024:.1f} MiB"
    )
    return 1 if report.crashes else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
