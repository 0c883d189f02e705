"""The call log's context menu (IN9, IN11, OUT7, issue 11): Call back, Copy number, Open record
(the local contact; the Dynamics 365 page in the browser), Add to contacts (the built-in
directory), Convert call… on the matched record — by right click, the menu key and Shift+F10."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from PyQt6.QtGui import QContextMenuEvent  # what the window system sends for a right click

from callsys.crm.local import LocalCrm
from callsys.model import EndReason, PartyKind
from tests.dataverse_fake import DataverseFake
from tests.ui.conftest import ACME, SARA, dynamics_desktop
from tests.ui.helpers import UNKNOWN, clashes, missed, ring

from ui.convert import ConvertDialog
from ui.details import PartyDetailsDialog
from ui.i18n import Language
from ui.mainwindow import MainWindow
from ui.qt import QApplication, QGuiApplication, Qt, QUrl


def right_click(window: MainWindow, row: int) -> None:
    """What a right click on the row sends the log (QTest's clicks send no context-menu event)."""
    view = window.log_view
    pos = view.visualRect(window.log_proxy.index(row, 1)).center()
    viewport = view.viewport()
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, viewport.mapToGlobal(pos))
    QApplication.sendEvent(viewport, event)


def shown(window: MainWindow) -> dict[str, bool]:
    """The menu's entries as shown: text → enabled."""
    return {
        a.text(): a.isEnabled()
        for a in window.log_menu.menu.actions()
        if a.isVisible() and not a.isSeparator()
    }


def choose(window: MainWindow, name: str) -> None:
    menu = window.log_menu.menu
    assert menu.isVisible()
    [action] = [a for a in menu.actions() if a.objectName() == name]
    assert action.isEnabled()
    action.trigger()
    menu.hide()


