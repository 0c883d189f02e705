"""An unattended roll-out: the administrator's system file turns the first-start panel off, so
a provisioned PC's first start shows the window and nothing else, and writes no settings file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sip.peers import free_port
from tests.ui.fresh import ROOT


def first_start(tmp_path: Path, system_text: str) -> list[str]:
    """`python -m callsys` with no settings file; its ready-hook lines (callsys-first-start, …)."""
    provisioning = tmp_path / "provisioning.toml"
    provisioning.write_text(
        f'[defaults.phone]\nprovider = "sip"\n[defaults.phone.options]\nlisten_port = {free_port()}\n'
        f'audio = {{ mode = "none" }}\n[defaults.storage]\ndatabase = "{tmp_path / "cs.sqlite3"}"\n',
        encoding="utf-8",
    )
    system = tmp_path / "system.toml"
    system.write_text(system_text, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "callsys"],
        cwd=ROOT,
        env={
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "CALLSYS_QUIT_WHEN_READY": "1",
            "CALLSYS_PROVISIONING": str(provisioning),
            "CALLSYS_SYSTEM_SETTINGS": str(system),
            "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "cfg" / "callsys" / "settings.toml").exists()
    return [line.partition(" ")[0] for line in proc.stdout.splitlines()]


@pytest.mark.parametrize(
    ("system_text", "panel"),
    [
        ("", True),
        ("[ui]\nfirst_start_panel = false\n", False),
    ],
)
def test_the_system_file_can_keep_the_first_start_silent(
    tmp_path: Path, system_text: str, panel: bool
) -> None:
    said = first_start(tmp_path, system_text)
    assert "callsys-ready" in said
    assert ("callsys-first-start" in said) is panel
