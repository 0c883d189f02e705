"""IN7, OUT6: the notes form's "Saved" follows a language change like the rest of the form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.ui.conftest import SARA
from tests.ui.helpers import answered

from ui.i18n import translate
from ui.mainwindow import MainWindow
from ui.qt import QApplication


def test_saved_is_said_in_the_language_chosen_after_it(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    answered(window, qtbot, SARA)
    notes = window.notes
    qtbot.waitUntil(notes.isVisible)
    notes.text.setPlainText("Wants a callback")
    notes.save()
    assert notes.state.text().endswith("Saved")
    window.set_language("fa")
    QApplication.processEvents()  # the posted LanguageChange
    try:
        persian = translate("Notes", "Saved")
        assert persian != "Saved"
        assert notes.state.text().endswith(persian)
    finally:
        window.set_language("en")
    QApplication.processEvents()
    assert notes.state.text().endswith("Saved")


def test_a_new_call_does_not_start_with_the_last_calls_saved(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    first = answered(window, qtbot, SARA)
    notes = window.notes
    qtbot.waitUntil(notes.isVisible)
    notes.text.setPlainText("Wants a callback")
    notes.save()
    window.hangup(first)
    qtbot.waitUntil(lambda: not list(window.desktop.manager.live_calls()))
    answered(window, qtbot, "+14155550100")
    qtbot.waitUntil(lambda: notes.call is not None and notes.call.id != first)
    assert notes.text.toPlainText() == ""
    assert notes.state.text() == ""  # nothing typed, nothing saved yet for this call
