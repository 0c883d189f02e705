"""The real `callsys` start-up in a fresh process: whatever is wrong, the window opens and the
process ends cleanly — never a traceback (issue 2: run on embedded defaults, B-level robustness)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.ui.fresh import start_ui


def start(tmp_path: Path, config_text: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    # Python's debug allocator turns a use-after-free at exit into a certain segfault (PyQt's
    # at-exit wrapper walk met a freed wrapper; `briefcase dev` runs in this mode too).
    return start_ui(tmp_path, config_text, PYTHONDEVMODE="1")


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
