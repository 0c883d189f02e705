"""The SIP lines of the embedded softphone, edited as a list (SET4, CARD1, CARD5): add, remove and
edit a line — label, registrar, user, authentication user, password, transport, default line and
whatever else a line has — instead of ``[[lines]]`` TOML.

The fields follow ``providers.sip.options.LineConfig``: a field added there (the TLS ones, the
voicemail address …) gets its editor here without a change — text, a whole number or a check box
by the field's type. Every edit runs the same validation the settings file gets
(``SipOptions.parse``); its complaint appears under the list and OK waits. Passwords are never
part of the line: each one goes to the system keyring under the line's name (``sip/USER@DOMAIN``,
``callsys.secretnames``) when the dialog saves. On save a line whose keyring name changed (a
new registrar, say) takes its stored password along, and a password no line uses any more (the
line was removed) is deleted from the keyring; Cancel touches neither the file nor the keyring.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from callsys.errors import CallsysError, ConfigError
from callsys.numbers import to_ascii_digits
from callsys.secretnames import sip_secret_names

from ui.i18n import ltr, translate
from ui.qt import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
    named,
    pyqtSignal,
)

__all__ = ["SipLinesEditor", "line_fields"]

log = logging.getLogger(__name__)

_ERROR_STYLE = "color: #c5221f;"
_HELP_STYLE = "color: #5f6368;"
#: The fields shown first, in this order; the others follow in ``LineConfig``'s order.
_FIRST = ("label", "registrar", "user", "auth_user", "password", "transport")


def _line_config() -> Any:
    from providers.sip.options import LineConfig  # Qt-free, no pjsua2: cheap to import

    return LineConfig


def line_fields() -> list[tuple[str, str, Any]]:
    """(name, type, default) of every field a SIP line has, in the order the editor shows them."""
    fields = {f.name: f for f in dataclasses.fields(_line_config())}
    order = [n for n in _FIRST if n in fields] + [n for n in fields if n not in _FIRST]
    out = []
    for name in order:
        f = fields[name]
        default = f.default if f.default is not dataclasses.MISSING else ""
        out.append((name, str(f.type), default))
    return out


def transports() -> tuple[str, ...]:
    """The transports a line may use, as the softphone's options declare them."""
    from providers.sip.options import TRANSPORTS

    return TRANSPORTS


def field_title(name: str) -> str:
    titles = {
        "label": translate("SipLines", "Label"),
        "registrar": translate("SipLines", "Registrar"),
        "user": translate("SipLines", "User"),
        "auth_user": translate("SipLines", "Authentication user"),
        "password": translate("SipLines", "Password"),
        "transport": translate("SipLines", "Transport"),
        "id": translate("SipLines", "Line id"),
        "domain": translate("SipLines", "Domain"),
        "proxy": translate("SipLines", "Outbound proxy"),
        "display_name": translate("SipLines", "Display name"),
        "reg_timeout": translate("SipLines", "Re-register every (seconds)"),
        "voicemail_uri": translate("SipLines", "Voicemail address"),
        "tls_verify": translate("SipLines", "Check the server's TLS certificate"),
        "tls_ca_file": translate("SipLines", "Trusted CA file (PEM)"),
        "tls_cert_file": translate("SipLines", "Client certificate (PEM)"),
        "tls_key_file": translate("SipLines", "Private key of the client certificate (PEM)"),
        "accept_only_from_server": translate("SipLines", "Take calls only from the registrar or proxy"),
        "srtp": translate("SipLines", "Encrypted audio (SRTP)"),
        "srtp_secure_signaling": translate("SipLines", "SRTP only with secure signalling"),
    }
    return titles.get(name, name.replace("_", " ").capitalize())


def _srtp_choices() -> list[tuple[Any, str]]:
    return [
        ("off", translate("SipLines", "Off")),
        ("optional", translate("SipLines", "Optional (plain audio too)")),
        ("mandatory", translate("SipLines", "Mandatory (refuse calls without it)")),
    ]


def _secure_signaling_choices() -> list[tuple[Any, str]]:
    return [
        (0, translate("SipLines", "No (keys also over UDP or TCP)")),
        (1, translate("SipLines", "TLS to the server")),
        (2, translate("SipLines", "TLS end to end (sips:)")),
    ]


#: Fields edited with a list of choices: (value as saved, what the list says)
_CHOICES: dict[str, Callable[[], list[tuple[Any, str]]]] = {
    "srtp": _srtp_choices,
    "srtp_secure_signaling": _secure_signaling_choices,
}


