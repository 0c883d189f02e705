"""The real `callsys` start-up in a fresh process: whatever is wrong, the window opens and the
process ends cleanly — never a traceback (issue 2: run on embedded defaults, B-level robustness)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start(tmp_path: Path, config_text: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    config = tmp_path / "settings.toml"
    config.write_text(config_text, encoding="utf-8")
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "CALLSYS_QUIT_WHEN_READY": "1",
        # Python's debug allocator turns a use-after-free at exit into a certain segfault (PyQt's
        # at-exit wrapper walk met a freed wrapper; `briefcase dev` runs in this mode too).
        "PYTHONDEVMODE": "1",
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "ui", "--config", str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc, config


@pytest.mark.parametrize(
    "config_text",
    [
        '[phone]\nprovider = "no-such-phone"\n',  # unknown provider → offline, banner
        "[phone\nprovider = ",  # not TOML at all → defaults, banner, file left alone
        '[numbers]\nregion = "XX"\n',  # a bad value → defaults, banner
    ],
    ids=["unknown-provider", "broken-toml", "bad-value"],
)
def test_the_window_opens_and_closes_cleanly_whatever_is_wrong(tmp_path: Path, config_text: str) -> None:
    proc, config = start(tmp_path, config_text)
    assert proc.returncode == 0, proc.stderr
    assert "callsys-ready" in proc.stdout
    assert "Traceback" not in proc.stderr
    assert config.read_text(encoding="utf-8") == config_text  # nothing the agent wrote is lost


def banner(proc: subprocess.CompletedProcess[str]) -> str:
    """The text of the window's banner when the process was ready ("" when none was shown)."""
    for line in proc.stdout.splitlines():
        if line.startswith("callsys-banner "):
            return str(json.loads(line.removeprefix("callsys-banner ")))
    return ""


def test_an_unknown_entry_in_the_settings_file_is_named_in_the_banner_and_kept(tmp_path: Path) -> None:
    """A typo in settings.toml is not silently ignored: the window says which entry it did not
    use, starts anyway, and leaves the file as the agent wrote it."""
    text = '[phone]\nprovider = "sim"\n\n[logging]\nmin_log_digit = 3\n'
    proc, config = start(tmp_path, text)
    assert proc.returncode == 0, proc.stderr
    assert "In the settings file: Unknown setting 'logging.min_log_digit'" in banner(proc)
    assert config.read_text(encoding="utf-8") == text


def test_a_clean_settings_file_shows_no_banner(tmp_path: Path) -> None:
    proc, _ = start(tmp_path, '[phone]\nprovider = "sim"\n')
    assert proc.returncode == 0, proc.stderr
    assert "callsys-ready" in proc.stdout
    assert banner(proc) == ""
