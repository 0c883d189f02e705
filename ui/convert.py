"""Convert a call (IN11, OUT7): from a call in the log — incoming, missed or outgoing — create a Case,
a Lead, a Contact, an Account or a follow-up Phone Call, or add the caller's number to an existing
record found with the search box. Prefilled with the number and what is known about the caller;
the fields the CRM needs are marked and must be filled before "Create" is enabled; when the CRM
refuses, the dialog says so in words and keeps what was typed.

The backends (``callsys.crm.conversion``: Dynamics 365, the built-in directory) do the work and
refuse with a reason; this module is the dialog, and words their refusals.

``install(window)`` adds "Convert call…" to the main window's Phone menu and to the call log's
context menu.
"""

from __future__ import annotations

import html
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from callsys.crm.conversion import (
    ACTION_TABLES,
    AsksRequired,
    ConvertBackend,
    Converted,
    ConvertRefused,
    Fields,
    PrefilledForms,
    Subject,
    backend_for,
    covered,
    record_action,
    subject_for_row,
)
from callsys.errors import AuthError, CallsysError, CrmRejected, CrmThrottled, CrmUnavailable
from callsys.model import Party, PartyKind
from callsys.numbers import to_ascii_digits

from ui.i18n import current, format_time, isolate, ltr, para, translate
from ui.qt import (
    QAction,
    QCheckBox,
    QComboBox,
    QDateTime,
    QDateTimeEdit,
    QDesktopServices,
    QDialog,
    QDialogButtonBox,
    QEvent,
    QFormLayout,
    QKeyEvent,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QObject,
    QPlainTextEdit,
    QPushButton,
    Qt,
    QTimer,
    QUrl,
    QVBoxLayout,
    QWidget,
    named,
    pyqtSignal,
)
from ui.tasks import TaskRunner
from ui.texts import kind_text

if TYPE_CHECKING:
    from ui.popup import CallPopup
    from ui.window import WindowBase

__all__ = ["ConvertDialog", "install", "open_convert", "open_convert_for_popup", "refusal_text"]

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------ texts
def action_title(action: str) -> str:
    return {
        "case": translate("ConvertDialog", "New case"),
        "lead": translate("ConvertDialog", "New lead"),
        "contact": translate("ConvertDialog", "New contact"),
        "account": translate("ConvertDialog", "New account (company)"),
        "follow_up": translate("ConvertDialog", "Follow-up phone call"),
        "add_number": translate("ConvertDialog", "Add the number to an existing record"),
    }[action]


def done_text(result: Converted) -> str:
    texts = {
        "case": translate("ConvertDialog", "The case was created."),
        "lead": translate("ConvertDialog", "The lead was created."),
        "contact": translate("ConvertDialog", "The contact was created."),
        "account": translate("ConvertDialog", "The account was created."),
        "follow_up": translate("ConvertDialog", "The follow-up call was scheduled."),
        "add_number": translate("ConvertDialog", "The number was added to {name}.").format(
            name=isolate(result.party.name if result.party is not None else "")
        ),
    }
    text = texts[result.action]
    if result.action == "add_number" and result.detail == "already":
        text = translate("ConvertDialog", "{name} already has this number.").format(
            name=isolate(result.party.name if result.party is not None else "")
        )
    if result.linked:
        text += " " + translate("ConvertDialog", "The call is now linked to it.")
    elif result.detail == "not_linked":
        text += " " + translate("ConvertDialog", "The call could not be linked to it; link it in the CRM.")
    return text


def refused_reason(exc: ConvertRefused) -> str:
    """Why a conversion was not done, in the agent's language."""
    if exc.reason == "missing":
        return translate("ConvertDialog", "{fields} must be filled in.").format(
            fields=translate("ConvertDialog", ", ").join(quoted(title) for title in exc.fields)
        )
    texts = {
        "no_target": translate("ConvertDialog", "Choose the record to add the number to."),
        "no_customer": translate("ConvertDialog", "A case needs a customer: choose a contact or an account."),
        "gone": translate("ConvertDialog", "That record no longer exists."),
        "unsupported": translate("ConvertDialog", "The built-in directory cannot do that."),
    }
    return texts.get(exc.reason, exc.detail or exc.reason)