def field_hint(name: str) -> str:
    hints = {
        "registrar": translate(
            "SipLines", "sip:pbx.example.com — empty for a direct line that does not register"
        ),
        "auth_user": translate("SipLines", "Empty = the user"),
        "id": translate("SipLines", "Empty = USER@DOMAIN"),
        "domain": translate("SipLines", "Empty = the registrar's host"),
        "tls_ca_file": translate("SipLines", "Empty = the system's list"),
        "tls_cert_file": translate("SipLines", "Only for a server that asks for one"),
        "tls_key_file": translate("SipLines", "Empty = in the certificate file"),
        "voicemail_uri": translate("SipLines", "sip:*97@pbx.example.com, or *97"),
    }
    return hints.get(name, "")


def _secret_name(line: Mapping[str, Any]) -> str:
    """The keyring name of *line*'s password ("" for a line that does not register)."""
    names = sip_secret_names({"lines": [line]})
    return names[0][1] if names else ""


class SipLinesEditor(QWidget):
    """The list of SIP lines and the fields of the chosen one. ``changed`` after every edit."""

    changed = pyqtSignal()

    def __init__(
        self,
        lines: Sequence[Mapping[str, Any]],
        default_line: str = "",
        *,
        stored: Callable[[QLineEdit, str], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("sipLines")
        self.lines: list[dict[str, Any]] = [dict(line) for line in lines if isinstance(line, Mapping)]
        self.passwords: list[str] = ["" for _ in self.lines]
        #: each line's keyring name as loaded ("" for a line added here): a password follows its line
        self.origins: list[str] = [_secret_name(line) for line in self.lines]
        self.origins_loaded = frozenset(self.origins)
        #: ids of the lines removed here (a default line setting naming one is cleared)
        self.removed_ids: set[str] = set()
        self.default_index = next(
            (i for i, line in enumerate(self.lines) if default_line and self._id(line) == default_line), -1
        )
        self._stored = stored
        self._loading = False
        self._build()
        self._fill_list()
        self.list.setCurrentRow(0 if self.lines else -1)
        self._show_line()

    # ============================================================== building
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.list = named(QListWidget(), "sipLineList")
        self.list.setMaximumHeight(96)
        self.list.setAccessibleName(translate("SipLines", "SIP lines"))
        self.list.currentRowChanged.connect(lambda _row: self._show_line())
        top.addWidget(self.list, 1)
        buttons = QVBoxLayout()
        self.add_button = named(QPushButton(translate("SipLines", "&Add a line")), "sipLineAdd")
        self.remove_button = named(QPushButton(translate("SipLines", "Re&move the line")), "sipLineRemove")
        self.add_button.clicked.connect(self.add_line)
        self.remove_button.clicked.connect(self.remove_line)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        top.addLayout(buttons)
        outer.addLayout(top)

        self.details = QWidget()
        self.details.setObjectName("sipLineDetails")
        form = QFormLayout(self.details)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.editors: dict[str, QWidget] = {}
        self.kinds: dict[str, str] = {}
        for name, declared, _default in line_fields():
            title = field_title(name)
            widget: QWidget
            kind = declared
            if name == "password":
                edit = QLineEdit()
                edit.setEchoMode(QLineEdit.EchoMode.Password)
                edit.textChanged.connect(self._password_typed)
                widget, kind = edit, "password"
            elif name == "transport":
                combo = QComboBox()
                for choice in transports():
                    combo.addItem(choice.upper(), choice)
                combo.currentIndexChanged.connect(lambda _at, n=name: self._edited(n))
                widget, kind = combo, "choice"
            elif name in _CHOICES:
                combo = QComboBox()
                for value, text in _CHOICES[name]():
                    combo.addItem(text, value)
                combo.currentIndexChanged.connect(lambda _at, n=name: self._edited(n))
                widget, kind = combo, "choice"
            elif declared == "bool":
                box = QCheckBox(title)
                box.toggled.connect(lambda _on, n=name: self._edited(n))
                widget = box
            else:
                edit = QLineEdit()
                edit.textChanged.connect(lambda _t, n=name: self._edited(n))
                if field_hint(name):
                    edit.setPlaceholderText(field_hint(name))
                widget, kind = edit, "int" if declared == "int" else "str"
            widget.setObjectName("sipLine_" + name)
            widget.setAccessibleName(title)
            self.editors[name] = widget
            self.kinds[name] = kind
            if kind == "bool":
                form.addRow("", widget)
            else:
                label = QLabel(title + ":")
                label.setBuddy(widget)
                form.addRow(label, widget)
            if name == "password":
                self.secret_hint = named(QLabel(), "sipLineSecretHint")
                self.secret_hint.setStyleSheet(_HELP_STYLE)
                self.secret_hint.setWordWrap(True)
                form.addRow("", self.secret_hint)
        self.default_box = named(
            QCheckBox(translate("SipLines", "&Default line for outgoing calls")), "sipLineDefault"
        )
        self.default_box.setAccessibleName(translate("SipLines", "Default line for outgoing calls"))
        self.default_box.toggled.connect(self._default_toggled)
        form.addRow("", self.default_box)
        outer.addWidget(self.details)
        self.error = named(QLabel(), "sipLinesError")
        self.error.setStyleSheet(_ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        outer.addWidget(self.error)

    # ============================================================== the list
    @staticmethod
    def _id(line: Mapping[str, Any]) -> str:
        """The line's id as the phone computes it (``USER@HOST`` when none is set)."""
        try:
            return str(_line_config().parse(line, 0).id)
        except (ConfigError, TypeError, ValueError):
            return str(line.get("id") or line.get("user") or "")

    def title(self, index: int) -> str:
        line = self.lines[index]
        text = str(line.get("label") or line.get("id") or line.get("user") or "")
        text = text or translate("SipLines", "New line")
        if index == self.default_index:
            text += " " + translate("SipLines", "(default)")
        return text

    def _fill_list(self) -> None:
        row = self.list.currentRow()
        self.list.blockSignals(True)
        self.list.clear()
        for index in range(len(self.lines)):
            self.list.addItem(self.title(index))
        self.list.setCurrentRow(min(row, len(self.lines) - 1))
        self.list.blockSignals(False)
        self.remove_button.setEnabled(bool(self.lines))

    def add_line(self) -> None:
        self.lines.append({})
        self.passwords.append("")
        self.origins.append("")
        if self.default_index < 0 and len(self.lines) == 1:
            self.default_index = 0
        self._fill_list()
        self.list.setCurrentRow(len(self.lines) - 1)
        self._show_line()
        self.editors["label"].setFocus()
        self.changed.emit()

    def remove_line(self) -> None:
        at = self.list.currentRow()
        if not 0 <= at < len(self.lines):
            return
        self.removed_ids.add(self._id(self.lines[at]))
        del self.lines[at]
        del self.passwords[at]
        del self.origins[at]
        if self.default_index == at:
            self.default_index = -1
        elif self.default_index > at:
            self.default_index -= 1
        self._fill_list()
        self._show_line()
        self.changed.emit()

    # ============================================================== the chosen line
    def _show_line(self) -> None:
        at = self.list.currentRow()
        self.details.setEnabled(0 <= at < len(self.lines))
        line = self.lines[at] if 0 <= at < len(self.lines) else {}
        self._loading = True
        try:
            for name, _kind, default in line_fields():
                widget = self.editors[name]
                value = line.get(name, default)
                if isinstance(widget, QCheckBox):
                    widget.setChecked(bool(value))
                elif isinstance(widget, QComboBox):
                    wanted = value if isinstance(value, int) else str(value or default).lower()
                    found = widget.findData(wanted)
                    widget.setCurrentIndex(max(found, 0))
                elif isinstance(widget, QLineEdit):
                    if name == "password":
                        widget.setText(self.passwords[at] if 0 <= at < len(self.passwords) else "")
                    elif name in line:
                        widget.setText(str(value))
                    else:
                        widget.setText("")
            self.default_box.setChecked(at == self.default_index and at >= 0)
        finally:
            self._loading = False
        self._refresh_secret()

    def _edited(self, name: str) -> None:
        at = self.list.currentRow()
        if self._loading or not 0 <= at < len(self.lines):
            return
        line = self.lines[at]
        widget = self.editors[name]
        default = dict((n, d) for n, _k, d in line_fields()).get(name)
        if isinstance(widget, QCheckBox):
            if widget.isChecked() == default and name not in line:
                pass
            else:
                line[name] = widget.isChecked()
        elif isinstance(widget, QComboBox):
            value = widget.currentData()
            if value == default and name not in line:
                pass
            else:
                line[name] = value
        elif isinstance(widget, QLineEdit):
            text = widget.text().strip()
            if not text:
                line.pop(name, None)
            elif self.kinds[name] == "int":
                ascii_text = to_ascii_digits(text)
                line[name] = int(ascii_text) if re.fullmatch(r"-?\d+", ascii_text) else text
            else:
                line[name] = text
        self.list.blockSignals(True)
        item = self.list.item(at)
        if item is not None:
            item.setText(self.title(at))
        self.list.blockSignals(False)
        self._refresh_secret()
        self.changed.emit()

    def _password_typed(self, text: str) -> None:
        at = self.list.currentRow()
        if self._loading or not 0 <= at < len(self.passwords):
            return
        self.passwords[at] = text
        self.changed.emit()

    def _default_toggled(self, on: bool) -> None:
        at = self.list.currentRow()
        if self._loading or not 0 <= at < len(self.lines):
            return
        if on:
            self.default_index = at
        elif self.default_index == at:
            self.default_index = -1
        self._fill_list()
        self.changed.emit()

    def _refresh_secret(self) -> None:
        at = self.list.currentRow()
        line = self.lines[at] if 0 <= at < len(self.lines) else {}
        names = sip_secret_names({"lines": [line]})
        password = self.editors["password"]
        password.setEnabled(bool(names))
        if names:
            if self._stored is not None and isinstance(password, QLineEdit):
                self._stored(password, names[0][1])
            self.secret_hint.setText(
                translate(
                    "SettingsDialog", "Kept in the system keyring as “{name}”, never in the settings file."
                ).format(name=ltr(names[0][1]))
            )
        else:
            if isinstance(password, QLineEdit):
                password.setPlaceholderText(
                    translate("SipLines", "A direct line does not register: no password")
                )
            self.secret_hint.setText("")
        self.secret_hint.setVisible(bool(names))

    def set_lines(self, lines: Sequence[Mapping[str, Any]]) -> None:
        """Replace every line (the passwords typed so far are dropped with them)."""
        self.lines = [dict(line) for line in lines]
        self.passwords = ["" for _ in self.lines]
        self.origins = [_secret_name(line) for line in self.lines]
        self.default_index = -1
        self._fill_list()
        self.list.setCurrentRow(0 if self.lines else -1)
        self._show_line()

    def sync_default(self, line_id: str) -> None:
        """Mark the line *line_id* as the default one (typed into the default line setting)."""
        found = next((i for i, line in enumerate(self.lines) if line_id and self._id(line) == line_id), -1)
        if found != self.default_index:
            self.default_index = found
            self._fill_list()
            self._loading = True
            self.default_box.setChecked(found >= 0 and found == self.list.currentRow())
            self._loading = False

    # ============================================================== results
    def default_line(self) -> str:
        """The id of the line marked default ("" for none)."""
        if 0 <= self.default_index < len(self.lines):
            return self._id(self.lines[self.default_index])
        return ""

    def ids(self) -> list[str]:
        return [self._id(line) for line in self.lines]

    def value(self) -> list[dict[str, Any]]:
        return [dict(line) for line in self.lines]

    def check(self, options: Mapping[str, Any]) -> str:
        """The settings file's own validation of *options* with these lines ("" when valid)."""
        from providers.sip.options import SipOptions

        try:
            SipOptions.parse(options)
        except ConfigError as exc:
            match = re.search(r"lines\[(\d+)\]", exc.key or "")
            if match and self.list.currentRow() != int(match.group(1)):
                return translate("SipLines", "{why} (line “{line}”)").format(
                    why=str(exc), line=self.title(int(match.group(1)))
                )
            return str(exc)
        return ""

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def secret_names(self) -> set[str]:
        """The keyring names the lines use now."""
        return {name for name in map(_secret_name, self.lines) if name}

    def moved_secrets(self) -> dict[str, str]:
        """Old keyring name → new one, for each line whose name changed (a new registrar, user or
        domain) without a new password typed: the stored password goes with the line."""
        now = self.secret_names()
        out: dict[str, str] = {}
        for line, origin, password in zip(self.lines, self.origins, self.passwords, strict=True):
            name = _secret_name(line)
            if origin and name and name != origin and not password and origin not in now:
                out.setdefault(origin, name)
        return out

    def unused_secrets(self) -> set[str]:
        """Keyring names of the lines as loaded that no line uses any more (removed, moved)."""
        return {origin for origin in self.origins_loaded if origin} - self.secret_names()

    def tidy_keyring(self) -> None:
        """After saving (SET4): a line whose keyring name changed takes its stored password along,
        and passwords no line uses any more leave the keyring — a removed line's password does not
        linger. A keyring that refuses is logged: the settings are saved already."""
        from callsys.secrets import delete_secret, get_secret, set_secret

        moved = self.moved_secrets()
        for old, new in moved.items():
            try:
                value = get_secret(old)
                if value and not get_secret(new):
                    set_secret(new, value)
            except CallsysError as exc:
                log.warning("could not move the password %s to %s: %s", old, new, exc)
        for name in sorted(self.unused_secrets() | set(moved)):
            try:
                delete_secret(name)
            except CallsysError as exc:
                log.warning("could not remove the unused password %s: %s", name, exc)

    def typed_secrets(self) -> dict[str, str]:
        """Keyring name → the password typed for each registering line."""
        out: dict[str, str] = {}
        for line, password in zip(self.lines, self.passwords, strict=True):
            names = sip_secret_names({"lines": [line]})
            if password and names:
                out[names[0][1]] = password
        return out
