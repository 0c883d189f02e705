"""Caller pop-ups (IN3, IN5, IN6, IN12, SET2, B1, B2).

One ``CallPopup`` per ringing or waiting call, stacked by ``PopupStack`` from the corner of the
screen upwards — any number of them. A pop-up shows what is known the moment the phone rings
(caller-ID name, number, receiving line, IVR values) and fills in the CRM record when the lookup
answers; when several records match the number the agent picks one (B2). Answer, reject and
voicemail buttons exist only when the provider can do them. A pop-up never decides anything about the
call: it closes when the CallManager says the call was answered (here or elsewhere, B1) or ended.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from callsys.model import Call, CallState, Direction, Party
from callsys.provider import Capability

from ui.i18n import current, format_duration, isolate, ltr, para, translate
from ui.qt import (
    QComboBox,
    QEvent,
    QFrame,
    QGuiApplication,
    QHBoxLayout,
    QLabel,
    QObject,
    QPixmap,
    QPoint,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    named,
    pyqtSignal,
)
from ui.texts import kind_text

if TYPE_CHECKING:
    from callsys.crm import Match

__all__ = ["CallPopup", "PopupStack"]

POPUP_WIDTH = 360
POOL_SIZE = 4
GAP = 8


def greeting(name: str, now: datetime | None = None) -> str:
    """What the agent says first, with the caller's name (IN3)."""
    hour = (now or datetime.now()).hour
    if hour < 12:
        return translate("Popup", "Good morning, {name}").format(name=name)
    if hour < 17:
        return translate("Popup", "Good afternoon, {name}").format(name=name)
    return translate("Popup", "Good evening, {name}").format(name=name)