def refusal_text(exc: CallsysError) -> str:
    if isinstance(exc, ConvertRefused):
        return translate("ConvertDialog", "The CRM refused: {why}").format(why=refused_reason(exc))
    if isinstance(exc, AuthError):
        return translate("ConvertDialog", "Signing in to the CRM failed: {why}").format(why=str(exc))
    if isinstance(exc, CrmThrottled):  # 429: service protection limits, not "unreachable"
        return translate(
            "ConvertDialog",
            "The CRM is busy (too many requests); nothing was created. Try again in {seconds} seconds.",
        ).format(seconds=_digits(str(max(1, math.ceil(exc.retry_after)))))
    if isinstance(exc, CrmUnavailable):
        return translate("ConvertDialog", "The CRM cannot be reached now; nothing was created. {why}").format(
            why=str(exc)
        )
    if isinstance(exc, CrmRejected):
        return translate("ConvertDialog", "The CRM refused: {why}").format(why=str(exc))
    return str(exc)


def _digits(text: str) -> str:
    """Digits in the UI's language (۳۰ in Persian)."""
    language = current()
    return language.digits(text) if language is not None else text


def _rtl(text: str) -> str:
    """*text* as a right-to-left paragraph in Persian even when it starts with a Latin word
    («CRM نپذیرفت: …»): Qt takes a label's direction from its first strong character."""
    language = current()
    return "\u200f" + text if language is not None and language.rtl else text


def quoted(name: str) -> str:
    """A field's name in quotation marks (“Region” in English, «منطقه» in Persian)."""
    return translate("ConvertDialog", "“{name}”").format(name=isolate(name))


def separator() -> str:
    """Between the parts of a one-line summary ("·" looks like a Persian zero: Persian uses "،")."""
    return translate("ConvertDialog", " · ")


def _party_line(party: Party) -> str:
    parts = [isolate(party.name), kind_text(party.kind)]
    if party.company and party.company != party.name:
        parts.append(isolate(party.company))
    return separator().join(parts)


# ------------------------------------------------------------------------------ the dialog
class ExtraRow:
    """The field for one column the CRM requires (``callsys.crm.dynamics.required.RequiredColumn``):
    text and numbers in a text field (Persian digits too), yes/no in a check box, a choice in a
    list of the organisation's options; a lookup or a date is only named (filled in Dynamics 365)."""

    def __init__(self, column: Any, changed: Any) -> None:
        self.column = column
        name = "convertExtra_" + column.logical
        self.widget: QWidget
        if column.kind == "boolean":
            box = named(QCheckBox(), name)
            box.toggled.connect(lambda _on: changed())
            self.widget = box
        elif column.kind == "choice":
            combo = named(QComboBox(), name)
            combo.addItem(translate("ConvertDialog", "Choose…"), None)
            for value, text in column.options:
                combo.addItem(text, value)
            combo.currentIndexChanged.connect(lambda _at: changed())
            self.widget = combo
        elif column.typed_here:
            edit = named(QLineEdit(), name)
            edit.textChanged.connect(lambda _t: changed())
            self.widget = edit
        else:
            note = named(QLabel(translate("ConvertDialog", "Filled in in Dynamics 365")), name)
            note.setStyleSheet("color: #5f6368;")
            note.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.widget = note
        self.widget.setAccessibleName(column.title)
        self.label = QLabel(column.title.replace("&", "&&") + " *")
        self.label.setBuddy(self.widget)

    def value(self) -> Any:
        """The typed value, ``None`` when empty; ``ValueError`` for a number that is not one."""
        w = self.widget
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QComboBox):
            return w.currentData()
        if not isinstance(w, QLineEdit):
            return None
        text = w.text().strip()
        if not text:
            return None
        if self.column.kind == "integer":
            return int(to_ascii_digits(text))
        if self.column.kind in ("decimal", "money"):
            return float(to_ascii_digits(text).replace("٫", ".").replace(",", ""))
        return text


