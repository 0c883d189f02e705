"""One window per user and settings (B5), as qutebrowser's ``misc/ipc.py`` keeps it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from callsys.calllog import CallLog
from callsys.model import Direction
from callsys.store import open_database
from tests.helpers import stop

from ui.single import PROTOCOL, SingleInstance, server_name

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    config = tmp_path / "settings.toml"
    database = tmp_path / "callsys.sqlite3"
    config.write_text(
        f'[phone]\nprovider = "sim"\noptions = {{ speed = 0, agent_script = false }}\n'
        f'[storage]\ndatabase = "{database}"\n',
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
    }
    (tmp_path / "run").mkdir(mode=0o700)
    env.pop("CALLSYS_QUIT_WHEN_READY", None)
    env.pop("CALLSYS_SINGLE_INSTANCE_ONLY", None)
    return config, database, env


def test_two_links_clicked_at_once_open_one_window_that_dials_both(tmp_path: Path) -> None:
    """Two launches started together, each with its own tel: link: one becomes the window, the
    other hands its link over and exits 0; the one window dials both. Before, both missed each
    other's socket while building their windows: two windows ran, each dialling its own link."""
    config, database, env = _config(tmp_path)
    launches = [
        subprocess.Popen(
            [sys.executable, "-m", "callsys", "--config", str(config), link],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for link in ("tel:+98-912-345-6789", "tel:+98-21-8877-6655")
    ]
    try:
        deadline = time.monotonic() + 30
        calls: list = []
        while time.monotonic() < deadline:
            if database.exists():
                db = open_database(database)
                try:
                    calls = CallLog(db).query()
                finally:
                    db.conn.close()
            if len(calls) >= 2 and sum(p.poll() is None for p in launches) <= 1:
                break
            time.sleep(0.2)
        time.sleep(1.0)  # a second window would still be running now
        running = [p for p in launches if p.poll() is None]
        exited = [p for p in launches if p.poll() is not None]
        assert len(running) == 1, "both launches kept a window"
        assert [p.returncode for p in exited] == [0]
        assert sorted(c.number.e164 for c in calls) == ["+982188776655", "+989123456789"]
        assert {c.direction for c in calls} == {Direction.OUTGOING}
    finally:
        for p in launches:
            stop(p, 10)


def test_the_socket_lives_in_a_folder_only_its_user_can_enter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    run.mkdir(mode=0o755)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
    name = Path(server_name(tmp_path / "settings.toml"))
    assert name.parent == run / f"callsys-{os.getuid()}"
    assert stat.S_IMODE(name.parent.stat().st_mode) == 0o700
    name.parent.chmod(0o755)  # loosened by someone: made private again
    server_name(tmp_path / "settings.toml")
    assert stat.S_IMODE(name.parent.stat().st_mode) == 0o700


def test_a_hand_over_says_its_protocol_version_and_a_newer_one_is_still_read(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
    running = SingleInstance(tmp_path / "settings.toml")
    lines: list[bytes] = []
    read = running._message
    monkeypatch.setattr(running, "_message", lambda line: (lines.append(line), read(line)))
    assert running.listen()
    try:
        assert SingleInstance(tmp_path / "settings.toml").hand_over(["tel:+989123456789"])
        qtbot.waitUntil(lambda: bool(lines))
        assert json.loads(lines[0]) == {"v": PROTOCOL, "uris": ["tel:+989123456789"]}
        running._message(b'{"v": 2, "uris": ["tel:2"], "focus": true}\n')  # a newer callsys
        assert running._pending == [["tel:+989123456789"], ["tel:2"]]  # kept for the window
    finally:
        running.close()
