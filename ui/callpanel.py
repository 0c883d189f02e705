"""The active call panel (issue 6): the call in progress with its timer, hold/resume, mute, DTMF
keypad, transfer and hang up — and, beside it, every other live call (held, waiting, dialling)
with the one action that makes sense for it (IN5); a waiting call can also be sent to voicemail
where the phone connection can (IN6).

Attended transfer and conference: *Consult…* holds the call and dials the number typed in the
transfer field; *Transfer to consulted* hands the held party to the consulted one (in a
conference: the agent leaves, the two go on talking); *Conference* joins the three. Each is
disabled, with a tooltip that says why, where the phone connection cannot or there is nobody
consulted yet.

Like the pop-ups, the panel keeps no state of its own about calls except what the agent
toggled locally and the provider does not report back (mute). It re-renders from the latest
``Call`` snapshots it was given.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from callsys.model import Call, CallEvent, CallState, Party
from callsys.provider import Capability, ProviderStatus

from ui.i18n import Language, format_duration, isolate, ltr, para, translate
from ui.qt import (
    QEvent,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    checkable,
    named,
    pyqtSignal,
)
from ui.texts import audio_warning, direction_text, kind_text, state_text

__all__ = ["CallPanel"]

DTMF_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#")


def _elapsed(since: datetime | None) -> int:
    if since is None:
        return 0
    return max(0, int((datetime.now(UTC) - since).total_seconds()))


class CallPanel(QFrame):
    """The calls in progress. What the agent asks of a call leaves as a signal (the window
    connects them to the phone connection); what the panel shows comes in through ``on_call``,
    ``set_capabilities`` and ``set_status``, and the two functions it is given: how a number is
    shown and what the phone connection can do with one call."""

    answer_requested = pyqtSignal(str)  # call id
    hangup_requested = pyqtSignal(str)
    voicemail_requested = pyqtSignal(str)
    hold_requested = pyqtSignal(str)
    resume_requested = pyqtSignal(str)
    mute_requested = pyqtSignal(str, bool)  # call id, muted
    dtmf_requested = pyqtSignal(str, str)  # call id, digits
    #: call id, the number typed: ``target_taken`` clears the field once it was accepted
    transfer_requested = pyqtSignal(str, str)
    consult_requested = pyqtSignal(str, str)
    transfer_to_call_requested = pyqtSignal(str, str)  # the held party's call, the consulted one's
    conference_requested = pyqtSignal(str, str)
    #: a sentence for the agent (the window's status bar)
    message = pyqtSignal(str)

    def __init__(
        self,
        display_number: Callable[[object], str],
        call_capabilities: Callable[[Call], frozenset[Capability]],
        language: Language,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._display_number = display_number
        self._call_capabilities = call_capabilities
        self._language = language
        self._status: ProviderStatus | None = None
        self.setObjectName("callPanel")
        self.setStyleSheet(
            "#callPanel { border: 1px solid #dadce0; border-radius: 8px; }"
            "QLabel#currentName { font-size: 15pt; font-weight: bold; }"
            "QLabel#currentTimer { font-size: 15pt; font-family: monospace; }"
            "QPushButton#hangupButton { background: #c5221f; color: white; font-weight: bold;"
            " padding: 5px 14px; border-radius: 4px; }"
            "QFrame#otherCall { background: #fef7e0; border-radius: 6px; }"
        )
        self._calls: dict[str, Call] = {}
        self._parties: dict[str, Party] = {}
        self._muted: set[str] = set()
        self._caps: frozenset[Capability] = frozenset()
        self.current_id: str | None = None

        # ---- the current call
        self.current_title = named(QLabel(), "currentTitle")
        self.current_name = named(QLabel(), "currentName")
        self.current_detail = named(QLabel(), "currentDetail")
        self.current_timer = named(QLabel(), "currentTimer")
        self.current_timer.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.hold_button = named(QPushButton(), "holdButton")
        self.hold_button.clicked.connect(self._toggle_hold)
        self.mute_button = checkable(named(QPushButton(), "muteButton"))
        self.mute_button.clicked.connect(self._toggle_mute)
        self.keypad_button = checkable(named(QPushButton(), "keypadButton"))
        self.keypad_button.toggled.connect(self._show_keypad)
        self.transfer_edit = named(QLineEdit(), "transferEdit")
        self.transfer_edit.returnPressed.connect(self._transfer)
        self.transfer_button = named(QPushButton(), "transferButton")
        self.transfer_button.clicked.connect(self._transfer)
        self.hangup_button = named(QPushButton(), "hangupButton")
        self.hangup_button.clicked.connect(self._hangup)
        self.consult_button = named(QPushButton(), "consultButton")
        self.consult_button.clicked.connect(self.consult_current)
        self.transfer_consulted_button = named(QPushButton(), "transferConsultedButton")
        self.transfer_consulted_button.clicked.connect(self.transfer_consulted)
        self.conference_button = named(QPushButton(), "conferenceButton")
        self.conference_button.clicked.connect(self.conference_current)

        self.keypad = named(QWidget(), "keypad")
        grid = QGridLayout(self.keypad)
        grid.setContentsMargins(0, 0, 0, 0)
        self.keypad_buttons: dict[str, QPushButton] = {}
        for at, key in enumerate(DTMF_KEYS):
            button = QPushButton(key)
            button.setFixedWidth(44)
            button.clicked.connect(lambda _=False, k=key: self.send_dtmf(k))
            self.keypad_buttons[key] = button
            grid.addWidget(button, at // 3, at % 3)
        self.keypad.setLayoutDirection(Qt.LayoutDirection.LeftToRight)  # a phone keypad never mirrors
        self.keypad.hide()

        head = QHBoxLayout()
        names = QVBoxLayout()
        names.addWidget(self.current_title)
        names.addWidget(self.current_name)
        names.addWidget(self.current_detail)
        head.addLayout(names, 1)
        head.addWidget(self.current_timer, 0, Qt.AlignmentFlag.AlignTop)
        controls = QHBoxLayout()
        for widget in (self.hold_button, self.mute_button, self.keypad_button):
            controls.addWidget(widget)
        controls.addWidget(self.transfer_edit, 1)
        controls.addWidget(self.transfer_button)
        controls.addWidget(self.hangup_button)
        attended = QHBoxLayout()
        for widget in (self.consult_button, self.transfer_consulted_button, self.conference_button):
            attended.addWidget(widget)
        attended.addStretch(1)
        # a softphone without a microphone or speaker: said on the call itself, not only above
        self.audio_notice = named(QLabel(), "audioNotice")
        self.audio_notice.setWordWrap(True)
        self.audio_notice.setStyleSheet("color: #b06000; font-weight: bold;")
        self.audio_notice.hide()
        current = QVBoxLayout()
        current.addLayout(head)
        current.addWidget(self.audio_notice)
        current.addLayout(controls)
        current.addLayout(attended)
        current.addWidget(self.keypad, 0, Qt.AlignmentFlag.AlignLeading)
        self.current_box = named(QWidget(), "currentCall")
        self.current_box.setLayout(current)

        # ---- the other live calls, beside it
        self.others_title = named(QLabel(), "othersTitle")
        self.others_title.setStyleSheet("font-weight: bold;")
        self.others_box = QVBoxLayout()
        others = QVBoxLayout()
        others.addWidget(self.others_title)
        others.addLayout(self.others_box)
        others.addStretch(1)
        self.others_widget = named(QWidget(), "otherCalls")
        self.others_widget.setLayout(others)
        self.others_widget.setMinimumWidth(260)
        self.other_rows: dict[str, QFrame] = {}

        layout = QHBoxLayout(self)
        layout.addWidget(self.current_box, 3)
        layout.addWidget(self.others_widget, 2)
        for first, then in zip(self.tab_stops(), self.tab_stops()[1:], strict=False):
            self.setTabOrder(first, then)
        self.hide()
        self.retranslate()

    def tab_stops(self) -> list[QWidget]:
        """The current call's controls in Tab order (the window puts them after its Call button)."""
        return [
            self.hold_button,
            self.mute_button,
            self.keypad_button,
            self.transfer_edit,
            self.transfer_button,
            self.hangup_button,
            self.consult_button,
            self.transfer_consulted_button,
            self.conference_button,
        ]

    # ------------------------------------------------------------------ input
    def set_capabilities(self, caps: frozenset[Capability]) -> None:
        self._caps = caps
        self.refresh()

    def set_status(self, status: ProviderStatus | None) -> None:
        """The phone connection's status: a missing microphone or speaker is said on the call
        (shown from the next ``refresh``)."""
        self._status = status

    def on_call(self, event: CallEvent, call: Call, party: Party | None) -> None:
        if party is not None:
            self._parties[call.id] = party
        if call.state is CallState.ENDED:
            self._calls.pop(call.id, None)
            self._parties.pop(call.id, None)
            self._muted.discard(call.id)
        else:
            self._calls[call.id] = call
        if event in (CallEvent.ANSWERED, CallEvent.RESUMED, CallEvent.OUTGOING) or (
            self.current_id not in self._calls
        ):
            self.current_id = self._pick_current(
                prefer=call.id if call.state is not CallState.ENDED else None
            )
        self.refresh()

    def _pick_current(self, prefer: str | None) -> str | None:
        calls = self._calls
        if (
            prefer is not None
            and prefer in calls
            and calls[prefer].state
            in (
                CallState.ACTIVE,
                CallState.DIALING,
                CallState.ALERTING,
            )
        ):
            return prefer
        for state in (CallState.ACTIVE, CallState.ALERTING, CallState.DIALING, CallState.HELD):
            candidates = [c for c in calls.values() if c.state is state]
            if candidates:
                return max(candidates, key=lambda c: c.started_at).id
        return None

    @property
    def current(self) -> Call | None:
        return self._calls.get(self.current_id) if self.current_id else None

    def others(self) -> list[Call]:
        return sorted(
            (c for c in self._calls.values() if c.id != self.current_id), key=lambda c: c.started_at
        )

    # ------------------------------------------------------------------ actions
    def _show_keypad(self, shown: bool) -> None:
        self.keypad.setVisible(shown)

    def _toggle_hold(self) -> None:
        call = self.current
        if call is None:
            return
        if call.state is CallState.HELD:
            self.resume_requested.emit(call.id)
        else:
            self.hold_requested.emit(call.id)

    def toggle_hold(self) -> None:
        self._toggle_hold()

    def _toggle_mute(self) -> None:
        call = self.current
        if call is None:
            return
        muted = call.id not in self._muted
        if muted:
            self._muted.add(call.id)
        else:
            self._muted.discard(call.id)
        self.mute_requested.emit(call.id, muted)
        self.refresh()

    def toggle_mute(self) -> None:
        self._toggle_mute()

    def is_muted(self, call_id: str) -> bool:
        return call_id in self._muted

    def send_dtmf(self, key: str) -> None:
        call = self.current
        if call is not None:
            self.dtmf_requested.emit(call.id, key)

    def _transfer(self) -> None:
        call = self.current
        target = self.transfer_edit.text().strip()
        if call is not None and target:
            self.transfer_requested.emit(call.id, target)

    def target_taken(self, target: str) -> None:
        """The number typed for a transfer or a consultation was accepted: the field is cleared
        (unless it holds something else by now). One that was refused stays, to be corrected."""
        if self.transfer_edit.text().strip() == target:
            self.transfer_edit.clear()

    def pair(self) -> tuple[Call, Call] | None:
        """(the held party's call, the consulted party's) of the current call — or the two calls
        of its conference, oldest first — when there are two."""
        call = self.current
        if call is None:
            return None
        if call.conference:
            joined = [c for c in self._calls.values() if c.conference and c.id != call.id]
            if len(joined) == 1:
                first, second = sorted((call, joined[0]), key=lambda c: c.started_at)
                return first, second
        if call.consult_of and call.consult_of in self._calls:
            return self._calls[call.consult_of], call
        consults = [c for c in self._calls.values() if c.consult_of == call.id]
        if consults:
            return call, max(consults, key=lambda c: c.started_at)
        return None

    def _connected_pair(self) -> tuple[Call, Call] | None:
        pair = self.pair()
        return pair if pair is not None and all(c.state.is_connected for c in pair) else None

    def consult_current(self) -> None:
        """Hold the current call and dial the number typed in the transfer field."""
        call = self.current
        if call is None or not call.state.is_connected or Capability.CONSULT not in self._caps:
            return
        target = self.transfer_edit.text().strip()
        if not target:
            self.transfer_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
            self.message.emit(
                translate(
                    "CallPanel", "Type the number to consult in the transfer field, then press Consult again."
                )
            )
            return
        self.consult_requested.emit(call.id, target)

    def transfer_consulted(self) -> None:
        """Hand the held party to the consulted one (in a conference: leave the two talking)."""
        pair = self._connected_pair()
        if pair is not None and Capability.ATTENDED_TRANSFER in self._caps:
            self.transfer_to_call_requested.emit(pair[0].id, pair[1].id)

    def conference_current(self) -> None:
        pair = self._connected_pair()
        if pair is not None and Capability.CONFERENCE in self._caps and not all(c.conference for c in pair):
            self.conference_requested.emit(pair[0].id, pair[1].id)

    def _gate(
        self, button: QPushButton, capability: Capability, ready: bool, cannot: str, why: str, does: str
    ) -> None:
        """Enable *button* when the phone connection has *capability* and the calls are *ready*;
        its tooltip says what it does, or why it is disabled."""
        able = capability in self._caps
        button.setEnabled(able and ready)
        button.setToolTip(para(does if able and ready else (why if able else cannot)))

    def _render_attended(self, call: Call) -> None:
        pair = self._connected_pair()
        names = (
            {"held": isolate(self._name(pair[0])), "consulted": isolate(self._name(pair[1]))}
            if pair
            else {
                "held": "",
                "consulted": "",
            }
        )
        consulting = self.pair() is not None and not call.conference
        in_conference = pair is not None and all(c.conference for c in pair)
        self._gate(
            self.consult_button,
            Capability.CONSULT,
            call.state.is_connected and not consulting and not call.conference,
            translate("CallPanel", "This phone connection cannot hold a call to consult someone first."),
            translate(
                "CallPanel", "Consult works on a connected call that is not already in a consultation."
            ),
            translate("CallPanel", "Hold this call and call the number typed in the transfer field."),
        )
        self._gate(
            self.transfer_consulted_button,
            Capability.ATTENDED_TRANSFER,
            pair is not None,
            translate(
                "CallPanel", "This phone connection cannot transfer a call to the party you consulted."
            ),
            translate("CallPanel", "Consult someone first (Consult…); both calls must be connected."),
            translate(
                "CallPanel", "Leave the conference: {held} and {consulted} go on talking without you."
            ).format(**names)
            if in_conference
            else translate("CallPanel", "Connect {held} with {consulted} and leave the call.").format(
                **names
            ),
        )
        self._gate(
            self.conference_button,
            Capability.CONFERENCE,
            pair is not None and not in_conference,
            translate("CallPanel", "This phone connection cannot join calls in a conference."),
            translate("CallPanel", "Already in a conference.")
            if in_conference
            else translate("CallPanel", "Consult someone first (Consult…); both calls must be connected."),
            translate("CallPanel", "Talk with {held} and {consulted} together.").format(**names),
        )

    def _hangup(self) -> None:
        call = self.current
        if call is not None:
            self.hangup_requested.emit(call.id)

    def hangup_current(self) -> None:
        self._hangup()

    # ------------------------------------------------------------------ rendering
    def _name(self, call: Call) -> str:
        party = self._parties.get(call.id)
        if party is not None:
            return party.name
        return call.remote_name or translate("CallPanel", "Unknown caller")

    def refresh(self) -> None:
        call = self.current
        self.setVisible(
            bool(self._calls) and any(c.state is not CallState.RINGING for c in self._calls.values())
        )
        if call is not None:
            party = self._parties.get(call.id)
            title = direction_text(call.direction) + " · " + state_text(call.state)
            if call.remote_hold:  # the far end put us on hold (SIP re-INVITE); Resume is theirs
                title += " · " + translate("CallPanel", "Held by the other party")
            if call.conference:
                title += " · " + translate("CallPanel", "Conference")
            elif call.consult_of:
                title += " · " + translate("CallPanel", "Consultation")
            if call.line:
                title += " · " + translate("CallPanel", "Line: {line}").format(line=call.line)
            self.current_title.setText(para(title))
            self.current_name.setText(para(self._name(call)))
            number = self._display_number(call.remote)
            detail = [ltr(number)] if number else []
            if party is not None:
                detail += [kind_text(party.kind)] + ([party.company] if party.company else [])
            self.current_detail.setText(para(" · ".join(detail)))
            held = call.state is CallState.HELD
            self.hold_button.setText(
                translate("CallPanel", "Resume") if held else translate("CallPanel", "Hold")
            )
            self.hold_button.setEnabled(Capability.HOLD in self._caps and call.state.is_connected)
            muted = call.id in self._muted
            self.mute_button.setChecked(muted)
            self.mute_button.setText(
                translate("CallPanel", "Unmute") if muted else translate("CallPanel", "Mute")
            )
            self.mute_button.setEnabled(Capability.MUTE in self._caps and call.state.is_connected)
            self.keypad_button.setEnabled(Capability.DTMF in self._caps and call.state is CallState.ACTIVE)
            can_transfer = Capability.TRANSFER in self._caps and call.state.is_connected
            self.transfer_edit.setEnabled(can_transfer)
            self.transfer_button.setEnabled(can_transfer)
            self.hangup_button.setEnabled(Capability.HANGUP in self._caps)
            self._render_attended(call)
        status = self._status
        notice = audio_warning(status.audio_missing, calls_only=True) if status is not None else ""
        self.audio_notice.setText(para(notice))
        self.audio_notice.setVisible(bool(notice) and call is not None)
        self.current_box.setVisible(call is not None)
        self._render_others()
        self.tick(others=False)

    def _render_others(self) -> None:
        others = self.others()
        wanted = {c.id for c in others}
        for call_id in list(self.other_rows):
            if call_id not in wanted:
                row = self.other_rows.pop(call_id)
                self.others_box.removeWidget(row)
                row.deleteLater()
        for call in others:
            existing = self.other_rows.get(call.id)
            if existing is not None:
                row = existing
            else:
                row = named(QFrame(), "otherCall")
                box = QHBoxLayout(row)
                box.setContentsMargins(8, 4, 8, 4)
                label = named(QLabel(), "otherLabel")
                button = named(QPushButton(), "otherAction")
                button.clicked.connect(lambda _=False, cid=call.id: self._other_action(cid))
                voicemail = named(QPushButton(), "otherVoicemail")
                voicemail.clicked.connect(lambda _=False, cid=call.id: self.voicemail_requested.emit(cid))
                box.addWidget(label, 1)
                box.addWidget(voicemail)
                box.addWidget(button)
                self.other_rows[call.id] = row
                self.others_box.addWidget(row)
            label = row.findChild(QLabel, "otherLabel")
            button = row.findChild(QPushButton, "otherAction")
            voicemail = row.findChild(QPushButton, "otherVoicemail")
            if voicemail is not None:
                caps = self._call_capabilities(call)  # voicemail is per call
                voicemail.setVisible(
                    call.state is CallState.RINGING
                    and Capability.VOICEMAIL in self._caps
                    and Capability.VOICEMAIL in caps
                )
                voicemail.setText(translate("CallPanel", "Voicemail"))
                voicemail.setAccessibleName(
                    translate("CallPanel", "Send {name} to voicemail").format(name=self._name(call))
                )
            number = self._display_number(call.remote)
            state = (  # a waiting caller: for how long (the longest-waiting is listed first)
                translate("CallPanel", "Waiting {time}").format(
                    time=format_duration(_elapsed(call.started_at))
                )
                if call.state is CallState.RINGING
                else state_text(call.state)
            )
            if call.remote_hold:
                state += " · " + translate("CallPanel", "Held by the other party")
            if label is not None:
                label.setText(para(f"{isolate(self._name(call))}  {ltr(number)}") + "\n" + para(state))
            if button is not None:
                if call.state is CallState.RINGING:
                    button.setText(translate("CallPanel", "Answer"))
                    button.setEnabled(Capability.ANSWER in self._caps)
                elif call.state is CallState.HELD:
                    button.setText(translate("CallPanel", "Resume"))
                    button.setEnabled(Capability.HOLD in self._caps)
                else:
                    button.setText(translate("CallPanel", "Hang up"))
                    button.setEnabled(Capability.HANGUP in self._caps)
                button.setAccessibleName(button.text() + " " + self._name(call))
        self.others_widget.setVisible(bool(others))
        self.others_title.setText(
            translate("CallPanel", "Other calls ({count})").format(
                count=self._language.digits(str(len(others)))  # ۲ in Persian
            )
        )

    def _other_action(self, call_id: str) -> None:
        call = self._calls.get(call_id)
        if call is None:
            return
        if call.state is CallState.RINGING:
            self.answer_requested.emit(call_id)
        elif call.state is CallState.HELD:
            self.resume_requested.emit(call_id)
        else:
            self.hangup_requested.emit(call_id)

    def tick(self, *, others: bool = True) -> None:
        if others and any(c.state is CallState.RINGING for c in self.others()):
            self._render_others()  # the waiting times, once a second
        call = self.current
        if call is None:
            self.current_timer.setText("")
            return
        if call.state is CallState.HELD:
            self.current_timer.setText(format_duration(_elapsed(call.on_hold_since)))
            self.current_timer.setStyleSheet("color: #e8710a;")
        elif call.state is CallState.ACTIVE:
            self.current_timer.setText(format_duration(_elapsed(call.answered_at)))
            self.current_timer.setStyleSheet("")
        else:
            self.current_timer.setText(format_duration(_elapsed(call.started_at)))
            self.current_timer.setStyleSheet("color: #5f6368;")

    def retranslate(self) -> None:
        self.keypad_button.setText(translate("CallPanel", "Keypad"))
        self.transfer_edit.setPlaceholderText(translate("CallPanel", "Transfer to or consult…"))
        self.transfer_edit.setAccessibleName(translate("CallPanel", "Number to transfer to or consult"))
        self.transfer_button.setText(translate("CallPanel", "Transfer"))
        self.hangup_button.setText(translate("CallPanel", "Hang up"))
        self.hangup_button.setAccessibleName(translate("CallPanel", "Hang up the call"))
        self.consult_button.setText(translate("CallPanel", "Consult…"))
        self.consult_button.setAccessibleName(translate("CallPanel", "Hold the call and consult someone"))
        self.transfer_consulted_button.setText(translate("CallPanel", "Transfer to consulted"))
        self.transfer_consulted_button.setAccessibleName(
            translate("CallPanel", "Transfer the held call to the consulted party")
        )
        self.conference_button.setText(translate("CallPanel", "Conference"))
        self.conference_button.setAccessibleName(
            translate("CallPanel", "Join the held call and the consulted party in a conference")
        )
        self.hold_button.setAccessibleName(translate("CallPanel", "Hold or resume the call"))
        self.mute_button.setAccessibleName(translate("CallPanel", "Mute the microphone"))
        self.keypad_button.setAccessibleName(translate("CallPanel", "Show the keypad"))
        self.keypad.setAccessibleName(translate("CallPanel", "Keypad"))
        self.setAccessibleName(translate("CallPanel", "Call in progress"))
        self.refresh()

    def changeEvent(self, event: QEvent | None) -> None:
        if event is not None and event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
