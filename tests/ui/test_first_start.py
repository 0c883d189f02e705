"""A first start says what the phone is and offers the next steps; the status bar names the real
state (issue 11, defect 5). Before, the default phone listened on every interface without a
password while a green "Phone ready" said nothing of it, and nothing said no line was set up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from callsys.provider import Line, ProviderStatus, Registration
from providers.sip.options import SipOptions
from tests.sip.peers import free_port
from tests.ui.conftest import make_settings
from tests.ui.fresh import ROOT

from ui.firststart import phone_state
from ui.mainwindow import MainWindow
from ui.qt import Qt

LEFT = Qt.MouseButton.LeftButton
ISOLATES = dict.fromkeys(map(ord, "\u2066\u2067\u2068\u2069\u200e\u200f"))


def plain(text: str) -> str:
    return text.translate(ISOLATES)


def _direct(tmp_path: Path, port: int, **options: Any) -> Any:
    return make_settings(
        tmp_path,
        **{
            "phone.provider": "sip",
            "phone.options": {"listen_port": port, "audio": {"mode": "none"}, **options},
        },
    )


def test_the_default_phone_says_no_line_and_this_computer_only(
    make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    port = free_port()
    window = make_window(_direct(tmp_path, port), directory=False)
    text = plain(window.status_label.text())
    assert text == f"No line · direct calls on sip:callsys@127.0.0.1:{port} (this computer only)"
    assert "#188038" not in window.status_dot.styleSheet()  # not the green of a registered line
    assert not window.first_start.isVisible()  # only a first start shows the panel


def test_a_reachable_direct_phone_says_so(make_window: Callable[..., MainWindow], tmp_path: Path) -> None:
    port = free_port()
    window = make_window(_direct(tmp_path, port, reachable=True), directory=False)
    text = plain(window.status_label.text())
    assert text.startswith("No line · direct calls on sip:callsys@")
    assert text.endswith(f":{port} (reachable from the network)")


def test_a_registered_line_is_named() -> None:
    options = SipOptions.parse(
        {
            "lines": [{"id": "office", "user": "1001", "registrar": "sip:pbx.example.com"}],
            "audio": {"mode": "none"},
        }
    )
    provider = type("Sip", (), {"options": options, "name": "sip"})()
    online = ProviderStatus("sip", Registration.ONLINE, (Line("office", "office", Registration.ONLINE),))
    state = phone_state(provider, online, {"lines": [{"user": "1001"}]})
    assert plain(state.text) == "Registered as 1001@pbx.example.com"
    refused = ProviderStatus(
        "sip", Registration.OFFLINE, (Line("office", "office", Registration.OFFLINE, "401"),)
    )
    assert phone_state(provider, refused, {}).text == "Phone offline"


def test_the_first_start_panel_offers_the_three_next_steps(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.settingsdialog import SettingsDialog

    monkeypatch.setattr(SettingsDialog, "exec", lambda self: 0)  # opened, not waited for
    port = free_port()
    window = make_window(_direct(tmp_path, port), directory=False)
    window.show_first_start()
    panel = window.first_start
    assert panel.isVisible()
    said = plain(panel.text.text())
    assert "No phone line is set up yet" in said
    assert f"sip:callsys@127.0.0.1:{port} — from this computer only" in said
    assert (
        panel.add_line_button.isVisible()
        and panel.connect_button.isVisible()
        and panel.sim_button.isVisible()
    )

    qtbot.mouseClick(panel.add_line_button, LEFT)  # Settings, on the phone's lines, a new line
    dialog = window.settings_dialog
    assert dialog.tabs.currentIndex() == dialog._pages["phone"]
    assert dialog.fields["phone.provider"].widget.currentData() == "sip"
    qtbot.waitUntil(lambda: dialog.sip_lines.list.count() == 1)
    dialog.close()

    qtbot.mouseClick(panel.connect_button, LEFT)  # Settings, on the phone connection's choice
    dialog = window.settings_dialog
    assert dialog.tabs.currentIndex() == dialog._pages["phone"]
    assert dialog.sip_lines.list.count() == 0  # nothing added by this step
    dialog.close()

    qtbot.mouseClick(panel.sim_button, LEFT)  # the simulator instead of the direct phone
    qtbot.waitUntil(lambda: window.simulator is not None, timeout=10000)
    qtbot.waitUntil(lambda: "simulator is running" in panel.text.text())
    assert not panel.sim_button.isVisible()
    assert window.status_label.text() == "Phone ready"
    qtbot.mouseClick(panel.close_button, LEFT)
    assert not panel.isVisible()


def test_a_real_first_start_shows_the_panel_and_the_loopback_phone(tmp_path: Path) -> None:
    """`python -m callsys` with no settings file: the built-in phone on its defaults (only the port
    moved off 5060 by a provisioning file, as an organisation would ship one)."""
    port = free_port()
    provisioning = tmp_path / "provisioning.toml"
    provisioning.write_text(
        f'[defaults.phone]\nprovider = "sip"\n[defaults.phone.options]\nlisten_port = {port}\n'
        f'audio = {{ mode = "none" }}\n[defaults.storage]\ndatabase = "{tmp_path / "cs.sqlite3"}"\n',
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "callsys"],
        cwd=ROOT,
        env={
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "CALLSYS_QUIT_WHEN_READY": "1",
            "CALLSYS_PROVISIONING": str(provisioning),
            "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    said = {
        kind: json.loads(rest)
        for kind, _, rest in (line.partition(" ") for line in proc.stdout.splitlines())
        if kind in ("callsys-first-start", "callsys-status")
    }
    assert "No phone line is set up yet" in said["callsys-first-start"]
    address = f"sip:callsys@127.0.0.1:{port}"
    assert address in plain(said["callsys-first-start"])
    assert plain(said["callsys-status"]) == f"No line · direct calls on {address} (this computer only)"
    assert not (tmp_path / "cfg" / "callsys" / "settings.toml").exists()  # nothing written for it
