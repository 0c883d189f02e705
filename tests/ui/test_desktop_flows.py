"""Issue 6 flows: the notes form (IN7, OUT6), hotkeys (CARD6), single instance with tel: links (B5)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from callsys.calllog import CallLog
from callsys.model import CallState, Direction
from callsys.store import open_database
from providers.sim import SimulatedProvider
from tests.helpers import stop
from tests.ui.conftest import REZA, SARA, make_settings
from tests.ui.helpers import activate, press

from ui.mainwindow import MainWindow
from ui.qt import QGuiApplication, Qt

LEFT = Qt.MouseButton.LeftButton


def plain(text: str) -> str:
    return text.strip("\u200e\u200f")


def connected_call(window: MainWindow, qtbot: Any, number: str = SARA) -> str:
    call_id = window.simulator.ring(number, "")
    qtbot.waitUntil(lambda: (p := window.popups.popup(call_id)) is not None and p._looked_up)
    window.answer(call_id)
    qtbot.waitUntil(lambda: window.simulator.state(call_id) is CallState.ACTIVE)
    return call_id


def test_notes_open_on_connect_are_saved_and_get_the_duration(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    call_id = connected_call(window, qtbot)
    notes = window.notes
    assert notes.isVisible() and notes.call is not None and notes.call.id == call_id  # opens by itself
    assert notes.who.text().strip("\u200e\u200f") == "Sara Ahmadi · Ahmadi Trading"  # pre-filled
    assert plain(notes.direction.text()) == "Incoming"
    assert plain(notes.duration.text()) == "(filled in when the call ends)"
    notes.text.setPlainText("Wants a quote for 40 handsets.\nCall back Monday.")
    qtbot.mouseClick(notes.save_button, LEFT)
    assert window.desktop.calllog.get(call_id).notes == "Wants a quote for 40 handsets.\nCall back Monday."
    notes.text.appendPlainText("Sent the price list.")
    window.simulator.remote_hangup(call_id)
    qtbot.waitUntil(lambda: notes.call is not None and notes.call.state is CallState.ENDED)
    record = window.desktop.calllog.get(call_id)
    assert record.notes.endswith("Sent the price list.")  # saved when the call ended
    assert plain(notes.duration.text()) == f"0:{record.duration:02d}"  # duration filled at the end
    assert notes.isVisible()  # the agent finishes typing after the call


def test_notes_work_for_outgoing_calls_too(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    window = make_window(
        make_settings(
            tmp_path, **{"phone.options": {"speed": 0, "agent_script": False, "dial_answer_after": 0.05}}
        )
    )
    window.dial_text(REZA)
    qtbot.waitUntil(window.notes.isVisible)
    call = window.notes.call
    assert call is not None and call.direction is Direction.OUTGOING
    assert plain(window.notes.direction.text()) == "Outgoing"
    window.notes.text.setPlainText("Left a message.")
    window.notes.save()
    assert window.desktop.calllog.get(call.id).notes == "Left a message."


def test_hotkeys_fire_the_right_actions(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    sim = window.simulator
    activate(window, qtbot)
    first = sim.ring(SARA, "")
    qtbot.waitUntil(lambda: window.popups.popup(first) is not None)
    press(window, qtbot, Qt.Key.Key_A)  # answer
    qtbot.waitUntil(lambda: sim.state(first) is CallState.ACTIVE)
    press(window, qtbot, Qt.Key.Key_H)  # hold
    qtbot.waitUntil(lambda: sim.state(first) is CallState.HELD)
    press(window, qtbot, Qt.Key.Key_H)  # resume
    qtbot.waitUntil(lambda: sim.state(first) is CallState.ACTIVE)
    press(window, qtbot, Qt.Key.Key_M)  # mute
    qtbot.waitUntil(lambda: ("mute", first) in sim.commands)
    second = sim.ring(REZA, "")
    qtbot.waitUntil(lambda: window.popups.popup(second) is not None)
    press(window, qtbot, Qt.Key.Key_R)  # reject the waiting call
    qtbot.waitUntil(lambda: window.popups.popup(second) is None)
    assert ("reject", second) in sim.commands
    press(window, qtbot, Qt.Key.Key_E)  # hang up
    qtbot.waitUntil(lambda: sim.state(first) is None)
    press(window, qtbot, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.log_search.hasFocus()
    press(window, qtbot, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.dial_edit.hasFocus()
    clipboard = QGuiApplication.clipboard()
    clipboard.setText("tel:+98-21-8877-6655")
    press(window, qtbot, Qt.Key.Key_V)  # dial the clipboard
    qtbot.waitUntil(lambda: ("dial", "02188776655") in sim.commands)


def test_hotkeys_are_remappable_and_clashes_are_reported(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    window = make_window(
        make_settings(tmp_path, **{"hotkeys.answer": "F9", "hotkeys.reject": "F9", "hotkeys.hangup": ""})
    )
    sim = window.simulator
    activate(window, qtbot)
    assert window.hotkeys.actions["answer"].shortcut().toString() == "F9"
    assert window.hotkeys.actions["reject"].shortcut().isEmpty()  # the clash is not half-applied
    assert window.hotkeys.actions["hangup"].shortcut().isEmpty()
    assert "F9" in window.banner_label.text() and window.banner.isVisible()
    call_id = sim.ring(SARA, "")
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is not None)
    press(window, qtbot, Qt.Key.Key_F9, Qt.KeyboardModifier.NoModifier)
    qtbot.waitUntil(lambda: sim.state(call_id) is CallState.ACTIVE)
    press(window, qtbot, Qt.Key.Key_A)  # the old default does nothing now
    assert sim.state(call_id) is CallState.ACTIVE


def test_a_global_key_for_a_field_of_the_window_brings_the_window_up(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    """A global key (CARD6) for "Go to the number field" or "Call notes", pressed in another program:
    the key is useless unless the window comes up — hidden to the tray or minimised."""
    window = make_window()
    window.show()
    window.hide()  # closed to the tray
    window.hotkeys.global_keys.activated.emit("focus_dial")
    assert window.isVisible() and not window.isMinimized()
    assert window.focusWidget() is window.dial_edit
    window.showMinimized()
    window.hotkeys.global_keys.activated.emit("focus_search")
    assert window.isVisible() and not window.isMinimized()
    window.hide()
    window.hotkeys.global_keys.activated.emit("hold")  # a call action acts where the window is
    assert not window.isVisible()


def test_call_back_from_the_log(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    call_id = window.simulator.ring(REZA, "")
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is not None)
    window.simulator.remote_hangup(call_id)
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is None)
    activate(window, qtbot)
    window.log_view.selectRow(0)
    press(window, qtbot, Qt.Key.Key_B)
    qtbot.waitUntil(lambda: ("dial", "09123456789") in window.simulator.commands)


def test_a_second_launch_hands_its_tel_link_to_the_running_window(tmp_path: Path) -> None:
    """Two real processes: the first shows the window, the second (a clicked tel: link) exits
    and the first dials the number (B5, single instance)."""
    root = Path(__file__).resolve().parents[2]
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
    }
    env.pop("CALLSYS_QUIT_WHEN_READY", None)
    first = subprocess.Popen(
        [sys.executable, "-m", "callsys", "--config", str(config)],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        second = None
        while time.monotonic() < deadline:
            second = subprocess.run(
                [sys.executable, "-m", "callsys", "--config", str(config), "tel:+98-912-345-6789"],
                cwd=root,
                env={**env, "CALLSYS_SINGLE_INSTANCE_ONLY": "1"},
                capture_output=True,
                timeout=20,
                check=False,
            )
            if second.returncode == 0:
                break
            time.sleep(0.3)
        assert second is not None and second.returncode == 0, second.stdout + second.stderr
        db = open_database(database)
        try:
            log = CallLog(db)
            for _ in range(300):
                calls = log.query()
                if calls:
                    break
                time.sleep(0.1)
            assert [c.direction for c in calls] == [Direction.OUTGOING]
            assert calls[0].number.e164 == "+989123456789"
        finally:
            db.conn.close()
        assert first.poll() is None  # the first window is still running
    finally:
        stop(first, 10)
        if first.stdout is not None:
            first.stdout.close()


def test_a_name_in_the_number_field_offers_every_number_of_the_record(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    sim = window.simulator
    window.dial_edit.setText("sara")
    qtbot.keyClick(window.dial_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: getattr(window, "directory_menu", None) is not None)
    menu = window.directory_menu
    labels = [a.text() for a in menu.actions()]
    assert labels == [
        "Sara Ahmadi · Ahmadi Trading   Work: \u2066021 8877 6655\u2069",
        "Sara Ahmadi · Ahmadi Trading   Work: \u20660912 111 2233\u2069",
    ]  # OUT4: the agent picks which number, each with its type
    menu.actions()[1].trigger()
    qtbot.waitUntil(lambda: ("dial", "09121112233") in sim.commands)
    window.dial_edit.setText("Karimi")  # one record, one number: dialled at once
    qtbot.keyClick(window.dial_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: ("dial", "09123456789") in sim.commands)
    window.dial_edit.setText("nobody at all")
    qtbot.keyClick(window.dial_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "No record matches" in window.statusBar().currentMessage())


class ServerLikeProvider(SimulatedProvider):
    """Like providers.server: the server writes the activity, the desktop sends notes and picks."""

    owns_activity = False

    def __init__(self, options: Any) -> None:
        super().__init__(options)
        self.notes: list[tuple[str, str]] = []
        self.links: list[tuple[str, str, str]] = []

    async def set_notes(self, call_id: str, text: str) -> None:
        self.notes.append((call_id, text))

    async def link(self, call_id: str, table: str, record_id: str) -> None:
        self.links.append((call_id, table, record_id))


def test_notes_and_record_picks_go_to_the_server_when_it_keeps_the_activity(
    qtbot: Any, aio: Any, language: Any, tmp_path: Path
) -> None:
    from callsys.provider import ProviderRegistry

    from ui.desktop import compose

    registry = ProviderRegistry()
    registry.register("server-like", ServerLikeProvider)
    desktop = compose(make_settings(tmp_path, **{"phone.provider": "server-like"}), registry)
    from tests.ui.conftest import fill_directory

    fill_directory(desktop)
    window = MainWindow(desktop, language)
    qtbot.addWidget(window)
    started = aio.create_task(window.start())
    qtbot.waitUntil(started.done)
    provider = desktop.provider
    assert desktop.activity is None  # never two activities for one call
    call_id = connected_call(window, qtbot)
    window.notes.text.setPlainText("Asked about the invoice.")
    window.notes.save()
    qtbot.waitUntil(lambda: provider.notes == [(call_id, "Asked about the invoice.")])
    assert provider.links and provider.links[0][:2] == (call_id, "contact")
    assert desktop.calllog.get(call_id).notes == "Asked about the invoice."
    window.popups.close_all()
    window.close()
    closing = aio.create_task(desktop.close())
    qtbot.waitUntil(closing.done)


def test_enter_on_a_log_entry_calls_back(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    call_id = window.simulator.ring(REZA, "")
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is not None)
    window.simulator.remote_hangup(call_id)
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is None)
    window.log_view.selectRow(0)
    window.log_view.setFocus()
    qtbot.keyClick(window.log_view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: ("dial", "09123456789") in window.simulator.commands)


def test_saved_settings_apply_without_a_restart(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    settings = window.desktop.settings
    settings.set("hotkeys.answer", "F8")
    settings.set("ui.language", "fa")
    try:
        window.settings_saved(["hotkeys.answer", "ui.language"])  # what the settings dialog reports
        assert window.hotkeys.actions["answer"].shortcut().toString() == "F8"
        assert window.isRightToLeft() and window.dial_button.text() == "تماس"
    finally:
        settings.set("ui.language", "en")
        window.settings_saved(["ui.language"])
    assert not window.isRightToLeft()
    settings.set("phone.provider", "no-such-phone")
    window.settings_saved(["phone.provider"])
    qtbot.waitUntil(lambda: window.banner.isVisible() and "no-such-phone" in window.banner_label.text())
    assert window.desktop.provider is None


def test_notes_of_a_call_from_before_a_restart_can_be_edited(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    import asyncio

    window = make_window(make_settings(tmp_path))
    call_id = connected_call(window, qtbot)
    window.notes.text.setPlainText("First note.")
    window.simulator.remote_hangup(call_id)
    qtbot.waitUntil(lambda: window.desktop.calllog.get(call_id).notes == "First note.")
    window.close()
    closing = asyncio.ensure_future(window.desktop.close())
    qtbot.waitUntil(closing.done)

    again = make_window(make_settings(tmp_path), directory=False)
    activate(again, qtbot)
    again.log_view.selectRow(0)
    press(again, qtbot, Qt.Key.Key_N)  # Ctrl+Shift+N: the selected call's notes
    assert again.notes.isVisible() and again.notes.call.id == call_id
    assert again.notes.text.toPlainText() == "First note."
    assert plain(again.notes.who.text()).startswith("Sara Ahmadi")
    again.notes.text.appendPlainText("Called back, all sorted.")
    again.notes.save()
    assert again.desktop.calllog.get(call_id).notes == "First note.\nCalled back, all sorted."
