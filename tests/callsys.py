"""Entry point of ``briefcase dev --test`` / ``briefcase run --test`` (Briefcase runs ``tests.<app>``).

Runs the fast part of the suite inside the app's own environment — the core, the CLI, the
simulator-driven UI — without the real-peer SIP tests (``-m "not peers"``), then prints the
exit sentinel Briefcase watches for. Extra arguments are passed to pytest.
"""

import os
import sys
from pathlib import Path

import pytest


def run_tests() -> int:
    project = Path(__file__).resolve().parent.parent
    os.chdir(project)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    args = ["-m", "not peers and not slow", "-p", "no:cacheprovider", "-q", *sys.argv[1:]]
    returncode = int(pytest.main(args))
    print(f">>>>>>>>>> EXIT {returncode} <<<<<<<<<<", flush=True)
    return returncode


if __name__ == "__main__":
    sys.exit(run_tests())
