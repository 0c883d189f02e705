"""The contacts view (OUT3, OUT4): the directory browsed and searched as the agent types, the local
directory edited and imported from the window with the CLI's report, Dynamics 365 read-only with
"Open in Dynamics", number types wherever a number is picked, suggestions under the number field."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from callsys.crm import local_import
from callsys.crm.local import LocalCrm
from tests.dataverse_fake import ORG, DataverseFake
from tests.ui.conftest import dynamics_desktop

from ui.contacts import ContactsView, ImportDialog
from ui.details import PartyDetailsDialog
from ui.i18n import Language
from ui.mainwindow import MainWindow
from ui.qt import QDesktopServices, QLabel, Qt

LEFT = Qt.MouseButton.LeftButton


def plain(text: str) -> str:
    return "".join(ch for ch in text if ch not in "\u2066\u2069\u200e\u200f\u202a\u202c")


def names(view: ContactsView) -> list[str]:
    return [p.name for p in view.model.parties()]


def cell(view: ContactsView, row: int, column: str) -> str:
    model = view.model
    return plain(str(model.data(model.index(row, model.COLUMNS.index(column)))))


def open_contacts(window: MainWindow, qtbot: Any) -> ContactsView:
    qtbot.keyClick(
        window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    qtbot.waitUntil(lambda: window.contacts is not None and window.contacts_dock.isVisible())
    view = window.contacts
    assert isinstance(view, ContactsView)
    return view


def test_the_hotkey_opens_the_directory_in_name_order_with_number_types(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    crm = window.desktop.crm
    assert isinstance(crm, LocalCrm)
    crm.add("Nima Rahimi", [("mobilephone", "09121234567"), ("home", "021 2222 3333")])
    view = open_contacts(window, qtbot)
    assert window.hotkeys.actions["contacts"].shortcut().toString() == "Ctrl+Shift+K"
    assert window.hotkeys.actions["contacts"] in window.view_menu.actions()  # and by the menu
    assert window.hotkeys.actions["contacts"].isChecked()
    assert names(view) == ["ACME Corp", "ACME Support desk", "Nima Rahimi", "Reza Karimi", "Sara Ahmadi"]
    assert cell(view, 2, "numbers") == "Mobile: 0912 123 4567  ·  Home: 021 2222 3333"
    assert cell(view, 3, "kind") == "Lead"
    assert plain(view.status.text()) == "5 of 5 records"
    assert view.search_edit.hasFocus()  # the agent types at once
    # the same key again, while in the view: it goes away
    qtbot.keyClick(
        view.search_edit,
        Qt.Key.Key_K,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert not window.contacts_dock.isVisible()
    assert not window.hotkeys.actions["contacts"].isChecked()


def test_search_as_you_type_asks_the_directory_once_typing_pauses(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    view = open_contacts(window, qtbot)
    qtbot.keyClicks(view.search_edit, "karim")
    assert view.searches == 0  # not one search per key
    qtbot.waitUntil(lambda: names(view) == ["Reza Karimi"])
    assert view.searches == 1
    assert plain(view.status.text()) == "1 record(s) found"
    view.search_edit.clear()  # back to browsing
    qtbot.waitUntil(lambda: len(names(view)) == 4)
    qtbot.keyClicks(view.search_edit, "0912 345")  # a number's beginning, as written
    qtbot.waitUntil(lambda: names(view) == ["Reza Karimi"])
    qtbot.keyClicks(view.search_edit, "nobody-here")
    qtbot.waitUntil(lambda: "No record matches" in view.status.text())
    assert names(view) == []


def test_searches_run_off_the_gui_thread_and_a_stale_one_never_wins(
    make_window: Callable[..., MainWindow], qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window()
    view = open_contacts(window, qtbot)
    release = threading.Event()
    ran: list[tuple[str, str]] = []
    real = LocalCrm.search_now

    def slow_for_sara(self: LocalCrm, text: str, limit: int = 20) -> Any:
        ran.append((text, threading.current_thread().name))
        if text == "sara":
            release.wait(10)  # a search that finds nothing in a huge directory, say
        return real(self, text, limit)

    monkeypatch.setattr(LocalCrm, "search_now", slow_for_sara)
    view.search_edit.setText("sara")
    view.search_now()
    qtbot.waitUntil(lambda: len(ran) == 1)
    assert ran[0][1] != threading.main_thread().name  # the window is not waiting for it
    view.search_edit.setText("ahmad")  # typed on: this one is not wanted by its turn
    view.search_now()
    view.search_edit.setText("reza")
    view.search_now()
    release.set()
    qtbot.waitUntil(lambda: names(view) == ["Reza Karimi"])
    qtbot.wait(50)
    assert names(view) == ["Reza Karimi"]  # the late answer for "sara" did not replace it
    assert [text for text, _thread in ran] == ["sara", "reza"]  # "ahmad" was skipped


def test_add_edit_and_delete_in_the_local_directory(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    view = open_contacts(window, qtbot)
    editor = view.add_contact()
    assert editor is not None
    editor.name_edit.setText("Mina Sadeghi")
    editor.company_edit.setText("Sadeghi Co")
    kind, number = editor.number_rows[0]
    assert kind.currentText() == "Mobile"
    number.setText("۰۹۱۲ ۷۷۷ ۸۸۹۹")  # Persian digits, as typed on a Persian keyboard
    editor.more_button.click()
    editor.number_rows[1][1].setText("not a number")
    editor.save()
    assert editor.isVisible()  # refused, with the reason beside the numbers
    assert "is not a phone number" in editor.error.text()
    editor.number_rows[1][1].setText("021 4444 5555")
    editor.number_rows[1][0].setCurrentIndex(editor.number_rows[1][0].findData("telephone"))
    editor.save()
    assert not editor.isVisible()
    assert "Mina Sadeghi" in names(view)
    party = view.selected()
    assert party is not None and party.name == "Mina Sadeghi"
    row = names(view).index("Mina Sadeghi")
    assert cell(view, row, "numbers") == "Mobile: 0912 777 8899  ·  Work: 021 4444 5555"
    # it is a record callers are found by
    crm = window.desktop.crm
    assert isinstance(crm, LocalCrm)
    assert [m.party.name for m in crm.lookup_now(window.desktop.plan.parse("+989127778899"))] == [
        "Mina Sadeghi"
    ]

    editor = view.edit_selected()
    assert editor is not None and editor.name_edit.text() == "Mina Sadeghi"
    assert [k.currentData() for k, _ in editor.number_rows] == ["mobilephone", "telephone"]
    editor.name_edit.setText("Mina Sadeghi-Nasr")
    editor.save()
    assert "Mina Sadeghi-Nasr" in names(view) and "Mina Sadeghi" not in names(view)

    assert view.delete_selected(confirm=False)
    assert "Mina Sadeghi-Nasr" not in names(view)
    assert crm.lookup_now(window.desktop.plan.parse("+989127778899")) == []


def test_call_from_the_view_picks_a_number_by_its_type(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    crm = window.desktop.crm
    assert isinstance(crm, LocalCrm)
    crm.add("Nima Rahimi", [("mobilephone", "09121234567"), ("home", "021 2222 3333")])
    view = open_contacts(window, qtbot)
    view.select_row(names(view).index("Nima Rahimi"))
    view.call_selected()
    menu = view.numbers_menu
    assert [plain(a.text()) for a in menu.actions()] == ["Mobile: 0912 123 4567", "Home: 021 2222 3333"]
    menu.actions()[1].trigger()
    qtbot.waitUntil(lambda: ("dial", "02122223333") in window.simulator.commands)
    # one number: dialled at once (Enter, or a double click)
    view.select_row(names(view).index("Reza Karimi"))
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: ("dial", "09123456789") in window.simulator.commands)


def test_the_details_view_names_each_number(qtbot: Any, language: Language, tmp_path: Path) -> None:
    from callsys.numbers import NumberPlan
    from callsys.store import open_database

    db = open_database(tmp_path / "d.sqlite3")
    crm = LocalCrm(db, NumberPlan("IR"))
    party = crm.add("Nima Rahimi", [("mobilephone", "09121234567"), ("fax", "021 2222 3333")])
    dialog = PartyDetailsDialog(party, str)
    qtbot.addWidget(dialog)
    labels = [plain(label.text()) for label in dialog.findChildren(QLabel, "detailsNumber")]
    assert labels == ["Mobile: +989121234567", "Fax: +982122223333"]
    db.close()


CSV = (
    "Name,Company,Mobile,Phone\n"
    "Ali Rezaei,Rezaei Co,09121110000,\n"
    ",,09120000000,\n"
    "Bad Number,,12,\n"
    "Leila Karimi,,,021 3333 4444\n"
)


def test_import_from_the_window_reports_what_the_cli_reports(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window()
    view = open_contacts(window, qtbot)
    path = tmp_path / "people.csv"
    path.write_text(CSV, encoding="utf-8")
    threads: list[threading.Thread] = []
    real = local_import.import_file

    def spy(crm: LocalCrm, *args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return real(crm, *args, **kwargs)

    monkeypatch.setattr(local_import, "import_file", spy)
    dialog = view.import_file(path)
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=10000)
    assert threads and threads[0] is not threading.main_thread()  # off the GUI thread
    report = dialog.report
    assert report is not None
    assert dialog.summary.text().splitlines()[0] == (
        "2 new record(s), 0 updated, 2 phone number(s) stored, 2 row(s) skipped."
    )
    # the same lines as `callsys directory import`
    assert dialog.skipped.toPlainText().splitlines() == [f"line {s.line}: {s.reason}" for s in report.skipped]
    assert dialog.skipped.toPlainText().splitlines() == [
        "line 3: no name or company for the number(s)",
        "line 4: Bad Number: '12' is not a phone number",
    ]
    assert {"Ali Rezaei", "Leila Karimi"} <= set(names(view))  # the view shows them at once
    assert dialog.isVisible()
    dialog.buttons.rejected.emit()
    assert not dialog.isVisible()


def test_a_big_import_shows_progress_and_cancel_leaves_nothing_of_it(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    window = make_window()
    view = open_contacts(window, qtbot)
    crm = window.desktop.crm
    assert isinstance(crm, LocalCrm)
    before = crm.count()
    path = tmp_path / "big.csv"
    rows = [f"Person {i},Co {i},0912{i:07d}" for i in range(3000)]
    path.write_text("Name,Company,Mobile\n" + "\n".join(rows) + "\n", encoding="utf-8")

    seen: list[tuple[int, int]] = []
    dialog = ImportDialog(window, view)
    qtbot.addWidget(dialog)
    dialog.every = 500
    dialog.progressed.connect(lambda done, total: seen.append((done, total)))
    dialog.start(path)
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=20000)
    assert seen[0] == (500, 3002) and (3000, 3000) in seen  # rows done of the file's rows
    assert dialog.progress.value() == dialog.progress.maximum()
    assert crm.count() == before + 3000

    other = tmp_path / "other.csv"
    other.write_text(
        "Name,Company,Mobile\n" + "\n".join(f"Other {i},X,0935{i:07d}" for i in range(3000)) + "\n"
    )
    cancelled = ImportDialog(window, view)
    qtbot.addWidget(cancelled)
    cancelled.every = 500
    cancelled.show()
    cancelled.start(other)
    qtbot.mouseClick(cancelled.buttons.buttons()[0], LEFT)  # Cancel, while it runs
    qtbot.waitUntil(lambda: not cancelled.running, timeout=20000)
    assert cancelled.summary.text() == "Cancelled: nothing of the file was imported."
    assert crm.count() == before + 3000  # rolled back: not a row of the cancelled file
    assert crm.search_now("Other 1", 5) == []


def test_an_unreadable_file_is_said_in_the_dialog(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    window = make_window()
    view = open_contacts(window, qtbot)
    dialog = view.import_file(tmp_path / "missing.vcf")
    qtbot.waitUntil(lambda: not dialog.running, timeout=10000)
    assert dialog.summary.text().startswith("The file could not be imported: ")
    assert "missing.vcf" in dialog.summary.text()


def test_number_field_suggests_names_and_numbers_while_typing(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    window.dial_edit.setFocus()
    qtbot.keyClicks(window.dial_edit, "sar")
    completer = window.number_completer
    qtbot.waitUntil(lambda: len(completer.suggestions()) == 2)
    assert [plain(label) for label, _ in completer.suggestions()] == [
        "Sara Ahmadi — Work: 021 8877 6655",
        "Sara Ahmadi — Work: 0912 111 2233",
    ]
    popup = completer.completer.popup()
    assert popup is not None and popup.isVisible()
    completer.completer.activated[str].emit(completer.suggestions()[1][1])
    assert window.dial_edit.text() == "+989121112233"
    qtbot.keyClick(window.dial_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: ("dial", "09121112233") in window.simulator.commands)


def test_suggestions_are_a_bounded_query(
    make_window: Callable[..., MainWindow], qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window()
    crm = window.desktop.crm
    assert isinstance(crm, LocalCrm)
    for i in range(40):
        crm.add(f"Zahra {i:02d}", [f"0935{i:07d}"])
    asked: list[int] = []
    real = LocalCrm.search_now

    def counting(self: LocalCrm, text: str, limit: int = 20) -> Any:
        asked.append(limit)
        return real(self, text, limit)

    monkeypatch.setattr(LocalCrm, "search_now", counting)
    window.dial_edit.setFocus()
    qtbot.keyClicks(window.dial_edit, "zah")
    qtbot.waitUntil(lambda: len(window.number_completer.suggestions()) > 0)
    assert asked == [8]
    assert len(window.number_completer.suggestions()) == 8


@pytest.fixture
def dynamics_window(
    qtbot: Any, aio: asyncio.AbstractEventLoop, language: Language, tmp_path: Path
) -> Iterator[MainWindow]:
    fake = DataverseFake()
    fake.add(
        "contact",
        {
            "firstname": "Sara",
            "lastname": "Ahmadi",
            "telephone1": "+98 21 8877 6655",
            "mobilephone": "09121112233",
        },
    )
    desktop = dynamics_desktop(tmp_path, fake)
    window = MainWindow(desktop, language)
    qtbot.addWidget(window)
    window.show()
    started = aio.create_task(window.start())
    qtbot.waitUntil(started.done)
    yield window
    window.close()
    closing = aio.create_task(desktop.close())
    qtbot.waitUntil(closing.done, timeout=5000)


def test_dynamics_is_searched_read_only_and_opens_in_dynamics(
    dynamics_window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = dynamics_window
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toString()) or True)
    view = window.show_contacts()
    assert names(view) == []  # nothing listed until the agent searches
    assert plain(view.status.text()) == "Type a name or a number to search Dynamics 365."
    for button in (view.add_button, view.edit_button, view.delete_button, view.import_button):
        assert not button.isVisible()  # read-only here
    assert view.open_button.isVisible()
    qtbot.keyClicks(view.search_edit, "Sara")
    qtbot.waitUntil(lambda: names(view) == ["Sara Ahmadi"], timeout=5000)
    assert cell(view, 0, "numbers") == "Work: 021 8877 6655  ·  Mobile: 0912 111 2233"
    view.select_row(0)
    assert view.open_button.isEnabled()
    qtbot.mouseClick(view.open_button, LEFT)
    assert len(opened) == 1 and opened[0].startswith(ORG) and "etn=contact" in opened[0]


def test_the_view_speaks_persian(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    view = open_contacts(window, qtbot)
    window.set_language("fa")
    try:
        assert view.add_button.text() == "&افزودن…"
        assert window.contacts_dock.windowTitle() == "مخاطبان"
        assert plain(view.status.text()) == "۴ از ۴ رکورد"
        assert view.model.headerData(0, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole) == "نام"
        row = names(view).index("Sara Ahmadi")
        assert cell(view, row, "numbers").startswith("محل کار: ")
    finally:
        window.set_language("en")


def test_enter_dials_what_was_typed_while_suggestions_are_open(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    window.dial_edit.setFocus()
    qtbot.keyClicks(window.dial_edit, "09123456789")
    completer = window.number_completer
    qtbot.waitUntil(lambda: len(completer.suggestions()) == 1)  # Reza Karimi's number
    popup = completer.completer.popup()
    assert popup is not None and popup.isVisible()
    qtbot.keyClick(popup, Qt.Key.Key_Return)  # the list has the keyboard while it is open
    qtbot.waitUntil(lambda: ("dial", "09123456789") in window.simulator.commands)
    assert not popup.isVisible()


def test_browsing_a_big_directory_loads_more_as_the_agent_scrolls(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    crm = window.desktop.crm
    assert isinstance(crm, LocalCrm)
    for i in range(250):
        crm.add(f"Person {i:03d}", [f"0935{i:07d}"])
    view = open_contacts(window, qtbot)
    assert len(names(view)) == 200
    assert plain(view.status.text()) == "200 of 254 records"
    scroll = view.table.verticalScrollBar()
    scroll.setValue(scroll.maximum())
    qtbot.waitUntil(lambda: len(names(view)) == 254)
    assert plain(view.status.text()) == "254 of 254 records"
    assert names(view)[-1] == "Sara Ahmadi"


def test_the_docks_come_back_where_they_were_after_a_restart(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    from ui.qt import QtCore

    stored = QtCore.QSettings("callsys", "callsys")
    try:
        first = make_window()
        first.show_contacts()
        first.close()  # saves the window's placement, the docks with it
        second = make_window()
        assert second.contacts is None and second.contacts_dock.isHidden()
        second.restore_placement()
        assert not second.contacts_dock.isHidden()
        assert second.contacts is not None and len(names(second.contacts)) == 4
        assert second.dialpad is None and second.dialpad_dock.isHidden()  # it was not open
    finally:
        stored.remove("window/docks")