def test_call_back_and_copy_number(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    missed(window, qtbot, SARA)
    missed(window, qtbot, ACME)
    right_click(window, 1)
    assert window.selected_log_row().dial == SARA  # the row under the pointer, selected
    assert shown(window) == {
        "&Call back": True,
        "Cop&y number": True,
        "&Open record": True,
        "&Add to contacts…": False,  # Sara is in the directory already
        "Con&vert call…": True,
    }
    choose(window, "logCallBack")
    qtbot.waitUntil(lambda: any(c[0] == "dial" for c in window.simulator.commands))
    assert ("dial", "02188776655") in window.simulator.commands

    right_click(window, 2)  # the top row is the call back now; Sara's missed call is below ACME
    assert window.selected_log_row().dial == SARA
    QGuiApplication.clipboard().clear()
    choose(window, "logCopyNumber")
    assert QGuiApplication.clipboard().text() == SARA


def test_open_record_shows_the_local_contact(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    missed(window, qtbot, SARA)
    right_click(window, 0)
    choose(window, "logOpenRecord")
    [dialog] = window.details_dialogs
    assert isinstance(dialog, PartyDetailsDialog) and dialog.isVisible()
    assert dialog.party.name == "Sara Ahmadi"
    dialog.close()


def test_add_to_contacts_for_a_caller_the_directory_does_not_know(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    call_id = missed(window, qtbot, UNKNOWN, "PARS CO")
    right_click(window, 0)
    assert shown(window)["&Open record"] is False  # no record to open
    choose(window, "logAddContact")
    dialog = window.convert_dialog
    assert isinstance(dialog, ConvertDialog)
    assert dialog.current_action() == "contact" and dialog.name.text() == "PARS CO"
    dialog.name.setText("Nima Pars")
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=3000)
    crm = window.desktop.crm
    assert isinstance(crm, LocalCrm)
    [match] = crm.lookup_now(window.desktop.plan.parse(UNKNOWN))
    assert match.party.name == "Nima Pars" and match.party.kind is PartyKind.CONTACT
    assert window.log_model.find(call_id).name == "Nima Pars"
    dialog.close()
    right_click(window, 0)
    assert shown(window)["&Add to contacts…"] is False and shown(window)["&Open record"] is True


def test_convert_opens_on_the_matched_record_not_a_new_contact(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    call_id = ring(window, qtbot, ACME)  # two records share the number: ACME Corp and its desk
    desk = next(m.party for m in window.popups.popup(call_id).matches if m.party.name == "ACME Support desk")
    window._party_chosen(call_id, desk)  # the agent picks the desk in the pop-up (B2)
    window.simulator.remote_hangup(call_id, EndReason.MISSED)
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is None)
    right_click(window, 0)
    choose(window, "convertAction")
    dialog = window.convert_dialog
    assert isinstance(dialog, ConvertDialog)
    assert dialog.current_action() == "add_number"  # not "New contact": that would be a duplicate
    assert dialog.chosen_record().name == "ACME Support desk"  # the matched one, not the first listed
    dialog.close()


def test_the_menu_key_and_shift_f10_open_it_on_the_selected_call(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    missed(window, qtbot, SARA)
    missed(window, qtbot, ACME)
    window.activateWindow()  # the agent is back in the window (offscreen Qt activates pop-ups)
    qtbot.waitUntil(window.isActiveWindow)
    view = window.log_view
    view.setFocus()
    view.selectRow(1)
    menu = window.log_menu.menu
    qtbot.keyClick(view, Qt.Key.Key_Menu)
    assert menu.isVisible() and window.log_menu.row.dial == SARA
    rect = view.visualRect(window.log_proxy.index(1, 0))
    assert abs(menu.pos().y() - view.viewport().mapToGlobal(rect.bottomLeft()).y()) <= 2  # under the row
    menu.hide()
    view.selectRow(0)
    qtbot.keyClick(view, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    assert menu.isVisible() and window.log_menu.row.dial == ACME
    qtbot.keyClick(menu, Qt.Key.Key_Y)  # Cop&y number, by its mnemonic
    qtbot.waitUntil(lambda: not menu.isVisible())
    assert QGuiApplication.clipboard().text() == ACME


def test_the_menu_speaks_persian(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    missed(window, qtbot, SARA)
    window.set_language("fa")
    try:
        QApplication.processEvents()  # the posted LanguageChange: the Convert entry follows it
        right_click(window, 0)
        texts = list(shown(window))
        assert all(not any("a" <= ch.lower() <= "z" for ch in text) for text in texts), texts
        assert clashes(texts) == {}  # each entry keeps a letter of its own
        window.log_menu.menu.hide()
    finally:
        window.set_language("en")
    right_click(window, 0)
    assert "&Call back" in shown(window) and clashes(shown(window)) == {}
    window.log_menu.menu.hide()


# ---------------------------------------------------------------------------- Dynamics 365
@pytest.fixture
def dynamics_window(
    qtbot: Any, aio: asyncio.AbstractEventLoop, language: Language, tmp_path: Path
) -> Iterator[tuple[MainWindow, DataverseFake]]:
    fake = DataverseFake()
    fake.add("contact", {"firstname": "Sara", "lastname": "Ahmadi", "telephone1": "+98 21 8877 6655"})
    desktop = dynamics_desktop(tmp_path, fake)
    window = MainWindow(desktop, language)
    qtbot.addWidget(window)
    window.show()
    started = aio.create_task(window.start())
    qtbot.waitUntil(started.done)
    yield window, fake
    window.popups.close_all()
    window.close()
    closing = aio.create_task(desktop.close())
    qtbot.waitUntil(closing.done, timeout=5000)


def test_in_persian_a_right_click_converts_the_call_it_was_on(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    """Right-to-left, the right click selected nothing: Convert call… then said "Choose a call in
    the log first" instead of opening on the call under the pointer."""
    window = make_window()
    first = missed(window, qtbot, UNKNOWN)
    missed(window, qtbot, SARA)
    window.set_language("fa")
    try:
        QApplication.processEvents()
        right_click(window, 1)  # the older call, not the top row
        row = window.selected_log_row()
        assert row is not None and row.id == first
        choose(window, "convertAction")
        dialog = window.convert_dialog
        assert isinstance(dialog, ConvertDialog)
        assert dialog.subject.call_id == first
        dialog.close()
    finally:
        window.set_language("en")


def test_with_dynamics_open_record_goes_to_the_browser_and_convert_to_the_customer(
    dynamics_window: tuple[MainWindow, DataverseFake], qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    window, _fake = dynamics_window
    opened: list[str] = []
    monkeypatch.setattr(
        "ui.mainwindow.window.QDesktopServices.openUrl", lambda url: opened.append(QUrl(url).toString())
    )
    call_id = window.simulator.ring(SARA, "")
    qtbot.waitUntil(lambda: (p := window.popups.popup(call_id)) is not None and p.party is not None)
    sara = window.popups.popup(call_id).party
    window.simulator.remote_hangup(call_id, EndReason.MISSED)
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is None)

    right_click(window, 0)
    assert "&Add to contacts…" not in shown(window)  # Dynamics 365 has Convert for that
    choose(window, "logOpenRecord")
    assert opened == [window.desktop.crm.record_url(sara)]
    assert f"id=%7B{sara.id}%7D" in opened[0] and "etn=contact" in opened[0]
    # A call not linked to a record in the log: the record its number found when it rang.
    window.desktop.calllog.set_party(call_id, None, None)
    right_click(window, 0)
    choose(window, "logOpenRecord")
    assert opened[1:] == opened[:1]

    right_click(window, 0)
    choose(window, "convertAction")
    dialog = window.convert_dialog
    assert dialog.current_action() == "case"
    assert dialog.chosen_record().id == sara.id
    qtbot.waitUntil(lambda: not dialog._asking)  # what a case requires, read from the CRM
    dialog.close()