class CallPopup(QFrame):
    answer_requested = pyqtSignal(str)
    reject_requested = pyqtSignal(str)
    voicemail_requested = pyqtSignal(str)
    record_requested = pyqtSignal(object)  # Party
    party_chosen = pyqtSignal(str, object)  # call id, Party
    resized = pyqtSignal()
    #: call id — the pop-up of this call was painted for the first time (the ring is on screen)
    painted = pyqtSignal(str)

    def __init__(
        self,
        call: Call,
        capabilities: frozenset[Capability],
        display: Callable[[object], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            parent,
            Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint,
        )
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setObjectName("callPopup")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(POPUP_WIDTH)
        self.setStyleSheet(
            "#callPopup { background: palette(base); border: 2px solid #1a73e8; border-radius: 8px; }"
            "#callPopup[waiting='true'] { border-color: #e8710a; }"
            "QLabel#popupTitle { font-weight: bold; color: #1a73e8; }"
            "QLabel#popupName { font-size: 16pt; font-weight: bold; }"
            "QLabel#popupNumber { font-size: 12pt; }"
            "QLabel#popupGreeting { font-style: italic; }"
            "QLabel#popupWaited { font-family: monospace; color: #5f6368; }"
            "#callPopup[longest='true'] QLabel#popupWaited { color: #c5221f; font-weight: bold; }"
            "QLabel#popupLongest { background: #c5221f; color: white; border-radius: 6px;"
            " padding: 0 6px; font-weight: bold; }"
            "#callPopup[longest='true'] { border-width: 3px; }"
            "QPushButton#answerButton { background: #188038; color: white; font-weight: bold;"
            " padding: 6px 14px; border-radius: 4px; }"
            "QPushButton#rejectButton { background: #c5221f; color: white; font-weight: bold;"
            " padding: 6px 14px; border-radius: 4px; }"
            "QPushButton#voicemailButton { background: palette(button); color: palette(button-text);"
            " border: 1px solid palette(mid); padding: 5px 10px; border-radius: 4px; }"
            "QPushButton:focus { outline: none; border: 2px solid #1a73e8; }"
        )
        self._display = display
        self.call = call
        self.matches: list[Match] = []
        self.party: Party | None = None
        self._looked_up = False
        self._polished_waiting: bool | None = None
        self._painted = False
        self.longest = False  # the caller who has waited longest of those ringing (IN5)

        self.title = named(QLabel(), "popupTitle")
        self.waited_label = named(QLabel(), "popupWaited")  # how long the caller has waited: 1:05
        self.waited_label.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.longest_label = named(QLabel(), "popupLongest")  # when several ring: who came first
        self.longest_label.hide()
        self.line_label = named(QLabel(), "popupLine")
        self.name_label = named(QLabel(), "popupName")
        self.name_label.setTextFormat(Qt.TextFormat.RichText)
        self.name_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.name_label.linkActivated.connect(self._open_record)
        self.name_label.setWordWrap(True)
        self.detail_label = named(QLabel(), "popupDetail")  # kind · company
        self.detail_label.setWordWrap(True)
        self.number_label = named(QLabel(), "popupNumber")
        # IN6: clicking the number answers, as on the original product's pop-up.
        self.number_label.setTextFormat(Qt.TextFormat.RichText)
        self.number_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.number_label.linkActivated.connect(self._number_clicked)
        self.ivr_label = named(QLabel(), "popupIvr")
        self.ivr_label.setWordWrap(True)
        self.match_label = named(QLabel(), "popupMatches")
        self._match_choice: QComboBox | None = None  # made when several records match (B2)
        self.greeting_label = named(QLabel(), "popupGreeting")
        self.greeting_label.setWordWrap(True)

        self.answer_button = named(QPushButton(), "answerButton")
        self.answer_button.clicked.connect(lambda: self.answer_requested.emit(self.call.id))
        self.reject_button = named(QPushButton(), "rejectButton")
        self.reject_button.clicked.connect(lambda: self.reject_requested.emit(self.call.id))
        self.voicemail_button = named(QPushButton(), "voicemailButton")
        self.voicemail_button.clicked.connect(lambda: self.voicemail_requested.emit(self.call.id))

        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addWidget(self.longest_label)
        header.addStretch(1)
        header.addWidget(self.line_label)
        header.addWidget(self.waited_label)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.voicemail_button)
        buttons.addWidget(self.reject_button)
        buttons.addWidget(self.answer_button)

        self._layout = layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 12)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.name_label)
        layout.addWidget(self.detail_label)
        layout.addWidget(self.number_label)
        layout.addWidget(self.ivr_label)
        layout.addWidget(self.match_label)
        layout.addWidget(self.greeting_label)
        layout.addLayout(buttons)
        # Only now, in the pop-up: shown while without a parent, a button would be a window of its
        # own (a native window made and shown, activation taken from the main window).
        self._show_buttons(capabilities)
        self.retranslate()

    # ------------------------------------------------------------------ content
    def reuse(
        self, call: Call, capabilities: frozenset[Capability], matches: Sequence[Match] | None = None
    ) -> None:
        """Show another call in this (pooled, hidden) pop-up — building one costs a style sheet —
        with its records when they are known already (one ``retranslate`` for both)."""
        self.call = call
        self.longest = False
        self._painted = False
        self.setProperty("longest", "false")
        self.waited_label.setText("")
        self._show_buttons(capabilities)
        self.matches, self.party, self._looked_up = [], None, False
        if matches is None:
            if self._match_choice is not None:
                self._match_choice.blockSignals(True)
                self._match_choice.clear()
                self._match_choice.blockSignals(False)
            self.retranslate()
        else:
            self.set_matches(matches)

    @property
    def match_choice(self) -> QComboBox:
        """The records to pick from when several match the number (B2); made the first time
        several match — a combo box costs a pop-up's build more than all its labels."""
        if self._match_choice is None:
            combo = named(QComboBox(), "popupMatchChoice")
            combo.currentIndexChanged.connect(self._choose)
            combo.hide()
            self._layout.insertWidget(self._layout.indexOf(self.match_label) + 1, combo)
            self._match_choice = combo
        return self._match_choice

    def drop_choice(self) -> None:
        """The record picker goes when the pop-up is put away: the next caller rarely needs one,
        and the pop-ups kept for the next rings do not each hold one."""
        combo, self._match_choice = self._match_choice, None
        if combo is not None:
            self._layout.removeWidget(combo)
            combo.deleteLater()

    @property
    def on_screen(self) -> bool:
        """Painted since it was shown for this call."""
        return self._painted

    def set_capabilities(self, capabilities: frozenset[Capability]) -> None:
        """What the phone connection can do changed while this pop-up is open (a callsys server
        reconnecting to another PBX link, say): the buttons follow. Cheap when nothing changed."""
        if self._show_buttons(capabilities):
            self.retranslate()

    def _show_buttons(self, capabilities: frozenset[Capability]) -> bool:
        """Answer, reject and voicemail shown only when the connection can do them; True if any
        of them changed."""
        changed = False
        for button, capability in (
            (self.answer_button, Capability.ANSWER),
            (self.reject_button, Capability.REJECT),
            (self.voicemail_button, Capability.VOICEMAIL),
        ):
            on = capability in capabilities
            changed |= button.isHidden() == on
            button.setVisible(on)
        return changed

    @property
    def _can_answer(self) -> bool:
        """Answering is offered (the number is then a link that answers, IN6)."""
        return not self.answer_button.isHidden()

    def update_call(self, call: Call) -> None:
        if call == self.call:  # the same again (the window's work after the first paint)
            return
        self.call = call
        self.retranslate()

    def set_matches(self, matches: Sequence[Match]) -> None:
        if self._looked_up and list(matches) == self.matches:  # shown already
            return
        self._looked_up = True
        self.matches = list(matches)
        if len(self.matches) > 1 or self._match_choice is not None:
            combo = self.match_choice
            combo.blockSignals(True)
            combo.clear()
            for match in self.matches:
                party = match.party
                extra = " · ".join(x for x in (kind_text(party.kind), party.company) if x)
                combo.addItem(f"{party.name} ({extra})" if extra else party.name)
            combo.blockSignals(False)
        self.party = self.matches[0].party if self.matches else None
        self.retranslate()

    def _choose(self, at: int) -> None:
        if 0 <= at < len(self.matches):
            self.party = self.matches[at].party
            self.party_chosen.emit(self.call.id, self.party)
            self.retranslate()

    def waited_seconds(self, now: datetime | None = None) -> int:
        """How long the caller has been ringing or waiting, in whole seconds."""
        started = self.call.started_at
        return max(0, int(((now or datetime.now(UTC)) - started).total_seconds()))

    def tick(self, now: datetime | None = None) -> None:
        """Show how long the caller has waited (called once a second by the stack)."""
        seconds = self.waited_seconds(now)
        text = format_duration(seconds)
        if self.waited_label.text() != text:
            self.waited_label.setText(text)
            self.waited_label.setAccessibleName(translate("Popup", "Waiting for {time}").format(time=text))
            self.waited_label.setToolTip(self.waited_label.accessibleName())

    def set_longest(self, longest: bool) -> None:
        """Marks the pop-up of the caller who has waited longest (when several ring)."""
        if longest == self.longest:
            return
        self.longest = longest
        self.setProperty("longest", "true" if longest else "false")
        style = self.style()
        if style is not None:
            style.unpolish(self)
            style.polish(self)
        self.longest_label.setVisible(longest)  # its text is set already (``retranslate``)

    def _number_clicked(self, _link: str) -> None:
        if self._can_answer:
            self.answer_requested.emit(self.call.id)

    def _open_record(self, _link: str) -> None:
        if self.party is not None:
            self.record_requested.emit(self.party)

    def retranslate(self) -> None:
        call = self.call
        waiting = call.waiting
        if waiting != self._polished_waiting:  # re-polishing a style sheet is slow: only on change
            self._polished_waiting = waiting
            self.setProperty("waiting", "true" if waiting else "false")
            style = self.style()
            if style is not None:
                style.unpolish(self)
                style.polish(self)
        self.title.setText(
            translate("Popup", "Waiting call") if waiting else translate("Popup", "Incoming call")
        )
        self.longest_label.setText(translate("Popup", "Waiting longest"))
        self.longest_label.setVisible(self.longest)
        self.tick()
        self.line_label.setText(
            translate("Popup", "Line: {line}").format(line=call.line) if call.line else ""
        )
        self.line_label.setVisible(bool(call.line))
        party = self.party
        if party is not None:
            self.name_label.setText(para(f'<a href="record">{_escape(party.name)}</a>'))
            self.name_label.setToolTip(translate("Popup", "Open the record"))
            detail = " · ".join(x for x in (kind_text(party.kind), party.company) if x)
            self.detail_label.setText(para(detail))
        else:
            shown = call.remote_name or (
                translate("Popup", "Looking up…")
                if not self._looked_up
                else translate("Popup", "Unknown caller")
            )
            self.name_label.setText(para(_escape(shown)))
            self.name_label.setToolTip("")
            self.detail_label.setText(
                para(translate("Popup", "Not in the directory"))
                if self._looked_up and not call.remote.is_anonymous
                else ""
            )
        self.detail_label.setVisible(bool(self.detail_label.text()))
        number = "" if call.remote.is_anonymous else self._display(call.remote)
        if not number:
            self.number_label.setText(para(_escape(translate("Popup", "No caller ID"))))
            self.number_label.setToolTip("")
        elif self._can_answer:
            link = f'<a href="answer" style="text-decoration:none">{_escape(ltr(number))}</a>'
            self.number_label.setText(para(link))
            self.number_label.setToolTip(translate("Popup", "Click the number to answer"))
        else:
            self.number_label.setText(para(_escape(ltr(number))))
            self.number_label.setToolTip("")
        ivr = [ltr(f"{key}: {value}") for key, value in call.variables.items()]
        self.ivr_label.setText(
            para(translate("Popup", "Caller entered: {values}").format(values=", ".join(ivr)))
        )
        self.ivr_label.setVisible(bool(ivr))
        several = len(self.matches) > 1
        self.match_label.setText(
            translate("Popup", "{count} records match this number — pick one:").format(
                count=_digits(len(self.matches))
            )
        )
        self.match_label.setVisible(several)
        if self._match_choice is not None:
            self._match_choice.setVisible(several)
        name = party.name if party is not None else call.remote_name
        self.greeting_label.setText(para(greeting(isolate(name))) if name else "")
        self.greeting_label.setVisible(bool(name))
        self.answer_button.setText(translate("Popup", "Answer"))
        self.reject_button.setText(translate("Popup", "Reject"))
        self.answer_button.setAccessibleName(translate("Popup", "Answer the call"))
        self.reject_button.setAccessibleName(translate("Popup", "Reject the call"))
        self.voicemail_button.setText(translate("Popup", "Voicemail"))
        self.voicemail_button.setAccessibleName(translate("Popup", "Send the call to voicemail"))
        self.setAccessibleName(self.title.text())
        self.adjustSize()

    def changeEvent(self, event: QEvent | None) -> None:
        if event is not None and event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def paintEvent(self, event: Any) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self.painted.emit(self.call.id)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.resized.emit()  # the stack moves the others so that none covers another


