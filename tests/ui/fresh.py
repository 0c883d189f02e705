"""Start the real desktop (`python -m callsys`) once in a fresh process, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_ui(
    tmp_path: Path, config_text: str, *args: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run the desktop on `config_text` off-screen until it is ready, then let it quit; its own
    config and data folders under `tmp_path`; `args` follow on its command line; `env` adds to its
    environment."""
    config = tmp_path / "settings.toml"
    config.write_text(config_text, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "callsys", "--config", str(config), *args],
        cwd=ROOT,
        env={
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "CALLSYS_QUIT_WHEN_READY": "1",
            "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_STATE_HOME": str(tmp_path / "state"),  # the log file (Linux)
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc, config