class ConvertDialog(QDialog):
    """Turn one call into a CRM record. ``converted`` is emitted with the ``Converted`` result."""

    converted = pyqtSignal(object)

    def __init__(
        self,
        backend: ConvertBackend,
        subject: Subject,
        parent: QWidget | None = None,
        *,
        display: Any = None,
        action: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("convertDialog")
        self.backend = backend
        self.subject = subject
        self._display = display if callable(display) else str
        self.tasks = TaskRunner(self._refused)
        self.result_value: Converted | None = None
        self._auto_title = ""
        self._result_url = ""
        self._busy = False  # a record is being created: Create waits for the answer
        #: what the CRM requires beyond callsys's own fields, per table (read once per session)
        self._required: dict[str, tuple[Any, ...]] = {}
        self._asking: set[str] = set()
        #: tables whose requirements could not be read (offline, throttled): asked again on Create
        self._unknown: set[str] = set()
        self.extra_rows: dict[str, dict[str, ExtraRow]] = {}
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)
        self._search_timer.timeout.connect(self._search)
        self._build()
        self.retranslate()
        self._prefill()
        matched = subject.party or (subject.candidates[0] if subject.candidates else None)
        if action is None and matched is not None:
            action = record_action(backend.actions(), matched)
        if action is not None and action in backend.actions():
            self.action.setCurrentIndex(self.action.findData(action))
        self._action_changed()
        self.resize(560, 480)

    # ============================================================== building
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        self.header = named(QLabel(), "convertHeader")
        self.header.setWordWrap(True)
        self.header.setStyleSheet("font-weight: bold;")
        outer.addWidget(self.header)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form = form
        self.action = named(QComboBox(), "convertAction")
        for action in self.backend.actions():
            self.action.addItem("", action)
        self.action.currentIndexChanged.connect(self._action_changed)
        self.number = named(QLabel(), "convertNumber")
        self.number.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.name = named(QLineEdit(), "convertName")
        self.company = named(QLineEdit(), "convertCompany")
        self.email = named(QLineEdit(), "convertEmail")
        self.title = named(QLineEdit(), "convertTitle")
        self.due = named(QDateTimeEdit(), "convertDue")
        self.due.setCalendarPopup(True)
        self.due.setDisplayFormat("yyyy/MM/dd HH:mm")
        self.search = named(QLineEdit(), "convertSearch")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self._search)
        self.search.installEventFilter(self)  # Enter here searches; it must not also press Create
        self.records = named(QListWidget(), "convertRecords")
        self.records.setMaximumHeight(130)
        self.records.currentRowChanged.connect(lambda _r: self._validate())
        target_box = QWidget()
        target_layout = QVBoxLayout(target_box)
        target_layout.setContentsMargins(0, 0, 0, 0)
        target_layout.addWidget(self.search)
        target_layout.addWidget(self.records)
        self.target_box = target_box
        self.description = named(QPlainTextEdit(), "convertDescription")
        self.description.setTabChangesFocus(True)
        self.description.setMaximumHeight(90)
        self.labels: dict[str, QLabel] = {}
        for key, widget in (
            ("action", self.action),
            ("number", self.number),
            ("target", self.target_box),
            ("name", self.name),
            ("company", self.company),
            ("email", self.email),
            ("title", self.title),
            ("due", self.due),
            ("description", self.description),
        ):
            label = QLabel()
            label.setBuddy(self.search if key == "target" else widget)
            self.labels[key] = label
            form.addRow(label, widget)
        for edit in (self.name, self.company, self.title, self.email):
            edit.textChanged.connect(lambda _t: self._validate())
        self.description.textChanged.connect(self._validate)  # the CRM may require it
        outer.addLayout(form)
        outer.addStretch(1)  # hidden rows leave no gaps: the space left goes below the form

        self.hint = named(QLabel(), "convertHint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #b06000;")
        self.hint.setTextFormat(Qt.TextFormat.RichText)
        self.hint.linkActivated.connect(self._open_form)
        self.hint.hide()
        outer.addWidget(self.hint)

        self.message = named(QLabel(), "convertMessage")
        self.message.setWordWrap(True)
        self.message.setOpenExternalLinks(False)
        self.message.linkActivated.connect(self._open_link)
        self.message.hide()
        outer.addWidget(self.message)
        self.buttons = QDialogButtonBox()
        self.create_button = named(QPushButton(), "convertCreate")
        self.create_button.setDefault(True)
        self.buttons.addButton(self.create_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.create_button.clicked.connect(self.run)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)

        self.setTabOrder(self.action, self.search)
        self.setTabOrder(self.search, self.records)
        self.setTabOrder(self.records, self.name)
        self.setTabOrder(self.name, self.company)
        self.setTabOrder(self.company, self.email)
        self.setTabOrder(self.email, self.title)
        self.setTabOrder(self.title, self.due)
        self.setTabOrder(self.due, self.description)
        self.setTabOrder(self.description, self.create_button)

    def retranslate(self) -> None:
        self.setWindowTitle(translate("ConvertDialog", "Convert the call"))
        s = self.subject
        who = s.party.name if s.party is not None else s.name
        number = self._display(s.number) if not s.number.is_anonymous else ""
        when = format_time(s.started_at) if s.started_at is not None else ""
        header = (
            translate("ConvertDialog", "Call with {who}")
            if who
            else translate("ConvertDialog", "Call from an unknown number")
        ).format(who=isolate(who))
        self.header.setText(para(separator().join(x for x in (header, ltr(number), ltr(when)) if x)))
        for at in range(self.action.count()):
            self.action.setItemText(at, action_title(str(self.action.itemData(at))))
        self.action.setAccessibleName(translate("ConvertDialog", "What to create"))
        self.number.setText(para(ltr(number)) if number else translate("ConvertDialog", "No number"))
        self.search.setPlaceholderText(translate("ConvertDialog", "Search by name, company or number"))
        self.search.setAccessibleName(translate("ConvertDialog", "Search the CRM"))
        self.records.setAccessibleName(translate("ConvertDialog", "Records found"))
        self.name.setAccessibleName(translate("ConvertDialog", "Name"))
        self.company.setAccessibleName(translate("ConvertDialog", "Company"))
        self.email.setAccessibleName(translate("ConvertDialog", "E-mail"))
        self.due.setAccessibleName(translate("ConvertDialog", "When to call back"))
        self.description.setAccessibleName(translate("ConvertDialog", "Description"))
        self.create_button.setAccessibleName(translate("ConvertDialog", "Create the record"))
        self._action_changed()

    def changeEvent(self, event: QEvent | None) -> None:
        if event is not None and event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _prefill(self) -> None:
        s = self.subject
        party = s.party
        name = s.name
        company = s.company
        if party is not None:
            if party.kind is PartyKind.ACCOUNT:
                company = party.name
            else:
                name, company = party.name, party.company or company
        self.name.setText(name)
        self.company.setText(company)
        self.description.setPlainText(s.notes)
        due = (datetime.now().astimezone() + timedelta(days=1)).replace(
            hour=10, minute=0, second=0, microsecond=0
        )
        self.due.setDateTime(QDateTime(due.date(), due.time()))
        self._fill_records(list(s.candidates) or ([party] if party is not None else []), prefer=party)

    # ============================================================== per action
    def current_action(self) -> str:
        return str(self.action.currentData() or "")

    def _action_changed(self, _at: int = 0) -> None:
        action = self.current_action()
        required = "*"
        visible = {
            "number": True,
            "target": action in ("case", "add_number"),
            "name": action in ("lead", "contact", "account", "follow_up"),
            "company": action in ("lead", "contact", "account"),
            "email": action in ("lead", "contact", "account"),
            "title": action in ("case", "lead", "follow_up"),
            "due": action == "follow_up",
            "description": action in ("case", "lead", "follow_up"),
        }
        if "case" not in self.backend.actions() and action in ("contact", "lead", "account"):
            visible["description"] = True  # the local directory keeps it as the record's notes
        texts = {
            "action": translate("ConvertDialog", "&Create:"),
            "number": translate("ConvertDialog", "Number:"),
            "target": (
                translate("ConvertDialog", "C&ustomer {required}")
                if action == "case"
                else translate("ConvertDialog", "&Record {required}")
            ),
            "name": (
                translate("ConvertDialog", "&Name {required}")
                if action in ("contact", "lead")
                else translate("ConvertDialog", "&Name")
            ),
            "company": (
                translate("ConvertDialog", "C&ompany {required}")
                if action == "account"
                else translate("ConvertDialog", "C&ompany")
            ),
            "email": translate("ConvertDialog", "&E-mail"),
            "title": (
                translate("ConvertDialog", "&Title {required}")
                if action == "case"
                else translate("ConvertDialog", "&Subject {required}")
            ),
            "due": translate("ConvertDialog", "&When {required}"),
            "description": translate("ConvertDialog", "&Description"),
        }
        covered = self._covered_keys(action)
        for key, label in self.labels.items():
            text = texts[key].format(required=required).strip()
            if key in covered and not text.endswith(required):
                text += " " + required  # the organisation requires it in the CRM
            label.setText(text)
            self.form.setRowVisible(label, visible.get(key, True))
        self._ask_required(action)
        table = ACTION_TABLES.get(action)
        for name, rows in self.extra_rows.items():
            for row in rows.values():
                self.form.setRowVisible(row.label, name == table)
        self.title.setAccessibleName(texts["title"].replace("&", "").format(required="").strip())
        current = self.title.text()
        if action in ("case", "lead", "follow_up") and (not current or current == self._auto_title):
            # The proposed title follows the conversion until the agent types their own.
            self._auto_title = self._default_title(action)
            self.title.setText(self._auto_title)
        self.create_button.setText(
            translate("ConvertDialog", "&Add the number")
            if action == "add_number"
            else translate("ConvertDialog", "C&reate")
        )
        self._filter_records()
        self._validate()

    def _default_title(self, action: str) -> str:
        s = self.subject
        who = (s.party.name if s.party is not None else s.name) or self._display(s.number)
        if action == "follow_up":
            return translate("ConvertDialog", "Call back {who}").format(who=who)
        return translate("ConvertDialog", "Call from {who}").format(who=who)

    # ============================================================== records (customer / target)
    def _fill_records(self, parties: Sequence[Party], prefer: Party | None = None) -> None:
        """List *parties*; the one chosen before stays chosen, else *prefer* (the call's matched
        record), else the first shown."""
        chosen = self.chosen_record() or prefer
        self.records.clear()
        for party in parties:
            item = QListWidgetItem(_party_line(party))
            item.setData(Qt.ItemDataRole.UserRole, party)
            self.records.addItem(item)
        self._filter_records()
        for at in range(self.records.count()):
            found = self.records.item(at)
            if found is not None and not found.isHidden():
                party = found.data(Qt.ItemDataRole.UserRole)
                if chosen is None or party.id == chosen.id:
                    self.records.setCurrentRow(at)
                    break

    def _filter_records(self) -> None:
        case = self.current_action() == "case"
        for at in range(self.records.count()):
            item = self.records.item(at)
            if item is None:
                continue
            party = item.data(Qt.ItemDataRole.UserRole)
            hidden = case and party.kind not in (PartyKind.CONTACT, PartyKind.ACCOUNT)
            item.setHidden(hidden)
            if hidden and self.records.currentRow() == at:
                self.records.setCurrentRow(-1)
        if self.records.currentRow() < 0:
            for at in range(self.records.count()):
                item = self.records.item(at)
                if item is not None and not item.isHidden():
                    self.records.setCurrentRow(at)
                    break

    def chosen_record(self) -> Party | None:
        item = self.records.currentItem()
        if item is None or item.isHidden():
            return None
        party = item.data(Qt.ItemDataRole.UserRole)
        return party if isinstance(party, Party) else None

    def _search(self) -> None:
        text = self.search.text().strip()
        if len(text) < 2:
            return
        self.tasks.spawn(
            self.backend.search(text),
            done=lambda parties: self._fill_records(list(parties or [])),
            failed=self._refused,
        )

    # ============================================================== validation and create
    def missing(self) -> list[str]:
        """What must still be filled in for the chosen conversion."""
        action = self.current_action()
        out: list[str] = []
        if action in ("case", "add_number") and self.chosen_record() is None:
            out.append("target")
        if action in ("contact", "lead") and not self.name.text().strip():
            out.append("name")
        if action == "account" and not (self.company.text().strip() or self.name.text().strip()):
            out.append("company")
        if action in ("case", "lead", "follow_up") and not self.title.text().strip():
            out.append("title")
        if action != "follow_up" and self.subject.number.is_anonymous and action != "case":
            out.append("number")
        for key in self._covered_keys(action):
            if key not in out and not self._text_of(key):
                out.append(key)
        for row in self._current_rows():
            if not row.column.typed_here:
                out.append("crm:" + row.column.logical)  # a lookup, a date …: only in Dynamics 365
            else:
                try:
                    if row.value() is None:
                        out.append("extra:" + row.column.logical)
                except ValueError:  # typed, but not a number: said as such, not as "requires"
                    out.append("number:" + row.column.logical)
        return out

    # ============================================================== what the CRM requires
    def _ask_required(self, action: str) -> None:
        backend = self.backend
        table = ACTION_TABLES.get(action)
        if (
            not isinstance(backend, AsksRequired)
            or table is None
            or table in self._required
            or table in self._asking
        ):
            return
        ask = backend.required
        self._asking.add(table)

        def failed(why: str) -> None:  # said in the hint; Create asks again before it creates
            self._asking.discard(table)
            self._unknown.add(table)
            log.warning("cannot read what a %s requires: %s", table, why)
            self._validate()

        self.tasks.spawn(ask(action), done=lambda columns: self._got_required(table, columns), failed=failed)

    def _got_required(self, table: str, columns: Any) -> None:
        self._asking.discard(table)
        self._unknown.discard(table)
        if table in self._required:  # the dialog's read and a Create's read both answered
            return
        self._required[table] = tuple(columns or ())
        action = next((a for a, t in ACTION_TABLES.items() if t == table), "")
        rows: dict[str, ExtraRow] = {}
        for column in self._required[table]:
            if covered(action, column):
                continue
            row = ExtraRow(column, self._validate)
            at, _role = self.form.getWidgetPosition(self.description)
            self.form.insertRow(at, row.label, row.widget)
            rows[column.logical] = row
        self.extra_rows[table] = rows
        before: QWidget = self.due  # Tab: … the subject, the date, these fields, the description
        for row in rows.values():
            if row.widget.focusPolicy() != Qt.FocusPolicy.NoFocus:
                self.setTabOrder(before, row.widget)
                before = row.widget
        self.setTabOrder(before, self.description)
        self._action_changed()

    def _covered_keys(self, action: str) -> set[str]:
        """The dialog's own fields that the CRM requires for *action* (company, e-mail …)."""
        from callsys.crm.dynamics.required import COVERED

        table = ACTION_TABLES.get(action, "")
        names = COVERED.get(table, {})
        return {names[c.logical] for c in self._required.get(table, ()) if c.logical in names}

    def _text_of(self, key: str) -> str:
        if key == "description":
            return self.description.toPlainText().strip()
        edit = {"name": self.name, "company": self.company, "email": self.email}.get(key)
        return edit.text().strip() if edit is not None else "x"

    def _current_rows(self) -> list[ExtraRow]:
        return list(self.extra_rows.get(ACTION_TABLES.get(self.current_action(), ""), {}).values())

    def _open_form(self, _link: str) -> None:
        url = form_url(self.backend, self.current_action(), self.subject, self.fields())
        if url:
            QDesktopServices.openUrl(QUrl(url))

    def _validate(self) -> None:
        missing = self.missing()
        self.create_button.setEnabled(not missing and not self._busy)
        hint = ""
        if "number" in missing:
            hint = translate("ConvertDialog", "The call has no number to put into a record.")
        elif missing:
            hint = translate("ConvertDialog", "Fill in the fields marked with *.")
        self.create_button.setToolTip(hint)
        self._show_requirements(missing)

    def _show_requirements(self, missing: list[str]) -> None:
        """Say by name what the CRM still requires (the fields it asks for beyond callsys's own)."""
        rows = {row.column.logical: row for row in self._current_rows()}
        covered = self._covered_keys(self.current_action())
        typed = [
            self.labels[key].text().replace("&", "").rstrip(" *") for key in missing if key in covered
        ] + [rows[key[6:]].column.title for key in missing if key.startswith("extra:") and key[6:] in rows]
        elsewhere = [
            rows[key[4:]].column.title for key in missing if key.startswith("crm:") and key[4:] in rows
        ]
        parts = []
        for kind in ("integer", "decimal"):
            wrong = [
                rows[key[7:]].column.title
                for key in missing
                if key.startswith("number:")
                and key[7:] in rows
                and (rows[key[7:]].column.kind == "integer") == (kind == "integer")
            ]
            if wrong:
                names = translate("ConvertDialog", ", ").join(quoted(html.escape(t)) for t in wrong)
                parts.append(
                    translate("ConvertDialog", "{fields} takes a whole number.").format(fields=names)
                    if kind == "integer"
                    else translate("ConvertDialog", "{fields} takes a number.").format(fields=names)
                )
        if typed:
            names = translate("ConvertDialog", ", ").join(quoted(html.escape(t)) for t in typed)
            parts.append(
                translate("ConvertDialog", "The CRM requires {fields} as well.").format(fields=names)
            )
        if elsewhere:
            names = translate("ConvertDialog", ", ").join(quoted(html.escape(t)) for t in elsewhere)
            parts.append(
                translate("ConvertDialog", "{fields} can only be filled in in Dynamics 365.").format(
                    fields=names
                )
                + ' <a href="form">'
                + translate("ConvertDialog", "Fill it in in the CRM instead")
                + "</a>"
            )
        if not parts and ACTION_TABLES.get(self.current_action()) in self._unknown:
            parts.append(
                translate(
                    "ConvertDialog",
                    "Which fields the CRM requires could not be read now (it is offline or busy). "
                    "Create asks again first, then tries with the fields above.",
                )
            )
        self.hint.setText(para(" ".join(parts)))
        self.hint.setVisible(bool(parts))
        if parts:
            self.create_button.setToolTip(re.sub("<[^>]+>", "", " ".join(parts)))

    def fields(self) -> Fields:
        due = self.due.dateTime().toPyDateTime()
        return Fields(
            name=self.name.text().strip(),
            company=self.company.text().strip(),
            email=self.email.text().strip(),
            title=self.title.text().strip(),
            description=self.description.toPlainText().strip(),
            due=due.astimezone() if due.tzinfo is None else due,
            target=self.chosen_record(),
            extra=self._extra_values(),
        )

    def _extra_values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for row in self._current_rows():
            try:
                value = row.value()
            except ValueError:
                continue
            if value is not None:
                out[row.column.logical] = value
        return out

    def run(self) -> Any:
        """Run the chosen conversion (async); returns its task."""
        if self.missing():
            self._validate()
            return None
        self._busy = True
        self._validate()
        self.message.setStyleSheet("")
        self.message.setText(translate("ConvertDialog", "Working…"))
        self.message.show()
        return self.tasks.spawn(
            self._create(self.current_action()), done=self._done, failed=self._refused_text
        )

    async def _create(self, action: str) -> Converted | None:
        """Create — after asking again what the CRM requires when that could not be read before:
        fields it turns out to require appear and Create waits for them (``None``)."""
        table = ACTION_TABLES.get(action)
        backend = self.backend
        if isinstance(backend, AsksRequired) and table is not None and table not in self._required:
            try:
                columns = await backend.required(action)
            except CallsysError as exc:  # still unreadable: try with the known fields
                log.warning("cannot read what a %s requires: %s", table, exc)
            else:
                self._got_required(table, columns)
                if self.missing():
                    return None
        return await self.backend.convert(action, self.subject, self.fields())

    def _done(self, result: Converted | None) -> None:
        self._busy = False
        if result is None:  # the CRM requires more than the dialog knew: its fields are shown now
            self.message.hide()
            self._validate()
            return
        self.result_value = result
        self._result_url = result.url
        text = done_text(result)
        if result.url:
            text += ' <a href="open">' + translate("ConvertDialog", "Open it in the CRM") + "</a>"
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.setStyleSheet("color: #188038;")
        self.message.setText(_rtl(text))
        self.message.show()
        self.create_button.setEnabled(False)  # one record per click: no accidental duplicate
        self.converted.emit(result)

    def _refused_text(self, why: str) -> None:
        self._busy = False
        self.message.setStyleSheet("color: #c5221f;")
        url = form_url(self.backend, self.current_action(), self.subject, self.fields())
        if url:
            # The organisation may require more than callsys knows: finish it in the CRM's form.
            self._result_url = url
            self.message.setTextFormat(Qt.TextFormat.RichText)
            self.message.setText(
                _rtl(html.escape(why))
                + ' <a href="open">'
                + translate("ConvertDialog", "Fill it in in the CRM instead")
                + "</a>"
            )
        else:
            self.message.setTextFormat(Qt.TextFormat.PlainText)
            self.message.setText(_rtl(why))
        self.message.show()
        self._validate()

    def _refused(self, why: str) -> None:
        self._refused_text(why)

    def _open_link(self, _link: str) -> None:
        if self._result_url:
            QDesktopServices.openUrl(QUrl(self._result_url))

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        """Enter in the search box searches — and stops there: the dialog would take it as Create
        (its default button) and add the number to the record chosen before the search."""
        if (
            watched is self.search
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self._search_timer.stop()
            self._search()
            return True
        return super().eventFilter(watched, event)

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)


