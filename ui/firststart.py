"""What the phone really is (issue 11, defect 5): the status bar's words, and the panel a first
start shows.

The status names the real state — "Registered as 1001@pbx.example.com", "No line · direct calls
on sip:callsys@127.0.0.1:5060 (this computer only)" — instead of a green "Phone ready" for a
phone nobody configured. A first start (no settings file yet) shows a panel above the dial field
that says what is and offers the three next steps: add a line, connect to Asterisk or a callsys
server, try the simulator.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from callsys.provider import DirectSipCalls, KeepsOptions, Provider, ProviderStatus, Registration
from callsys.settings import PHONE_PROVIDER, PROVIDER_OPTIONS
from providers.sip.options import SipOptions

from ui.i18n import ltr, para, translate
from ui.qt import QEvent, QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, named

if TYPE_CHECKING:
    from ui.window import WindowBase

__all__ = ["FirstStartPanel", "PhoneState", "phone_state"]

GREEN, AMBER, RED, GREY, BLUE = "#188038", "#f9ab00", "#c5221f", "#9aa0a6", "#1a73e8"


@dataclass(frozen=True, slots=True)
class PhoneState:
    text: str
    colour: str
    #: The built-in phone's direct address (``sip:callsys@127.0.0.1:5060``), "" when none.
    direct: str = ""
    #: Direct calls reach it from this computer only.
    local_only: bool = True
    #: No line is configured (the built-in phone runs as its default direct line).
    no_line: bool = False


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def _direct_address(provider: object, options: SipOptions) -> str:
    if not isinstance(provider, DirectSipCalls):
        return ""
    try:
        host, port = provider.listen_address()
    except Exception:  # not running
        return ""
    line = next((ln for ln in options.lines if ln.direct), None)
    if line is None:
        return ""
    shown = f"[{host}]" if ":" in host else host
    return f"sip:{line.user}@{shown}:{port}"


def phone_state(
    provider: Provider | None, status: ProviderStatus | None, configured_options: Any
) -> PhoneState:
    """The words and colour for the status bar. *configured_options*: ``phone.options`` as the
    settings have them (a built-in phone without ``lines`` there has no line yet)."""
    registration = status.registration if status is not None else Registration.DISABLED
    if registration is Registration.DISABLED:
        return PhoneState(translate("MainWindow", "No phone connection"), GREY)
    if registration is Registration.CONNECTING:
        return PhoneState(translate("MainWindow", "Connecting to the phone system…"), AMBER)
    if registration is Registration.OFFLINE:
        return PhoneState(translate("MainWindow", "Phone offline"), RED)
    options = provider.options if isinstance(provider, KeepsOptions) else None
    if status is None or not isinstance(options, SipOptions):
        return PhoneState(translate("MainWindow", "Phone ready"), GREEN)
    registered = [
        options.line(line.id)
        for line in status.lines
        if line.registration is Registration.ONLINE
        and any(ln.id == line.id and not ln.direct for ln in options.lines)
    ]
    direct = _direct_address(provider, options)
    local_only = not direct or _is_loopback(direct.rsplit("@", 1)[-1].rsplit(":", 1)[0])
    lines = configured_options.get("lines") if isinstance(configured_options, dict) else None
    no_line = not lines
    if registered:
        first = registered[0]
        text = translate("MainWindow", "Registered as {account}").format(
            account=ltr(f"{first.user}@{first.domain}")
        )
        if len(registered) > 1:
            text += " " + translate("MainWindow", "(+{count} more lines)").format(count=len(registered) - 1)
        return PhoneState(text, GREEN, direct, local_only, no_line)
    if not direct:
        return PhoneState(translate("MainWindow", "Phone ready"), GREEN)
    address = ltr(direct)
    if no_line and local_only:
        text = translate("MainWindow", "No line · direct calls on {address} (this computer only)")
    elif no_line:
        text = translate("MainWindow", "No line · direct calls on {address} (reachable from the network)")
    elif local_only:
        text = translate("MainWindow", "Direct calls on {address} (this computer only)")
    else:
        text = translate("MainWindow", "Direct calls on {address} (reachable from the network)")
    text = text.format(address=address)
    return PhoneState(text, BLUE if local_only else AMBER, direct, local_only, no_line)


class FirstStartPanel(QFrame):
    """Above the dial field on a first start: what the phone is now, and three ways on."""

    def __init__(self, window: WindowBase) -> None:
        super().__init__(window)
        self._window = window
        self.setObjectName("firstStart")
        self.setStyleSheet(
            "#firstStart { background: #e8f0fe; border: 1px solid #aecbfa; border-radius: 8px; }"
            "QLabel#firstStartTitle { font-size: 13pt; font-weight: bold; }"
        )
        self.title = named(QLabel(), "firstStartTitle")
        self.text = named(QLabel(), "firstStartText")
        self.text.setWordWrap(True)
        self.add_line_button = named(QPushButton(), "firstStartAddLine")
        self.add_line_button.clicked.connect(lambda: window.open_settings("phone", focus="add_line"))
        self.connect_button = named(QPushButton(), "firstStartConnect")
        self.connect_button.clicked.connect(lambda: window.open_settings("phone", focus="provider"))
        self.sim_button = named(QPushButton(), "firstStartSimulator")
        self.sim_button.clicked.connect(window.try_simulator)
        self.close_button = named(QToolButton(), "firstStartClose")
        self.close_button.setText("✕")
        self.close_button.clicked.connect(self.hide)

        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.close_button)
        buttons = QHBoxLayout()
        for button in (self.add_line_button, self.connect_button, self.sim_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.addLayout(head)
        column.addWidget(self.text)
        column.addLayout(buttons)
        self.hide()
        self.retranslate()

    def refresh(self) -> None:
        window = self._window
        desktop = window.desktop
        provider = desktop.provider
        state = phone_state(provider, window.provider_status, desktop.settings[PROVIDER_OPTIONS])
        running_sim = provider is not None and provider.name == "sim"
        if running_sim:
            now = translate(
                "FirstStart",
                "The simulator is running: it rings with made-up callers; no real phone is connected.",
            )
        elif state.direct and state.local_only:
            now = translate(
                "FirstStart",
                "No phone line is set up yet. The built-in phone takes direct SIP calls at {address} — "
                "from this computer only (to take them from the network: {setting} in the phone "
                "options, Settings → Phone & lines).",
            ).format(
                address=ltr(state.direct), setting=ltr("reachable\u00a0=\u00a0true")
            )  # one unbroken piece
        elif state.direct:
            now = translate(
                "FirstStart",
                "No phone line is set up yet. The built-in phone takes direct SIP calls at {address} "
                "from the network, without a password.",
            ).format(address=ltr(state.direct))
        else:
            now = translate("FirstStart", "No phone line is set up yet, and the phone cannot take calls.")
        self.text.setText(para(now))
        self.sim_button.setVisible(not running_sim and "sim" in desktop.registry.names())
        connected = str(desktop.settings[PHONE_PROVIDER])
        self.connect_button.setToolTip(
            translate("FirstStart", "Now: {provider}").format(provider=connected) if connected else ""
        )

    def retranslate(self) -> None:
        self.title.setText(translate("FirstStart", "Welcome to callsys"))
        self.add_line_button.setText(translate("FirstStart", "Add a line"))
        self.add_line_button.setAccessibleName(
            translate("FirstStart", "Add a SIP line: opens Settings on the phone lines")
        )
        self.connect_button.setText(translate("FirstStart", "Connect to Asterisk or a callsys server"))
        self.sim_button.setText(translate("FirstStart", "Try the simulator"))
        self.close_button.setAccessibleName(translate("FirstStart", "Hide the welcome panel"))
        self.close_button.setToolTip(self.close_button.accessibleName())
        self.setAccessibleName(translate("FirstStart", "First start"))
        if self.isVisible():
            self.refresh()

    def changeEvent(self, event: QEvent | None) -> None:
        if event is not None and event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
