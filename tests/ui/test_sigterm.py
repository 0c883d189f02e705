"""B5: the system ends callsys with SIGTERM (logout, shutdown, ``kill``). The window closes as
File → Quit does, without asking: a call in progress is ended and logged with its talk time, not
left live in the log to be marked "failed" with 0 s at the next start (its end then the time of
that start, maybe days later)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SETTINGS = (
    '[phone]\nprovider = "sim"\n[phone.options]\nspeed = 0\nagent_script = false\ndial_answer_after = 0.1\n'
)


def _calls(env: dict[str, str], config: Path) -> list[dict[str, object]]:
    out = subprocess.run(
        [sys.executable, "-m", "callsys", "--config", str(config), "log", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    data = json.loads(out)
    return list(data if isinstance(data, list) else data.get("calls", []))


@pytest.mark.skipif(sys.platform == "win32", reason="no SIGTERM on Windows")
def test_sigterm_during_a_call_ends_and_logs_it(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(SETTINGS, encoding="utf-8")
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_RUNTIME_DIR": str(tmp_path),
    }
    errors = tmp_path / "stderr.txt"
    with errors.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "callsys", "--config", str(config), "tel:+14155550100"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 30
        while not any(c.get("answered_at") for c in _calls(env, config)):  # talking
            assert proc.poll() is None, errors.read_text(errors="replace")
            assert time.monotonic() < deadline, "the call from the tel: link never connected"
            time.sleep(0.2)
        time.sleep(1.2)  # a second of talk
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    [call] = _calls(env, config)
    # ended when callsys ended, with its talk time — not live until the next start
    assert call["state"] == "ended", call
    assert int(str(call["duration"])) >= 1, call


@pytest.mark.skipif(sys.platform == "win32", reason="no SIGTERM on Windows")
def test_sigterm_ends_an_idle_window(tmp_path: Path) -> None:
    """No call: the window quits as File → Quit does (exit 0), not killed by the signal."""
    config = tmp_path / "settings.toml"
    config.write_text(SETTINGS, encoding="utf-8")
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_RUNTIME_DIR": str(tmp_path),
    }
    errors = tmp_path / "stderr.txt"
    with errors.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "callsys", "--config", str(config)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 30
        while not _calls(env, config) and not list((tmp_path / "data").rglob("*.sqlite3")):
            assert proc.poll() is None, errors.read_text(errors="replace")
            assert time.monotonic() < deadline, "the window never opened its database"
            time.sleep(0.2)
        time.sleep(3)  # the window up and idle: nothing of its own is due now
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