class _Explained(CallsysError):
    pass


def _explained(backend: ConvertBackend) -> ConvertBackend:
    """*backend* whose CRM errors carry the dialog's wording (refused / unreachable / sign-in)."""

    class Wrapped:
        crm = backend.crm

        def actions(self) -> tuple[str, ...]:
            return backend.actions()

        async def search(self, text: str) -> Sequence[Party]:
            return await backend.search(text)

        async def convert(self, action: str, subject: Subject, fields: Fields) -> Converted:
            try:
                return await backend.convert(action, subject, fields)
            except CallsysError as exc:
                raise _Explained(refusal_text(exc)) from exc

        def form_url(self, action: str, subject: Subject, fields: Fields) -> str:
            return form_url(backend, action, subject, fields)

        async def required(self, action: str) -> tuple[Any, ...]:
            return tuple(await backend.required(action)) if isinstance(backend, AsksRequired) else ()

    if not isinstance(backend, AsksRequired):
        del Wrapped.required  # the local directory asks for nothing more
    return Wrapped()


def form_url(backend: Any, action: str, subject: Subject, fields: Fields) -> str:
    """The CRM's own new-record form, prefilled, for what the dialog could not create ("" if none)."""
    if not isinstance(backend, PrefilledForms):
        return ""
    try:
        return str(backend.form_url(action, subject, fields) or "")
    except Exception:  # a prefilled form is a convenience: never a second error
        log.debug("no prefilled form for %s", action, exc_info=True)
        return ""


