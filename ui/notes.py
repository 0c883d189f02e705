"""The notes form (IN7, OUT6): opens by itself when a call connects — incoming or outgoing —
pre-filled with who is on the line and the direction; what the agent types is saved to the
call's log row (and, through the desktop, to the CRM activity) while typing, when switching
calls and when the call ends; the duration is filled in when the call ends.
"""

from __future__ import annotations

from collections.abc import Callable

from callsys.model import Call, CallState, Party

from ui.i18n import format_duration, format_time, ltr, para, translate
from ui.qt import (
    QEvent,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTimer,
    QVBoxLayout,
    QWidget,
    named,
    pyqtSignal,
)
from ui.texts import direction_text

__all__ = ["NotesForm"]

AUTOSAVE_MS = 1500


class NotesForm(QGroupBox):
    #: (call id, notes) — the desktop stores them (CallLog.set_notes, CRM activity).
    save_requested = pyqtSignal(str, str)

    def __init__(self, display: Callable[[object], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notesForm")
        self._display = display
        self.call: Call | None = None
        self.party: Party | None = None
        self._notes: dict[str, str] = {}  # call id → text, so switching calls keeps each one's notes
        self._saved: dict[str, str] = {}

        self.who = named(QLabel(), "notesWho")
        self.who.setStyleSheet("font-weight: bold;")
        self.who.setWordWrap(True)
        self.number = named(QLabel(), "notesNumber")
        self.direction = named(QLabel(), "notesDirection")
        self.started = named(QLabel(), "notesStarted")
        self.duration = named(QLabel(), "notesDuration")
        self.text = named(QPlainTextEdit(), "notesText")
        self.text.setTabChangesFocus(True)  # Tab moves on to Save: it was a keyboard trap
        self.text.textChanged.connect(self._changed)
        self.state = named(QLabel(), "notesState")
        self._state = ""  # "", "unsaved" or "saved": the label is written from it in each language
        self.state.setStyleSheet("color: #5f6368;")
        self.save_button = named(QPushButton(), "notesSave")
        self.save_button.clicked.connect(self.save)
        self.close_button = named(QPushButton(), "notesClose")
        self.close_button.clicked.connect(self.close_form)

        self.form = QFormLayout()
        self.form.addRow(self.who)
        self.number_caption = QLabel()
        self.direction_caption = QLabel()
        self.started_caption = QLabel()
        self.duration_caption = QLabel()
        self.form.addRow(self.number_caption, self.number)
        self.form.addRow(self.direction_caption, self.direction)
        self.form.addRow(self.started_caption, self.started)
        self.form.addRow(self.duration_caption, self.duration)
        buttons = QHBoxLayout()
        buttons.addWidget(self.state, 1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)
        self.setMinimumWidth(300)

        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.save)
        self.hide()
        self.retranslate()

    # ------------------------------------------------------------------ calls
    def open_for(self, call: Call, party: Party | None = None, saved: str | None = None) -> None:
        """A call connected: show the form for it (keeping any notes already typed for it).
        *saved*: the notes already stored for an older call (from the log)."""
        if saved is not None and call.id not in self._notes:
            self._notes[call.id] = self._saved[call.id] = saved
        if self.call is not None and self.call.id != call.id:
            self.save()
        switching = self.call is None or self.call.id != call.id
        self.call = call
        if party is not None:
            self.party = party
        elif switching:
            self.party = None
        if switching:
            self._state = ""  # "Saved" was said of the call before
            self.text.blockSignals(True)
            self.text.setPlainText(self._notes.get(call.id, ""))
            self.text.blockSignals(False)
        self.show()
        self.retranslate()

    def update_call(self, call: Call, party: Party | None = None) -> None:
        """A newer snapshot of the call in the form (ended → duration filled in, notes saved)."""
        if self.call is None or call.id != self.call.id:
            return
        self.call = call
        if party is not None:
            self.party = party
        if call.state is CallState.ENDED:
            self.save()
        self.retranslate()

    def notes_for(self, call_id: str) -> str:
        if self.call is not None and self.call.id == call_id:
            return self.text.toPlainText()
        return self._notes.get(call_id, "")

    # ------------------------------------------------------------------ saving
    def _changed(self) -> None:
        if self.call is not None:
            self._notes[self.call.id] = self.text.toPlainText()
            self._autosave.start()
            self._state = "unsaved"
            self._show_state()

    def save(self) -> None:
        self._autosave.stop()
        call = self.call
        if call is None:
            return
        text = self.text.toPlainText()
        self._notes[call.id] = text
        if self._saved.get(call.id) != text:
            self._saved[call.id] = text
            self.save_requested.emit(call.id, text)
        self._state = "saved"
        self._show_state()

    def close_form(self) -> None:
        self.save()
        self.call = None
        self.party = None
        self.hide()

    # ------------------------------------------------------------------ texts
    def _show_state(self) -> None:
        if self._state == "unsaved":
            self.state.setText(para(translate("Notes", "Not saved yet")))
        elif self._state == "saved":
            self.state.setText(para(translate("Notes", "Saved")))
        else:
            self.state.clear()

    def retranslate(self) -> None:
        self._show_state()  # "Saved" said before a language change is said in the new language
        self.setTitle(translate("Notes", "Call notes"))
        self.number_caption.setText(translate("Notes", "Number:"))
        self.direction_caption.setText(translate("Notes", "Direction:"))
        self.started_caption.setText(translate("Notes", "Started:"))
        self.duration_caption.setText(translate("Notes", "Duration:"))
        self.text.setPlaceholderText(translate("Notes", "Type notes about the call here…"))
        self.text.setAccessibleName(translate("Notes", "Call notes"))
        self.save_button.setText(translate("Notes", "Save"))
        self.save_button.setAccessibleName(translate("Notes", "Save the notes"))
        self.close_button.setText(translate("Notes", "Close"))
        self.close_button.setAccessibleName(translate("Notes", "Close the notes"))
        call = self.call
        if call is None:
            return
        name = self.party.name if self.party is not None else call.remote_name
        if not name:
            name = translate("Notes", "Unknown caller")
        company = f" · {self.party.company}" if self.party is not None and self.party.company else ""
        self.who.setText(para(name + company))
        number = "" if call.remote.is_anonymous else self._display(call.remote)
        self.number.setText(para(ltr(number)) if number else "—")
        self.direction.setText(para(direction_text(call.direction)))
        self.started.setText(para(format_time(call.answered_at or call.started_at)))
        if call.state is CallState.ENDED:
            self.duration.setText(para(format_duration(call.duration_seconds)))
        else:
            self.duration.setText(para(translate("Notes", "(filled in when the call ends)")))

    def changeEvent(self, event: QEvent | None) -> None:
        if event is not None and event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
