"""Run the real ``callsys`` command line in-process, as the tests of every sub-command do."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from callsys.cli import main
from providers import REGISTRY


def run(config: Path, *argv: str) -> tuple[int, str]:
    """Exit status and standard output of ``callsys ARGV --config CONFIG``."""
    out = io.StringIO()
    code = main([*argv, "--config", str(config)], registry=REGISTRY, out=out)
    return code, out.getvalue()


def run_json(config: Path, *argv: str) -> Any:
    """The parsed ``--json`` output; the command must succeed."""
    code, text = run(config, *argv, "--json")
    assert code == 0, text
    return json.loads(text)