# ------------------------------------------------------------------------------ main window hook
def open_convert(
    window: WindowBase, row_id: str | None = None, action: str | None = None
) -> ConvertDialog | None:
    """Open the Convert dialog for a log row (default: the selected row) of *window*."""
    desktop = window.desktop
    backend = backend_for(desktop.crm)
    if backend is None:
        window.show_message(translate("ConvertDialog", "There is no CRM to convert the call into."))
        return None
    if row_id is None:
        row = window.selected_log_row()
        row_id = row.id if row is not None else None
    if row_id is None:
        window.show_message(translate("ConvertDialog", "Choose a call in the log first."))
        return None
    subject = subject_for_row(desktop, row_id)
    if subject is None:
        window.show_message(translate("ConvertDialog", "That call is not in the log any more."))
        return None
    dialog = ConvertDialog(_explained(backend), subject, window, display=window.display_number, action=action)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.destroyed.connect(window.trimmer.soon)  # its memory back to the system once it is gone

    def converted(result: Converted) -> None:
        if desktop.lookup is not None:
            desktop.lookup.forget(subject.number)  # the next call from this number finds the new record
        if result.party is not None and subject.call_id is not None and result.action != "follow_up":
            desktop.remember_party(subject.call_id, result.party)
            window.log_model.set_party(subject.call_id, result.party)
        window.show_message(done_text(result))

    dialog.converted.connect(converted)
    dialog.show()
    window.convert_dialog = dialog
    return dialog


