"""Keyboard mnemonics (the underlined letter: Alt+letter) do not clash, in English and Persian: within
each tab of the Settings dialog (with its OK/Cancel), each kind of record in the Convert dialog, the
main window (menu titles, its buttons and labelled fields) and each menu. Two controls with one
letter make Alt+letter only cycle between them instead of acting — and a translation can bring a
clash that the English does not have (CARD6, IN6, IN11, SET4)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from callsys.settings import load_settings
from providers import REGISTRY
from tests.ui.conftest import REZA, SARA
from tests.ui.helpers import UNKNOWN, answered, clashes, missed_call, mnemonic, ring

from ui.convert import open_convert
from ui.i18n import Language
from ui.mainwindow import MainWindow
from ui.qt import QAction, QCheckBox, QGroupBox, QLabel, QPushButton, QWidget
from ui.settingsdialog import SettingsDialog

SIP_FILE = """[phone]
provider = "sip"

[[phone.options.lines]]
label = "Office"
registrar = "sip:pbx.example.com"
user = "1001"
"""


def widget_texts(root: QWidget, *, visible_to: QWidget | None = None) -> list[str]:
    """Texts that carry a mnemonic: push buttons, check boxes, group boxes, labels with a buddy."""
    out = []
    for widget in root.findChildren(QWidget):
        if visible_to is not None and not widget.isVisibleTo(visible_to):
            continue
        if isinstance(widget, QPushButton | QCheckBox) or (
            isinstance(widget, QLabel) and widget.buddy() is not None
        ):
            out.append(widget.text())
        elif isinstance(widget, QGroupBox):
            out.append(widget.title())
    return out


def action_texts(actions: Iterable[QAction]) -> list[str]:
    return [a.text() for a in actions if not a.isSeparator() and a.isVisible()]


@pytest.mark.parametrize("code", ["en", "fa"])
def test_settings_dialog_tabs(qtbot: Any, tmp_path: Path, language: Language, code: str) -> None:
    language.apply(code)
    path = tmp_path / "settings.toml"
    path.write_text(SIP_FILE, encoding="utf-8")
    dialog = SettingsDialog(load_settings(path), registry=REGISTRY)
    qtbot.addWidget(dialog)
    dialog.show()
    buttons = widget_texts(dialog.buttons)
    for at in range(dialog.tabs.count()):
        page = dialog.tabs.widget(at)
        assert page is not None
        assert clashes(widget_texts(page) + buttons) == {}, dialog.tabs.tabText(at)


@pytest.mark.parametrize("code", ["en", "fa"])
def test_convert_dialog_for_every_kind_of_record(
    make_window: Callable[..., MainWindow], qtbot: Any, language: Language, code: str
) -> None:
    window = make_window()
    row = missed_call(window, UNKNOWN, "PARS CO")
    language.apply(code)
    dialog = open_convert(window, row)
    assert dialog is not None
    for at in range(dialog.action.count()):
        dialog.action.setCurrentIndex(at)
        texts = widget_texts(dialog, visible_to=dialog)
        assert clashes(texts) == {}, dialog.action.itemData(at)
    dialog.close()


@pytest.mark.parametrize("code", ["en", "fa"])
def test_main_window_and_its_menus(
    make_window: Callable[..., MainWindow], qtbot: Any, language: Language, code: str
) -> None:
    language.apply(code)
    window = make_window()
    answered(window, qtbot, SARA)  # a call in progress and one waiting: the call panel's buttons
    ring(window, qtbot, REZA)
    window.show_contacts()  # the docks: the contacts view's buttons, the dial pad's
    window.show_dialpad()
    bar = window.menuBar()
    assert bar is not None
    texts = action_texts(bar.actions()) + widget_texts(window, visible_to=window)
    assert clashes(texts) == {}
    for top in bar.actions():
        menu = top.menu()
        if menu is not None:
            assert clashes(action_texts(menu.actions())) == {}, top.text()


@pytest.mark.parametrize("code", ["en", "fa"])
def test_contact_editor(
    make_window: Callable[..., MainWindow], qtbot: Any, language: Language, code: str
) -> None:
    window = make_window()
    language.apply(code)
    view = window.show_contacts()
    view.select_row(0)
    editor = view.edit_selected()
    assert editor is not None
    texts = widget_texts(editor, visible_to=editor)
    assert len(texts) >= 6  # the labelled fields, Add a number, OK and Cancel
    assert clashes(texts) == {}
    editor.reject()


def test_in_persian_every_menu_opens_with_a_latin_letter(
    make_window: Callable[..., MainWindow], language: Language
) -> None:
    """A Persian mnemonic ("&پرونده") cannot be typed on a Latin keyboard layout: each menu
    title keeps its English letter in parentheses ("پرونده (&F)"), the same letter as in English."""
    language.apply("en")
    window = make_window()
    bar = window.menuBar()
    assert bar is not None
    english = [mnemonic(a.text()) for a in bar.actions()]
    language.apply("fa")
    window.retranslate()
    persian = [a.text() for a in bar.actions()]
    assert [mnemonic(text) for text in persian] == english
    assert all(text.endswith(f"(&{letter.upper()})") for text, letter in zip(persian, english, strict=True))
    assert all(not text.isascii() for text in persian)  # still the Persian titles
