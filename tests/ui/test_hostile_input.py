"""OUT3, IN3, CARD6: what an agent's first hour pastes, links and imports — a page of digits, a
``tel:`` link with markup in it, a name with newlines or an RTL override — is shown as the text it
is, cut to a readable length, and never widens the window past the screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.ui.conftest import SARA
from tests.ui.helpers import answered

from ui.mainwindow import MainWindow
from ui.qt import Qt


def test_a_link_with_markup_is_quoted_as_text_beside_the_number_field(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    link = "tel:+1-415-555-0114;ext=99?x=<script>alert(1)</script>"
    window.dial_edit.setText(link)
    qtbot.keyClick(window.dial_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(window.dial_error.isVisible)
    assert "<script>" in window.dial_error.text()
    # shown as typed: Qt would take "<script>…" as rich text and show nothing from there on
    assert window.dial_error.textFormat() == Qt.TextFormat.PlainText


def test_a_page_of_digits_does_not_widen_the_window(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    window.resize(900, 600)
    qtbot.waitUntil(lambda: window.width() == 900)
    window.dial_edit.setText("tel:+" + "9" * 10_000)
    qtbot.keyClick(window.dial_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(window.dial_error.isVisible)
    assert window.minimumSizeHint().width() <= 900
    assert window.width() == 900
    shown = window.dial_error.text()
    assert "999" in shown and "…" in shown and len(shown) < 200


def test_a_transfer_target_that_cannot_be_dialled_stays_in_the_field(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    call_id = answered(window, qtbot, SARA)
    panel = window.call_panel
    qtbot.waitUntil(panel.isVisible)
    panel.transfer_edit.setText("Reza")  # a name, not a number: refused with the reason
    qtbot.mouseClick(panel.transfer_button, Qt.MouseButton.LeftButton)
    assert "is not a number that can be dialled" in window.statusBar().currentMessage()
    assert panel.transfer_edit.text() == "Reza"  # kept, to be corrected — not wiped
    assert window.simulator.state(call_id) is not None
    panel.transfer_edit.setText("+14155550100")
    qtbot.mouseClick(panel.transfer_button, Qt.MouseButton.LeftButton)
    assert panel.transfer_edit.text() == ""  # handed to the phone: the field is cleared