def open_convert_for_popup(window: WindowBase, popup: CallPopup) -> ConvertDialog | None:
    """The Convert dialog for a pop-up's call, with the records the pop-up matched (B2)."""
    window.settle()  # the call's log row follows its pop-up's paint: have it now
    dialog = open_convert(window, window.desktop.log_key(popup.call.id))
    if dialog is None:
        return None
    matches = [m.party for m in popup.matches]
    chosen = popup.party or (matches[0] if matches else None)
    if matches or chosen is not None:
        dialog.subject = replace(
            dialog.subject,
            party=chosen,
            candidates=tuple(matches) or ((chosen,) if chosen is not None else ()),
        )
        dialog.title.clear()  # re-proposed from the record the pop-up shows
        dialog._prefill()
        dialog.retranslate()
    return dialog


def _popup_action_text() -> str:
    return translate("ConvertDialog", "Con&vert call…")


class _Retranslator(QObject):
    def __init__(self, window: WindowBase, action: QAction) -> None:
        super().__init__(window)
        self._window = window
        self._action = action
        self.retranslate()

    def retranslate(self) -> None:
        self._action.setText(translate("ConvertDialog", "Con&vert call…"))
        self._action.setToolTip(
            translate("ConvertDialog", "Make a case, lead, contact or account from the selected call")
        )
        for popup in self._window.popups.popups():
            for action in popup.actions():
                if action.objectName() == "popupConvertAction":
                    action.setText(_popup_action_text())

    def hook_popups(self) -> None:
        """Right-click on a pop-up offers "Convert call…" for its call."""
        window = self._window
        for popup in window.popups.popups():
            if any(a.objectName() == "popupConvertAction" for a in popup.actions()):
                continue
            action = QAction(_popup_action_text(), popup)
            action.setObjectName("popupConvertAction")
            action.triggered.connect(lambda _=False, p=popup: open_convert_for_popup(window, p))
            popup.addAction(action)
            popup.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        if event is not None and event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        return False


def install(window: WindowBase) -> QAction:
    """Add "Convert call…" to *window*'s Phone menu, its call log's context menu and the context
    menu of every pop-up."""
    action = QAction(window)
    action.setObjectName("convertAction")
    action.triggered.connect(lambda: open_convert(window))
    window.phone_menu.addSeparator()
    window.phone_menu.addAction(action)
    window.log_view.addAction(action)
    window.log_view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    translator = _Retranslator(window, action)
    window.installEventFilter(translator)
    window.popups.changed.connect(translator.hook_popups)
    window.convert_action = action
    return action