def _digits(count: int) -> str:
    language = current()
    return language.digits(str(count)) if language is not None else str(count)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class PopupStack(QObject):
    """Owns the pop-ups: one per ringing call id, stacked from the screen corner upwards."""

    answer_requested = pyqtSignal(str)
    reject_requested = pyqtSignal(str)
    voicemail_requested = pyqtSignal(str)
    record_requested = pyqtSignal(object)
    party_chosen = pyqtSignal(str, object)
    changed = pyqtSignal()
    painted = pyqtSignal(str)  # call id: its pop-up is on screen

    def __init__(
        self,
        capabilities: Callable[[Call], frozenset[Capability]],
        display: Callable[[object], str],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._capabilities = capabilities  # what can be done with a call (voicemail is per call)
        self._display = display
        self._popups: dict[str, CallPopup] = {}
        self._pool: list[CallPopup] = []  # hidden pop-ups kept for the next ring

    def __len__(self) -> int:
        return len(self._popups)

    @property
    def ready(self) -> tuple[CallPopup, ...]:
        """The built, hidden pop-ups waiting for the next rings."""
        return tuple(self._pool)

    def popup(self, call_id: str) -> CallPopup | None:
        return self._popups.get(call_id)

    def unpainted(self) -> bool:
        """Is an open pop-up not on screen yet (shown, not painted)?"""
        return any(not popup.on_screen for popup in self._popups.values())

    def popups(self) -> list[CallPopup]:
        """The open pop-ups, the caller who has waited longest first."""
        return sorted(self._popups.values(), key=lambda p: p.call.started_at)

    def tick(self) -> None:
        """Once a second (the window's one clock): every pop-up shows how long its caller has
        waited — one timer for all of them, not one each."""
        now = datetime.now(UTC)
        for popup in self._popups.values():
            popup.tick(now)

    def on_call(self, call: Call, matches: Sequence[Match] | None = None) -> CallPopup | None:
        """Show, update or close the pop-up of *call* according to its state; a new pop-up shows
        *matches* (the caller's records, when known at once) from its first paint."""
        existing = self._popups.get(call.id)
        if call.state is not CallState.RINGING:
            if existing is not None:
                self.close(call.id)
            return None
        if existing is not None:
            existing.update_call(call)
            existing.set_capabilities(self._capabilities(call))
            self.relayout()
            return existing
        if self._pool:
            popup = self._pool.pop()
            popup.reuse(call, self._capabilities(call), matches)
        else:
            popup = self._build(call)
            if matches is not None:
                popup.set_matches(matches)
        self._popups[call.id] = popup
        self.relayout()
        popup.show()
        self.changed.emit()
        return popup

    def prepare(self) -> None:
        """Build a pop-up for the next ring now, while nothing rings: its widgets, style sheet,
        layout, and one paint into a pixmap (the fonts and glyphs of its first paint). It is never
        shown or given a native window here, so it cannot take activation from the main window; a
        ring then only fills it in (``reuse``), as it does after any pop-up has closed."""
        if self._pool or self._popups:
            return
        placeholder = Call(
            "", Direction.INCOMING, CallState.RINGING, datetime.now(UTC), remote_name="Caller 0123456789"
        )
        popup = self._build(placeholder)
        popup.ensurePolished()
        popup.adjustSize()
        pixmap = QPixmap(popup.size())
        popup.render(pixmap)
        self._pool.append(popup)

    def _build(self, call: Call) -> CallPopup:
        popup = CallPopup(call, self._capabilities(call), self._display)
        popup.answer_requested.connect(self.answer_requested)
        popup.reject_requested.connect(self.reject_requested)
        popup.voicemail_requested.connect(self.voicemail_requested)
        popup.record_requested.connect(self.record_requested)
        popup.party_chosen.connect(self.party_chosen)
        popup.painted.connect(self.painted)
        popup.resized.connect(self.relayout)
        popup.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
        return popup

    def refresh_capabilities(self) -> None:
        """The open pop-ups show the buttons the phone connection can do now (IN6)."""
        for popup in self._popups.values():
            popup.set_capabilities(self._capabilities(popup.call))

    def close(self, call_id: str) -> None:
        popup = self._popups.pop(call_id, None)
        if popup is not None:
            popup.hide()
            if len(self._pool) < POOL_SIZE:
                popup.drop_choice()
                self._pool.append(popup)
            else:
                popup.deleteLater()
            self.relayout()
            self.changed.emit()

    def close_all(self) -> None:
        for call_id in list(self._popups):
            self.close(call_id)
        for popup in self._pool:
            popup.deleteLater()
        self._pool.clear()

    def relayout(self) -> None:
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        rtl = QGuiApplication.layoutDirection() == Qt.LayoutDirection.RightToLeft
        x_edge = area.left() + GAP if rtl else area.right() - POPUP_WIDTH - GAP
        y = area.bottom() - GAP
        column = 0
        ordered = self.popups()  # the longest-waiting caller in the corner, marked when several
        for at, popup in enumerate(ordered):
            popup.set_longest(at == 0 and len(ordered) > 1)
        for popup in ordered:
            height = max(popup.height(), popup.sizeHint().height())
            if y - height < area.top() and y != area.bottom() - GAP:
                column += 1  # the screen is full: start another column (no limit, IN5)
                y = area.bottom() - GAP
            x = x_edge + (column * (POPUP_WIDTH + GAP) * (1 if rtl else -1))
            y -= height
            popup.move(QPoint(x, y))
            y -= GAP
