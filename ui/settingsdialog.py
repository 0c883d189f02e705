"""The Settings dialog: every setting of ``callsys.settings.OPTIONS``, grouped in tabs, validated as
you type; passwords go to the system keyring, never into the file; "Test connection" for the phone
system and the CRM (B6, SET1, SET3, SET4, IN13, CARD5).

The dialog builds itself from the declarations — a setting another part of callsys declares
tomorrow gets its field without a change here. The editor follows the type of the default value:

* ``bool`` → a check box;
* ``int`` → a text field that takes Persian digits too (``۱۲`` is 12);
* a setting with ``choices`` (and the phone connection, from the provider registry) → a list;
* ``str`` → a text field (digits-only fields such as the prefix accept Persian digits as well);
* tables and lists → a small TOML editor (``key = "value"`` lines, ``[[name]]`` sections).

Every edit runs the option's own parser; its complaint appears under the field in red, the tab
gets a warning sign, and OK stays disabled until every field is valid. OK writes the file with
``Settings.save()`` (temporary file + rename) and stores any typed password with
``callsys.secrets.set_secret`` (the keyring names are shown next to the fields, see
``sip_secret_names`` / ``ami_secret_name`` / ``server_token_name`` / ``DYNAMICS_SECRET``).
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import tomli_w

from callsys.checks import probe_provider, sign_in
from callsys.errors import CallsysError, ConfigError
from callsys.numbers import to_ascii_digits
from callsys.provider import Line, ProviderRegistry, Registration
from callsys.secretnames import (
    DYNAMICS_SECRET,
    ami_secret_name,
    provider_secret_name,
    server_token_name,
    sip_secret_names,
    with_secrets,
)
from callsys.secrets import get_secret, set_secret
from callsys.settings import (
    CRM_BACKEND,
    DEFAULT_LINE,
    HOTKEY_ANSWER,
    HOTKEYS_GLOBAL,
    HOTKEYS_GLOBAL_ACTIONS,
    OPTIONS,
    PHONE_PROVIDER,
    PROVIDER_OPTIONS,
    Layer,
    Option,
    Settings,
)

from ui.audiosettings import AUDIO_DEVICE_KEYS, AudioPage
from ui.hotkeys import ACTIONS, action_title
from ui.i18n import isolate, ltr, translate
from ui.keyfield import KeyField
from ui.qt import (
    QCheckBox,
    QComboBox,
    QDesktopServices,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QKeySequence,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    Qt,
    QTabWidget,
    QUrl,
    QVBoxLayout,
    QWidget,
    named,
    pyqtSignal,
)
from ui.siplines import SipLinesEditor
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from callsys.session import CallSession

__all__ = [
    "DYNAMICS_SECRET",
    "SettingsDialog",
    "ami_secret_name",
    "check_crm",
    "check_phone",
    "provider_secret_name",
    "server_token_name",
    "sip_secret_names",
]

log = logging.getLogger(__name__)


#: The widest a field's title gets before it wraps (pixels).
LABEL_WIDTH = 240

#: Where the list of SIP lines reports a problem (not a setting of its own: part of phone.options).
LINES_KEY = "phone.options.lines"

#: Tabs in this order; groups nobody listed here come after them, in the order declared.
GROUP_ORDER = ("phone", "numbers", "logging", "crm", "server", "hotkeys", "audio", "appearance", "advanced")

#: The example shown in the empty "Provider options" field, by phone connection (TOML; the SIP
#: lines have a list of their own, the passwords go to the keyring).
PROVIDER_EXAMPLES = {
    "sip": 'listen_port = 5060\nuser = "callsys"\nring_timeout = 120',
    "ami": 'host = "pbx.example.com"\nport = 5038\nusername = "callsys"\nextensions = ["1001"]',
    "server": 'agent = "sara"\nextensions = ["1001"]',
    "sim": "speed = 1.0\nagent_script = true",
}

#: Settings the running window takes only when it starts: the CRM connection, the database, and
#: the default country the directory and the phone index are keyed by. Changed here, the field
#: says so; every other setting applies when OK is pressed.
RESTART_KEYS = ("numbers.region", "storage.database")
RESTART_PREFIXES = ("crm.",)


def needs_restart(key: str) -> bool:
    return key in RESTART_KEYS or key.startswith(RESTART_PREFIXES)


_ERROR_STYLE = "color: #c5221f;"
_HELP_STYLE = "color: #5f6368;"
_WARNING_STYLE = "color: #b06000;"  # a key the phone connection ignores: shown, OK still saves


def group_title(group: str) -> str:
    titles = {
        "phone": translate("SettingsDialog", "Phone & lines"),
        "numbers": translate("SettingsDialog", "Numbers & prefix"),
        "logging": translate("SettingsDialog", "Logging rules"),
        "crm": translate("SettingsDialog", "CRM"),
        "server": translate("SettingsDialog", "Server"),
        "appearance": translate("SettingsDialog", "Language & appearance"),
        "advanced": translate("SettingsDialog", "Advanced"),
        "hotkeys": translate("SettingsDialog", "Hotkeys"),
        "audio": translate("SettingsDialog", "Audio"),
    }
    return titles.get(group, group.replace("_", " ").capitalize())


def expectation(text: str) -> str:
    """A parser's "what was expected", in the reader's language where we know the wording."""
    match = re.fullmatch(r"a whole number from (-?\d+) to (-?\d+)", text)
    if match:
        return translate("SettingsDialog", "a whole number from {low} to {high}").format(
            low=match.group(1), high=match.group(2)
        )
    known = {
        "true or false": translate("SettingsDialog", "true or false"),
        "text": translate("SettingsDialog", "text"),
        "a URL": translate("SettingsDialog", "a URL"),
        "an http(s):// or ws(s):// URL": translate("SettingsDialog", "an http(s):// or ws(s):// URL"),
        "a whole number": translate("SettingsDialog", "a whole number"),
        "up to 6 digits, * or #": translate("SettingsDialog", "up to 6 digits, * or #"),
        "up to 5 digits, without the leading 0": translate(
            "SettingsDialog", "up to 5 digits, without the leading 0"
        ),
        'a key combination such as "Ctrl+Shift+A" (or empty for none)': translate(
            "SettingsDialog", 'a key combination such as "Ctrl+Shift+A" (or empty for none)'
        ),
        'a two-letter country code such as "IR", "DE" or "US"': translate(
            "SettingsDialog", 'a two-letter country code such as "IR", "DE" or "US"'
        ),
    }
    return known.get(text, text)


def _tab_text(title: str) -> str:
    """A title as a tab label: "&" is shown, not taken as a keyboard mnemonic."""
    return title.replace("&", "&&")


def locked_text(layer: Layer) -> str:
    """Who locked a setting, for the greyed field: the organisation's installer or this
    computer's administrator, and the file."""
    path = ltr(str(layer.path)) if layer.path is not None else ""
    if layer.name == "organisation":
        return translate(
            "SettingsDialog", "Set by your organisation's installer; it cannot be changed here ({path})."
        ).format(path=path)
    if layer.name == "server":
        return translate(
            "SettingsDialog", "Set by the callsys server; it cannot be changed here ({path})."
        ).format(path=ltr(layer.describe_source()))
    return translate(
        "SettingsDialog", "Set by this computer's administrator; it cannot be changed here ({path})."
    ).format(path=path)


def choice_title(key: str, value: str) -> str:
    """How a choice is shown (the stored value stays the technical one)."""
    titles = {
        ("ui.language", "auto"): translate("SettingsDialog", "Same as the system"),
        ("ui.language", "en"): "English",
        ("ui.language", "fa"): "فارسی",
        ("ui.calendar", "gregorian"): translate("SettingsDialog", "Gregorian"),
        ("ui.calendar", "jalali"): translate("SettingsDialog", "Jalali (Persian)"),
        ("crm.backend", "local"): translate("SettingsDialog", "Built-in directory"),
        ("crm.backend", "dynamics"): "Microsoft Dynamics 365",
        ("crm.auth", "interactive"): translate("SettingsDialog", "Sign in with the browser"),
        ("crm.auth", "device_code"): translate("SettingsDialog", "Sign in with a code"),
        ("crm.auth", "client_secret"): translate("SettingsDialog", "Application with a client secret"),
        ("crm.auth", "certificate"): translate("SettingsDialog", "Application with a certificate"),
        ("crm.auth", "command"): translate("SettingsDialog", "Token from a command"),
        ("crm.auth", "env"): translate("SettingsDialog", "Token from an environment variable"),
        ("phone.provider", "sim"): translate("SettingsDialog", "Simulated phone system (demo)"),
        ("phone.provider", "sip"): translate("SettingsDialog", "Embedded softphone (SIP, up to 4 calls)"),
        ("phone.provider", "server"): translate(
            "SettingsDialog", "callsys server (calls and logging from a central server)"
        ),
        ("phone.provider", "tapi"): translate(
            "SettingsDialog", "Desk phone through Windows telephony (TAPI)"
        ),
        ("updates.mode", "auto"): translate("SettingsDialog", "Download signed updates; install on restart"),
        ("updates.mode", "system"): translate("SettingsDialog", "From the system's package manager"),
        ("updates.mode", "off"): translate("SettingsDialog", "Off"),
    }
    return titles.get((key, value), value)


# ------------------------------------------------------------------------------ connection checks
#: How the softphone describes a direct line that is up ("direct on 0.0.0.0:5060").
_DIRECT = re.compile(r"direct on (?P<address>\S+)")


def describe_online(lines: Sequence[Line]) -> str:
    """The verdict on a connection that came up, line by line: a registered line is connected
    to its registrar; a direct line has none to connect to — it takes calls where it listens."""
    direct = [(line, _DIRECT.fullmatch(line.detail)) for line in lines]
    if not any(match for _, match in direct):
        names = ", ".join(line.label or line.id for line in lines)
        text = translate("SettingsDialog", "Connected to the phone system.")
        if names:
            text += " " + translate("SettingsDialog", "Lines: {lines}.").format(lines=names)
        return text
    parts = []
    for line, match in direct:
        name = isolate(line.label or line.id)
        if match:
            parts.append(
                translate(
                    "SettingsDialog",
                    "“{line}” is a direct line: it needs no registrar, and the phone takes its calls on {address}.",
                ).format(line=name, address=ltr(match.group("address")))
            )
        elif line.registration is Registration.ONLINE:
            parts.append(translate("SettingsDialog", "“{line}” is registered.").format(line=name))
        else:
            parts.append(
                translate("SettingsDialog", "“{line}” is not registered: {why}").format(
                    line=name, why=line.detail or line.registration.value
                )
            )
    return " ".join(parts)


async def check_phone(
    settings: Settings, registry: ProviderRegistry, typed: Mapping[str, str], timeout: float = 10.0
) -> str:
    """Start the configured provider on its own, wait for its verdict, stop it. Returns a sentence;
    raises ``CallsysError`` (with a readable message) when it cannot connect."""
    name = settings[PHONE_PROVIDER]
    options = with_secrets(name, settings.get(PROVIDER_OPTIONS.key), typed)
    provider = registry.create(name, options)
    answered, status = await probe_provider(provider, timeout)
    if not answered or status is None:
        raise CallsysError(
            translate("SettingsDialog", "No answer from the phone system within {seconds} seconds.").format(
                seconds=int(timeout)
            )
        )
    detail = status.message or ", ".join(
        f"{line.label or line.id}: {line.detail}" for line in status.lines if line.detail
    )
    if status.registration is Registration.ONLINE:
        return describe_online(status.lines)
    raise CallsysError(
        translate("SettingsDialog", "The phone system did not accept the connection: {why}").format(
            why=detail or status.registration.value
        )
    )


async def check_crm(settings: Settings, *, transport: Any = None) -> str:
    """Sign in to the configured CRM and ask who we are. Returns a sentence or raises.
    *transport* (an httpx transport) is for tests against the Dataverse fake."""
    if settings[CRM_BACKEND] == "local":
        return translate("SettingsDialog", "The built-in directory needs no connection.")
    from callsys.store import open_database

    db = open_database(":memory:")
    try:
        user = await sign_in(settings, db, transport=transport)
    finally:
        db.conn.close()
    if user is not None:
        return translate("SettingsDialog", "Connected to Dynamics 365 (user {user}).").format(user=user)
    return translate("SettingsDialog", "Connected to the CRM.")


PhoneCheck = Callable[[Settings, Mapping[str, str]], Awaitable[str]]
CrmCheck = Callable[[Settings], Awaitable[str]]


# ------------------------------------------------------------------------------ fields
@dataclass
class _Field:
    option: Option[Any]
    widget: QWidget
    error: QLabel
    group: str
    kind: str  # bool | int | choice | text | toml

    def raw(self) -> object:
        w = self.widget
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, QPlainTextEdit):
            return w.toPlainText()
        if isinstance(w, QKeySequenceEdit):
            return w.keySequence().toString(QKeySequence.SequenceFormat.PortableText)
        if isinstance(w, QListWidget):  # a list of actions to tick
            return [
                item.data(Qt.ItemDataRole.UserRole)
                for item in (w.item(row) for row in range(w.count()))
                if item is not None and item.checkState() == Qt.CheckState.Checked
            ]
        assert isinstance(w, QLineEdit)
        return w.text()

    def parse(self) -> Any:
        """The typed value, or ``ValueError`` saying what was expected."""
        option, raw = self.option, self.raw()
        if self.kind == "int":
            text = to_ascii_digits(str(raw)).strip()
            try:
                number = int(text)
            except ValueError:
                option.parse(text)  # raises with the option's own expectation
                raise ValueError("a whole number") from None
            return option.parse(number)
        if self.kind == "float":
            text = to_ascii_digits(str(raw)).strip().replace("٫", ".")
            try:
                real = float(text)
            except ValueError:
                option.parse(text)
                raise ValueError("a number") from None
            return option.parse(real)
        if self.kind == "value":
            try:
                value = tomllib.loads("v = " + str(raw))["v"] if str(raw).strip() else ""
            except tomllib.TOMLDecodeError:
                value = str(raw)
            return option.parse(value)
        if self.kind == "toml":
            value = _from_toml(option, str(raw))
            secret = next(_secret_keys(value), None)
            if secret is not None:
                raise ValueError(
                    translate(
                        "SettingsDialog",
                        "no password here (“{key}”): passwords go in the password fields, which keep them in the system keyring",
                    ).format(key=secret)
                )
            return option.parse(value)
        if self.kind == "text":
            try:
                return option.parse(raw)
            except (ValueError, TypeError):
                ascii_text = to_ascii_digits(str(raw))
                if ascii_text == raw:
                    raise
                return option.parse(ascii_text)  # ۰۹ as 09 where only digits fit
        return option.parse(raw)


_SECRET_KEY = re.compile(r"(^|_)(password|passwd|secret|client_secret|token|api_key)$", re.I)


def _secret_keys(value: object, prefix: str = "") -> Iterator[str]:
    """Keys of *value* (nested tables and lists) that hold a secret — refused like the file does."""
    if isinstance(value, Mapping):
        for name, item in value.items():
            key = f"{prefix}{name}"
            if isinstance(item, Mapping | list | tuple):
                yield from _secret_keys(item, key + ".")
            elif _SECRET_KEY.search(str(name)) and item not in ("", None):
                yield key
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _secret_keys(item, prefix)


def _say(label: QLabel, text: str) -> None:
    label.setText(text)
    label.show()


def _value_toml(value: Any) -> str:
    """One value as TOML text (``2024-01-01``, ``"text"``, ``1.5``)."""
    try:
        return tomli_w.dumps({"v": value})[4:].strip()
    except (TypeError, ValueError):
        return str(value)


def _to_toml(option: Option[Any], value: Any) -> str:
    if isinstance(value, Mapping):
        return tomli_w.dumps(dict(value)) if value else ""
    items = list(value)
    return tomli_w.dumps({option.name: items}) if items else ""


def _from_toml(option: Option[Any], text: str) -> object:
    is_map = isinstance(option.default, Mapping)
    if not text.strip():
        return {} if is_map else []
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"TOML ({exc})") from None
    if is_map:
        return doc
    extra = set(doc) - {option.name}
    if extra:
        raise ValueError(f'only "{option.name} = [...]" or [[{option.name}]] sections')
    return doc.get(option.name, [])


class SettingsDialog(QDialog):
    """Edit *settings* and save them. ``saved`` carries the keys whose value changed.

    *session*: the running call session, if any — its provider registry (unless *registry* is
    given), and its phone, which answers "Test connection" for the options it runs with (one
    softphone per process)."""

    saved = pyqtSignal(list)

    def __init__(
        self,
        settings: Settings,
        parent: QWidget | None = None,
        *,
        registry: ProviderRegistry | None = None,
        session: CallSession | None = None,
        phone_check: PhoneCheck | None = None,
        crm_check: CrmCheck | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.settings = settings
        self.session = session
        if registry is None and session is not None:
            registry = session.registry
        if registry is None:
            from providers import REGISTRY

            registry = REGISTRY
        self.registry = registry
        self._phone_check = phone_check or self._check_phone
        self._crm_check = crm_check or check_crm
        self.tasks = TaskRunner(lambda text: None)
        self.fields: dict[str, _Field] = {}
        self._ami_name = ""
        self._stored: dict[str, bool] = {}  # keyring name → a secret is stored
        self._pages: dict[str, int] = {}
        self._restart_notes: dict[str, QLabel] = {}  # key → "applies when callsys starts again"
        self._provider_shown = str(settings[PHONE_PROVIDER])
        #: provider → its options as they were when another one was chosen (restored if it is
        #: chosen again while the dialog is open; only the chosen provider's options are saved)
        self._set_aside: dict[str, dict[str, Any]] = {}
        self._syncing = False
        self.audio_page: AudioPage | None = None  # the Audio tab's, built after the phone's tab
        self._build()
        self.setWindowTitle(translate("SettingsDialog", "Settings"))
        self.validate()
        self.resize(760, 600)

    # ============================================================== building
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.addWidget(self._build_unreadable())
        self.tabs = named(QTabWidget(), "settingsTabs")
        self.tabs.setAccessibleName(translate("SettingsDialog", "Setting groups"))
        bar = self.tabs.tabBar()
        if bar is not None:
            bar.setAccessibleName(translate("SettingsDialog", "Setting groups"))
            bar.setUsesScrollButtons(False)  # every tab in sight (Persian titles and ⚠ are wider)
        outer.addWidget(self.tabs, 1)

        groups: dict[str, list[Option[Any]]] = {g: [] for g in GROUP_ORDER}
        for option in OPTIONS.values():
            if option.group == "daemon":  # the server's own settings: not the desktop's business
                continue
            groups.setdefault(option.group, []).append(option)
        self.forms: dict[str, QFormLayout] = {}
        for group, options in groups.items():
            if not options and group != "audio":  # audio: the softphone's devices, always
                continue
            page = QWidget()
            page.setObjectName(f"settingsPage_{group}")
            column = QVBoxLayout(page)
            form = QFormLayout()
            column.addLayout(form)
            column.addStretch(1)  # rows keep their height; the space left goes below them
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            self.forms[group] = form
            for option in options:
                self._add_field(form, option, group)
            if group == "phone":
                self._add_phone_extras(form)
            elif group == "crm":
                self._add_crm_extras(form)
            elif group == "hotkeys":
                self._add_global_hotkeys_note(form)
            elif group == "audio":
                column.insertWidget(1, self._add_audio_page())
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(page)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the fields; it scrolls to them
            self._pages[group] = self.tabs.addTab(scroll, _tab_text(group_title(group)))

        self.problem_label = named(QLabel(), "settingsProblem")
        self.problem_label.setStyleSheet(_ERROR_STYLE)
        self.problem_label.setWordWrap(True)
        self.problem_label.hide()
        outer.addWidget(self.problem_label)
        self.path_label = named(QLabel(), "settingsPath")
        self.path_label.setStyleSheet(_HELP_STYLE)
        self.path_label.setWordWrap(True)
        if self.settings.path is not None:
            self.path_label.setText(
                translate("SettingsDialog", "Saved in {path}").format(path=ltr(str(self.settings.path)))
            )
        outer.addWidget(self.path_label)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert ok is not None
        self.ok_button = ok
        self.ok_button.setObjectName("settingsOk")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)

    def _add_audio_page(self) -> AudioPage:
        """The softphone's microphone, speaker and ringer (``phone.options.audio``), chosen by
        name, with a test tone and a microphone test."""
        options = self.settings[PROVIDER_OPTIONS]
        audio = options.get("audio") if self.settings[PHONE_PROVIDER] == "sip" else None
        self.audio_page = AudioPage(audio if isinstance(audio, Mapping) else None)
        return self.audio_page

    def _build_unreadable(self) -> QFrame:
        """Above the tabs, when the settings file could not be read: why, and the ways on — open
        the file (to fix it in the user's editor), open its folder, or start from the defaults
        (on OK a copy of the file is kept first). Until one is chosen, OK writes nothing."""
        panel = named(QFrame(), "settingsUnreadable")
        panel.setStyleSheet(
            "#settingsUnreadable { background: #fef7e0; border: 1px solid #f9ab00; border-radius: 6px; }"
        )
        column = QVBoxLayout(panel)
        self.unreadable_text = named(QLabel(), "settingsUnreadableText")
        self.unreadable_text.setWordWrap(True)
        column.addWidget(self.unreadable_text)
        # The file and the reason (the parser's words, in English) are left to right in every
        # language, each on a line of its own, selectable: a path inside a Persian sentence
        # is laid out in the sentence's direction.
        self.unreadable_path = self._ltr_label("settingsUnreadablePath")
        self.unreadable_why = self._ltr_label("settingsUnreadableWhy")
        column.addWidget(self.unreadable_path)
        column.addWidget(self.unreadable_why)
        row = QHBoxLayout()
        self.open_file_button = named(
            QPushButton(translate("SettingsDialog", "Open the file")), "settingsOpenFile"
        )
        self.open_file_button.clicked.connect(lambda: self._open_path(False))
        self.open_folder_button = named(
            QPushButton(translate("SettingsDialog", "Open its folder")), "settingsOpenFolder"
        )
        self.open_folder_button.clicked.connect(lambda: self._open_path(True))
        self.start_over = named(
            QCheckBox(translate("SettingsDialog", "Start from the defaults (a copy of the file is kept)")),
            "settingsStartOver",
        )
        self.start_over.setAccessibleName(self.start_over.text())
        self.start_over.toggled.connect(self._start_over_toggled)
        row.addWidget(self.open_file_button)
        row.addWidget(self.open_folder_button)
        row.addWidget(self.start_over)  # as wide as its text: a click beside it does nothing
        row.addStretch(1)
        column.addLayout(row)
        self.start_over_note = named(QLabel(), "settingsStartOverNote")
        self.start_over_note.setWordWrap(True)
        self.start_over_note.hide()
        column.addWidget(self.start_over_note)
        self.start_over_copy = self._ltr_label("settingsStartOverCopy")
        self.start_over_copy.hide()
        column.addWidget(self.start_over_copy)
        self.unreadable = panel
        self._show_unreadable(self.settings.load_error)
        return panel

    def _show_unreadable(self, why: str | None) -> None:
        path = self.settings.path
        self.unreadable.setVisible(bool(why) and path is not None)
        if not why or path is None:
            return
        self.unreadable_text.setText(
            translate(
                "SettingsDialog",
                "The settings file could not be read, so the fields below show the defaults, not "
                "your settings. Nothing is written over the file until you fix it or choose to "
                "start from the defaults.",
            )
            + " "
            + translate(
                "SettingsDialog", "Once it is fixed, start callsys again: it reads the file when it starts."
            )
        )
        self.unreadable_path.setText(str(path))
        self.unreadable_why.setText(why)
        self.open_file_button.setEnabled(path.exists())
        self.unreadable.setAccessibleDescription(
            "\n".join((self.unreadable_text.text(), ltr(str(path)), isolate(why)))
        )

    @staticmethod
    def _ltr_label(name: str) -> QLabel:
        label = named(QLabel(), name)
        label.setWordWrap(True)
        label.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignAbsolute)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def _open_path(self, folder: bool) -> None:
        """The unreadable file in the user's editor (or its folder in the file manager)."""
        path = self.settings.path
        if path is None:
            return
        target = path.parent if folder else path
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(target))):
            self._problem_text(
                translate("SettingsDialog", "No program opened {path}.").format(path=ltr(str(target)))
            )

    def _start_over_toggled(self, on: bool) -> None:
        path = self.settings.path
        name = f"{path.name}.broken-YYYYmmdd-HHMMSS" if path is not None else ""
        self.start_over_note.setText(
            translate(
                "SettingsDialog",
                "OK first keeps a copy of the file in the same folder, then saves the settings shown here:",
            )
        )
        self.start_over_copy.setText(name)
        self.start_over_note.setVisible(on)
        self.start_over_copy.setVisible(on)
        self.validate()

    def _may_write(self) -> bool:
        """Whether OK may write the file: it was read, or the agent chose to start over."""
        return not self.settings.load_error or self.start_over.isChecked()

    def _add_field(self, form: QFormLayout, option: Option[Any], group: str) -> None:
        title = translate("Settings", option.title)
        value = self.settings[option]
        default = option.default
        widget: QWidget
        if isinstance(default, bool):
            box = QCheckBox()
            box.setChecked(bool(value))
            box.toggled.connect(self.validate)
            widget, kind = box, "bool"
        elif isinstance(default, int | float):
            edit = QLineEdit(str(value))
            edit.textChanged.connect(self.validate)
            widget, kind = edit, "int" if isinstance(default, int) else "float"
        elif option.key == PHONE_PROVIDER.key or option.choices is not None:
            combo = QComboBox()
            choices = (
                tuple(self.registry.names()) if option.key == PHONE_PROVIDER.key else option.choices
            ) or ()
            for choice in choices:
                if option.key == PHONE_PROVIDER.key:
                    known = choice_title(option.key, choice)
                    text = f"{choice} — {self.registry.title(choice) if known == choice else known}"
                else:
                    text = choice_title(option.key, choice)
                combo.addItem(text, choice)
            at = combo.findData(value)
            if at < 0:  # a value from a newer version (or a provider not installed here)
                combo.addItem(str(value), value)
                at = combo.count() - 1
            combo.setCurrentIndex(at)
            combo.currentIndexChanged.connect(self.validate)
            widget, kind = combo, "choice"
        elif option.parse is HOTKEY_ANSWER.parse:  # a key combination: pressed, not typed (CARD6)
            # Escape/Enter stay the dialog's, a bare typing key is refused (ui/keyfield.py)
            keys = KeyField(QKeySequence.fromString(value, QKeySequence.SequenceFormat.PortableText))
            keys.setMaximumSequenceLength(1)
            keys.setClearButtonEnabled(True)
            keys.keySequenceChanged.connect(self.validate)
            widget, kind = keys, "hotkey"
        elif option.key == HOTKEYS_GLOBAL_ACTIONS.key:  # which hotkeys are global: ticked (CARD6)
            ticks = QListWidget()
            chosen = set(value)
            # the actions, then names unknown here (kept, shown as they are)
            for name in (*ACTIONS, *sorted(chosen - set(ACTIONS))):
                item = QListWidgetItem(action_title(name).replace("&", "") if name in ACTIONS else name)
                item.setData(Qt.ItemDataRole.UserRole, name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if name in chosen else Qt.CheckState.Unchecked)
                ticks.addItem(item)
            ticks.setMaximumHeight(ticks.sizeHintForRow(0) * 6 + 2 * ticks.frameWidth())
            ticks.itemChanged.connect(self.validate)
            widget, kind = ticks, "actions"
        elif isinstance(default, str):
            edit = QLineEdit(value)
            edit.textChanged.connect(self.validate)
            widget, kind = edit, "text"
        elif not isinstance(default, Mapping | list | tuple):  # a type nobody declared yet: TOML text
            edit = QLineEdit(_value_toml(value))
            edit.textChanged.connect(self.validate)
            widget, kind = edit, "value"
        else:
            text_edit = QPlainTextEdit(_to_toml(option, value))
            text_edit.setTabChangesFocus(True)
            text_edit.setMaximumHeight(110)
            text_edit.setPlaceholderText(self._toml_example(option, str(self.settings[PHONE_PROVIDER])))
            # TOML is code: left to right in the Persian UI too ("7000" = "Sales" read backwards)
            text_edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
            text_edit.textChanged.connect(self.validate)
            widget, kind = text_edit, "toml"
        widget.setObjectName("setting_" + option.key.replace(".", "_"))
        widget.setAccessibleName(title)
        if isinstance(widget, QKeySequenceEdit):
            for inner in widget.findChildren(QLineEdit):  # the part that takes the keys
                inner.setAccessibleName(title)
        help_text = translate("Settings", option.help) if option.help else ""
        if help_text:
            widget.setToolTip(help_text)
            widget.setAccessibleDescription(help_text)
        error = QLabel()
        error.setObjectName("error_" + option.key.replace(".", "_"))
        error.setStyleSheet(_ERROR_STYLE)
        error.setWordWrap(True)
        error.hide()
        if isinstance(widget, KeyField):  # a key it did not take: said under the field
            widget.refused.connect(lambda text, label=error: _say(label, text))
        cell = QWidget()
        box_layout = QVBoxLayout(cell)
        box_layout.setContentsMargins(0, 0, 0, 0)
        box_layout.setSpacing(2)
        box_layout.addWidget(widget)
        if help_text:
            hint = QLabel(help_text)
            hint.setWordWrap(True)
            hint.setStyleSheet(_HELP_STYLE)
            box_layout.addWidget(hint)
        box_layout.addWidget(error)
        lock = self.settings.locked_by(option)
        if lock is not None:  # an administrator's value: shown greyed, with who set it
            widget.setEnabled(False)
            locked = named(QLabel(locked_text(lock)), "locked_" + option.key.replace(".", "_"))
            locked.setWordWrap(True)
            locked.setStyleSheet(_HELP_STYLE)
            box_layout.addWidget(locked)
            widget.setAccessibleDescription(locked.text())
        if needs_restart(option.key):
            restart = named(QLabel(), "restart_" + option.key.replace(".", "_"))
            restart.setText(translate("SettingsDialog", "Applies when callsys starts again."))
            restart.setStyleSheet(_WARNING_STYLE)
            restart.hide()
            box_layout.addWidget(restart)
            self._restart_notes[option.key] = restart
        label = QLabel(title + ":")
        label.setBuddy(widget)
        label.setWordWrap(True)
        # A title that wraps gets the height of its lines: a form row is otherwise as tall as its
        # field, and a one-line field (a key, a text) would cut the title's second line.
        width = min(label.fontMetrics().horizontalAdvance(label.text()) + 8, LABEL_WIDTH)
        label.setMinimumWidth(width)
        label.setMaximumWidth(LABEL_WIDTH)
        label.setMinimumHeight(label.heightForWidth(width))
        form.addRow(label, cell)
        self.fields[option.key] = _Field(option, widget, error, group, kind)

    def _toml_example(self, option: Option[Any], provider: str) -> str:
        """The grey example in an empty TOML field, each line a left-to-right isolate (Qt paints a
        placeholder in the application's direction, whatever the field's)."""
        return "\n".join(ltr(line) for line in self._toml_example_text(option, provider).split("\n"))

    def _toml_example_text(self, option: Option[Any], provider: str) -> str:
        """For the phone connection's options, an example that fits the chosen connection."""
        if option.key == PROVIDER_OPTIONS.key:
            example = PROVIDER_EXAMPLES.get(provider)
            if example is None:
                keys = self.registry.option_keys(provider)
                names = sorted(keys.keys)[:3] if keys is not None else []
                example = "\n".join(f'{name} = "…"' for name in names) or 'key = "value"'
            return example
        if isinstance(option.default, Mapping):
            return '"7000" = "Sales"'
        return f'{option.name} = ["…"]'

    def _password(self, name: str, title: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setEchoMode(QLineEdit.EchoMode.Password)
        edit.setObjectName(name)
        edit.setAccessibleName(title)
        edit.textChanged.connect(self.validate)
        return edit

    def _show_stored(self, edit: QLineEdit, secret_name: str) -> None:
        # Asked once per name: validation runs on every key press, a keyring call can be slow.
        stored = self._stored.get(secret_name)
        if stored is None:
            try:
                stored = bool(secret_name) and bool(get_secret(secret_name))
            except CallsysError:
                stored = False
            self._stored[secret_name] = stored
        edit.setPlaceholderText(
            translate("SettingsDialog", "Stored in the system keyring — type to replace")
            if stored
            else translate("SettingsDialog", "Not stored yet")
        )

    def _add_phone_extras(self, form: QFormLayout) -> None:
        # SIP: the lines in a list of their own, each with its keyring password (SET4, CARD5);
        # AMI / server: one secret. Names follow the options.
        self._add_options_notes()
        options = self.settings[PROVIDER_OPTIONS]
        sip = self.settings[PHONE_PROVIDER] == "sip"
        raw_lines = options.get("lines") if sip else None
        lines = list(raw_lines) if isinstance(raw_lines, list | tuple) else []
        self.sip_lines = SipLinesEditor(
            lines,
            self.settings[DEFAULT_LINE] or str(options.get("default_line") or ""),
            stored=self._show_stored,
        )
        self.sip_lines.changed.connect(self._lines_changed)
        audio = options.get("audio") if sip else None
        devices = isinstance(audio, Mapping) and any(key in audio for _r, key in AUDIO_DEVICE_KEYS)
        if lines or devices:  # the lines are edited in the list, the devices on the Audio page,
            # the other options stay TOML
            toml = self.fields[PROVIDER_OPTIONS.key].widget
            assert isinstance(toml, QPlainTextEdit)
            rest = {k: v for k, v in options.items() if k != "lines"}
            if devices and isinstance(audio, Mapping):
                kept = {k: v for k, v in audio.items() if k not in dict(AUDIO_DEVICE_KEYS).values()}
                if kept:
                    rest["audio"] = kept
                else:
                    rest.pop("audio", None)
            self._syncing = True
            toml.setPlainText(_to_toml(PROVIDER_OPTIONS, rest))
            self._syncing = False
        self.sip_label = QLabel(translate("SettingsDialog", "SIP lines:"))
        self.sip_label.setBuddy(self.sip_lines.list)
        form.addRow(self.sip_label, self.sip_lines)
        # TAPI: the lines Windows telephony offers (what ``lines`` may name), or why there are none
        self.tapi_lines = named(QLabel(), "tapiLines")
        self.tapi_lines.setWordWrap(True)
        self.tapi_lines.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tapi_label = QLabel(translate("SettingsDialog", "TAPI lines:"))
        self.tapi_lines.setAccessibleName(self.tapi_label.text().rstrip(":"))
        form.addRow(self.tapi_label, self.tapi_lines)
        self._tapi_library: str | None = None  # the library last listed (asked once, not per key)
        self.ami_secret = self._password("amiSecret", translate("SettingsDialog", "AMI secret"))
        self.ami_label = QLabel(translate("SettingsDialog", "AMI secret:"))
        self.ami_label.setBuddy(self.ami_secret)
        form.addRow(self.ami_label, self.ami_secret)
        self.secret_hint = named(QLabel(), "secretHint")
        self.secret_hint.setStyleSheet(_HELP_STYLE)
        self.secret_hint.setWordWrap(True)
        form.addRow("", self.secret_hint)

        self.phone_test, self.phone_result = self._test_row(
            form, "phone", translate("SettingsDialog", "Test the phone system connection"), self.test_phone
        )

    def _add_options_notes(self) -> None:
        """Under the options field: the keys the chosen connection does not know (a warning that
        does not block OK: the phone starts without them, as it does from the file), and the
        options set aside when the connection was switched."""
        cell = self.fields[PROVIDER_OPTIONS.key].error.parentWidget()
        layout = cell.layout() if cell is not None else None
        assert layout is not None
        self.options_warning = named(QLabel(), "warning_phone_options")
        self.options_warning.setStyleSheet(_WARNING_STYLE)
        self.options_warning.setWordWrap(True)
        self.options_warning.hide()
        layout.addWidget(self.options_warning)
        self.options_aside = named(QLabel(), "aside_phone_options")
        self.options_aside.setStyleSheet(_HELP_STYLE)
        self.options_aside.setWordWrap(True)
        self.options_aside.hide()
        layout.addWidget(self.options_aside)

    def _add_global_hotkeys_note(self, form: QFormLayout) -> None:
        """CARD6: where global hotkeys cannot work (Wayland, Windows, macOS …), say why here."""
        from ui.globalhotkeys import unavailable_reason

        why = unavailable_reason()
        self.global_hotkeys_note = named(QLabel(why or ""), "globalHotkeysUnavailable")
        self.global_hotkeys_note.setWordWrap(True)
        self.global_hotkeys_note.setStyleSheet(_HELP_STYLE)
        self.global_hotkeys_note.setVisible(bool(why))
        form.addRow(self.global_hotkeys_note)
        box, ticks = (self.fields[k].widget for k in (HOTKEYS_GLOBAL.key, HOTKEYS_GLOBAL_ACTIONS.key))
        if isinstance(box, QCheckBox):  # the ticks matter only with global hotkeys on
            ticks.setEnabled(box.isChecked())
            box.toggled.connect(ticks.setEnabled)

    def _add_crm_extras(self, form: QFormLayout) -> None:
        self.crm_secret = self._password("crmSecret", translate("SettingsDialog", "Client secret"))
        self._show_stored(self.crm_secret, DYNAMICS_SECRET)
        label = QLabel(translate("SettingsDialog", "Client secret:"))
        label.setBuddy(self.crm_secret)
        form.addRow(label, self.crm_secret)
        hint = QLabel(
            translate(
                "SettingsDialog", "Kept in the system keyring as “{name}”, never in the settings file."
            ).format(name=DYNAMICS_SECRET)
        )
        hint.setStyleSheet(_HELP_STYLE)
        hint.setWordWrap(True)
        form.addRow("", hint)
        self.crm_test, self.crm_result = self._test_row(
            form, "crm", translate("SettingsDialog", "Test the CRM connection"), self.test_crm
        )

    def _test_row(
        self, form: QFormLayout, prefix: str, accessible: str, slot: Any
    ) -> tuple[QPushButton, QLabel]:
        """A "Test connection" button with the place for its result beside it."""
        button = named(QPushButton(translate("SettingsDialog", "Test connection")), f"{prefix}Test")
        button.setAccessibleName(accessible)
        button.clicked.connect(slot)
        result = named(QLabel(), f"{prefix}Result")
        result.setWordWrap(True)
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(button)
        box.addWidget(result, 1)
        form.addRow("", row)
        return button, result

    # ============================================================== validation
    def values(self) -> tuple[dict[str, Any], dict[str, str]]:
        """(typed value by key, error by key) of every field as it is now."""
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for key, field in self.fields.items():
            try:
                values[key] = field.parse()
            except (ValueError, TypeError) as exc:
                errors[key] = str(exc) or translate("SettingsDialog", "a valid value")
        self._merge_lines(values, errors)
        return values, errors

    def _merge_lines(self, values: dict[str, Any], errors: dict[str, str]) -> None:
        """With the softphone, ``phone.options`` gets its ``lines`` from the list of lines, checked
        by the same validation the settings file gets (``SipOptions.parse``)."""
        if values.get(PHONE_PROVIDER.key) != "sip" or PROVIDER_OPTIONS.key not in values:
            return
        options = dict(values[PROVIDER_OPTIONS.key])
        if "lines" in options:
            errors[PROVIDER_OPTIONS.key] = translate(
                "SettingsDialog", "no “lines” here: the SIP lines are edited in the list below"
            )
            return
        audio = options.get("audio")
        device_keys = [key for _r, key in AUDIO_DEVICE_KEYS]
        if isinstance(audio, Mapping) and any(key in audio for key in device_keys):
            errors[PROVIDER_OPTIONS.key] = translate(
                "SettingsDialog", "no audio devices here: they are chosen on the Audio tab"
            )
            return
        page = self.audio_page  # built after the phone's tab
        picked = page.value() if page is not None else {}
        chosen = {key: name for key, name in picked.items() if name is not None}
        if chosen:
            options["audio"] = {**(audio if isinstance(audio, Mapping) else {}), **chosen}
        lines = self.sip_lines.value()
        if lines:
            options["lines"] = lines
        values[PROVIDER_OPTIONS.key] = options
        check = dict(options)
        if values.get(DEFAULT_LINE.key) and "default_line" not in check:
            check["default_line"] = values[DEFAULT_LINE.key]
        problem = self.sip_lines.check(check)
        if problem:
            errors[LINES_KEY] = problem

    def validate(self) -> bool:
        if self._syncing:
            return False
        self._sync_provider()
        values, errors = self.values()
        clashes = self._hotkey_clashes(values, errors)
        bad_groups = set()
        if LINES_KEY in errors:
            bad_groups.add("phone")
        self.sip_lines.show_error(errors.get(LINES_KEY, ""))
        for key, note in self._restart_notes.items():
            note.setVisible(key in values and values[key] != self.settings.get(key))
        for key, field in self.fields.items():
            if key not in errors:
                field.error.hide()
                continue
            if key in clashes:  # says itself what is wrong: no "Expected:"
                field.error.setText(errors[key])
            else:
                field.error.setText(
                    translate("SettingsDialog", "Expected: {what}").format(
                        what=isolate(expectation(errors[key]))
                    )
                )
            field.error.show()
            field.widget.setAccessibleDescription(field.error.text())
            bad_groups.add(field.group)
        for group, at in self._pages.items():
            title = _tab_text(group_title(group))
            self.tabs.setTabText(at, f"⚠ {title}" if group in bad_groups else title)
        self.ok_button.setEnabled(not errors and self._may_write())
        self._show_option_warnings(values, errors)
        self._refresh_secrets(values)
        return not errors

    def _show_option_warnings(self, values: Mapping[str, Any], errors: Mapping[str, str]) -> None:
        options = values.get(PROVIDER_OPTIONS.key)
        warnings = (
            self.registry.option_warnings(str(values.get(PHONE_PROVIDER.key, "")), options)
            if isinstance(options, Mapping) and PROVIDER_OPTIONS.key not in errors
            else []
        )
        text = "\n".join(
            [translate("SettingsDialog", "Ignored when the phone starts:"), *(f"⚠ {w}" for w in warnings)]
        )
        self.options_warning.setText(text if warnings else "")
        self.options_warning.setVisible(bool(warnings))
        if warnings:
            self.fields[PROVIDER_OPTIONS.key].widget.setAccessibleDescription(text)

    def _hotkey_clashes(self, values: Mapping[str, Any], errors: dict[str, str]) -> set[str]:
        """One key combination for two hotkeys: both are marked, each naming the other (CARD6).
        Returns the keys marked."""
        seen: dict[str, str] = {}
        marked: set[str] = set()
        for key, value in values.items():
            if not key.startswith("hotkeys.") or not isinstance(value, str) or not value:
                continue
            normal = "+".join(sorted(part.strip().lower() for part in value.split("+")))
            first = seen.setdefault(normal, key)
            if first == key or key in errors:
                continue
            text = translate("SettingsDialog", "“{first}” and “{second}” both use {key}.").format(
                first=isolate(translate("Settings", OPTIONS[first].title)),
                second=isolate(translate("Settings", OPTIONS[key].title)),
                key=ltr(QKeySequence.fromString(value, QKeySequence.SequenceFormat.PortableText).toString()),
            )
            for clash in (first, key):
                if clash not in errors or clash in marked:
                    errors[clash] = text
                    marked.add(clash)
        return marked

    def _sync_provider(self) -> None:
        """Another connection chosen: the options of the one left are set aside — restored if it
        is chosen again, never saved with another one. The new one gets its own set-aside options,
        or else those of the old one that it knows too (the registry's ``option_keys``; all of
        them for a connection that declares none). The softphone's lines move into the list when
        it is chosen, and back into the TOML options when another connection is (AMI has "lines"
        of its own)."""
        provider = str(self.fields[PHONE_PROVIDER.key].raw())
        before, self._provider_shown = self._provider_shown, provider
        if provider == before:
            return
        toml = self.fields[PROVIDER_OPTIONS.key].widget
        assert isinstance(toml, QPlainTextEdit)
        toml.setPlaceholderText(self._toml_example(PROVIDER_OPTIONS, provider))
        try:
            doc = tomllib.loads(toml.toPlainText())
        except tomllib.TOMLDecodeError:
            return  # the TOML field says what is wrong; the options stay where they are
        if before == "sip" and self.sip_lines.lines:
            if "lines" in doc:
                return  # refused lines typed into the options: the field says so, nothing moves
            doc["lines"] = self.sip_lines.value()
        self._set_aside[before] = doc
        shown = self._set_aside.pop(provider, None)
        if shown is None:
            keys = self.registry.option_keys(provider)
            shown = {key: value for key, value in doc.items() if keys is None or keys.knows(key)}
        shown = dict(shown)
        if provider == "sip":
            lines = shown.pop("lines", None)
            self.sip_lines.set_lines(
                [line for line in lines if isinstance(line, dict)] if isinstance(lines, list) else []
            )
        elif before == "sip":
            self.sip_lines.set_lines([])
        self._syncing = True
        try:
            toml.setPlainText(_to_toml(PROVIDER_OPTIONS, shown))
        finally:
            self._syncing = False
        self._show_set_aside(provider)

    def _show_set_aside(self, provider: str) -> None:
        """Say which options wait for another connection (not saved unless it is chosen again)."""
        keys = self.registry.option_keys(provider)
        lines = []
        for name, doc in self._set_aside.items():
            aside = [key for key in doc if keys is not None and not keys.knows(key)]
            if aside:
                lines.append(
                    translate(
                        "SettingsDialog",
                        "Set aside for “{provider}” (saved only if it is chosen again): {keys}",
                    ).format(provider=choice_title(PHONE_PROVIDER.key, name), keys=ltr(", ".join(aside)))
                )
        self.options_aside.setText("\n".join(lines))
        self.options_aside.setVisible(bool(lines))

    def _lines_changed(self) -> None:
        """An edit in the list of lines; the line marked default becomes ``phone.default_line``."""
        default = self.fields[DEFAULT_LINE.key].widget
        if isinstance(default, QLineEdit):
            wanted = self.sip_lines.default_line()
            # unmarked: a default naming one of these lines is cleared, any other left alone
            # (a removed line's id counts: removing the default line unmarks it)
            named_here = (
                default.text() in self.sip_lines.ids() or default.text() in self.sip_lines.removed_ids
            )
            if default.text() != wanted and (wanted or named_here):
                default.setText(wanted)  # validates
                return
        self.validate()

    def _refresh_secrets(self, values: Mapping[str, Any]) -> None:
        provider = values.get(PHONE_PROVIDER.key, self.settings[PHONE_PROVIDER])
        options = values.get(PROVIDER_OPTIONS.key, self.settings[PROVIDER_OPTIONS])
        for widget in (self.sip_label, self.sip_lines):
            widget.setVisible(provider == "sip")
        if provider == "sip":
            self.sip_lines.sync_default(str(values.get(DEFAULT_LINE.key, "")))
        self._show_tapi_lines(provider == "tapi", options)
        self._ami_name = provider_secret_name(str(provider), options)
        self.ami_label.setVisible(bool(self._ami_name))
        self.ami_secret.setVisible(bool(self._ami_name))
        if provider == "server":
            self.ami_label.setText(translate("SettingsDialog", "Server token:"))
            self.ami_secret.setAccessibleName(
                translate("SettingsDialog", "Access token for the callsys server")
            )
        else:
            self.ami_label.setText(translate("SettingsDialog", "AMI secret:"))
            self.ami_secret.setAccessibleName(translate("SettingsDialog", "AMI secret"))
        self._secret_hint()
        crm_secret = values.get("crm.auth", "") == "client_secret"
        self.crm_secret.setEnabled(crm_secret or bool(self.crm_secret.text()))

    def _show_tapi_lines(self, tapi: bool, options: Mapping[str, Any]) -> None:
        for widget in (self.tapi_label, self.tapi_lines):
            widget.setVisible(tapi)
        library = str(options.get("library") or "") if isinstance(options, Mapping) else ""
        if not tapi or library == self._tapi_library:
            return
        self._tapi_library = library
        from providers.tapi import NO_LINES_MESSAGE, NOT_WINDOWS_MESSAGE, list_lines

        found = list_lines({"library": library})
        said = {
            NO_LINES_MESSAGE: translate(
                "SettingsDialog",
                "Windows telephony (TAPI) offers no lines: the phone system's TAPI driver (TSP) is not "
                "installed, or it gives this Windows user no line. Install the vendor's TSP, then check "
                "Control Panel → Phone and Modem → Advanced.",
            ),
            NOT_WINDOWS_MESSAGE: translate(
                "SettingsDialog",
                "TAPI (Windows telephony) exists only on Windows: on this computer, use the embedded "
                "softphone or Asterisk (AMI) instead.",
            ),
        }
        text = ", ".join(ltr(name) for name in found.names) or said.get(found.message, found.message)
        self.tapi_lines.setText(text)
        self.tapi_lines.setStyleSheet("" if found.names else _WARNING_STYLE)

    def _secret_hint(self) -> None:
        names = []
        if self._ami_name:
            names.append(self._ami_name)
            self._show_stored(self.ami_secret, self._ami_name)
        self.secret_hint.setText(
            translate(
                "SettingsDialog", "Kept in the system keyring as “{name}”, never in the settings file."
            ).format(name=", ".join(names))
            if names
            else ""
        )
        self.secret_hint.setVisible(bool(names))

    def typed_secrets(self) -> dict[str, str]:
        """Keyring name → the password typed in this dialog (only the fields that were filled)."""
        out: dict[str, str] = {}
        if not self.sip_lines.isHidden():
            out.update(self.sip_lines.typed_secrets())
        if self._ami_name and self.ami_secret.text() and not self.ami_secret.isHidden():
            out[self._ami_name] = self.ami_secret.text()
        if self.crm_secret.text():
            out[DYNAMICS_SECRET] = self.crm_secret.text()
        return out

    def edited_settings(self) -> Settings:
        """A ``Settings`` holding what the dialog shows (for the connection checks)."""
        values, errors = self.values()
        if errors:
            raise CallsysError(translate("SettingsDialog", "Correct the fields marked in red first."))
        defaults = {option.key: self.settings.default(option) for option in OPTIONS.values()}
        return Settings(values, path=self.settings.path, defaults=defaults)

    # ============================================================== actions
    def save(self) -> bool:
        """Write the settings file atomically and the passwords to the keyring; close on success."""
        values, errors = self.values()
        self._hotkey_clashes(values, errors)
        if errors:
            self.validate()
            return False
        if not self._may_write():
            return False
        start_over = bool(self.settings.load_error) and self.start_over.isChecked()
        changed = [key for key, value in values.items() if value != self.settings.get(key)]
        before = {key: (self.settings.is_set(OPTIONS[key]), self.settings.get(key)) for key in changed}
        try:
            try:
                for key in changed:
                    self.settings.set(key, values[key])
                if changed or start_over or self.settings.path is None or not self.settings.path.exists():
                    self.settings.save(replace_unreadable=start_over)
            except BaseException:
                # Not written: the running settings stay as they were (nothing half-applied).
                for key, (was_set, value) in before.items():
                    if was_set:
                        self.settings.set(key, value)
                    else:
                        self.settings.unset(key)
                raise
            for name, secret in self.typed_secrets().items():
                set_secret(name, secret)
            if values.get(PHONE_PROVIDER.key) == "sip":  # moved lines keep, removed ones drop theirs
                self.sip_lines.tidy_keyring()
        except ConfigError as exc:
            if self.settings.load_error:  # the file became unreadable since: the ways on, again
                self._show_unreadable(self.settings.load_error)
                self.validate()
            self._problem(str(exc))
            return False
        except (CallsysError, OSError) as exc:
            self._problem(str(exc))
            return False
        except Exception as exc:  # a value the TOML writer cannot hold
            log.exception("saving the settings failed")
            self._problem(f"{type(exc).__name__}: {exc}")
            return False
        self.saved.emit(changed)
        self.accept()
        return True

    def _problem(self, text: str) -> None:
        self._problem_text(translate("SettingsDialog", "The settings were not saved: {why}").format(why=text))

    def _problem_text(self, text: str) -> None:
        self.problem_label.setText(text)
        self.problem_label.show()

    def _run_check(
        self, button: QPushButton, result: QLabel, check: Callable[[Settings], Awaitable[str]]
    ) -> None:
        def done(text: Any) -> None:
            button.setEnabled(True)
            result.setStyleSheet("color: #188038;")
            result.setText("✔ " + str(text))

        def failed(why: str) -> None:
            button.setEnabled(True)
            result.setStyleSheet(_ERROR_STYLE)
            result.setText("✖ " + why)

        try:
            settings = self.edited_settings()
        except CallsysError as exc:
            failed(str(exc))
            return

        async def run() -> str:
            return await check(settings)

        button.setEnabled(False)
        result.setStyleSheet("")
        result.setText(translate("SettingsDialog", "Testing…"))
        self.tasks.spawn(run(), done=done, failed=failed)

    async def _check_phone(self, settings: Settings, typed: Mapping[str, str]) -> str:
        session = self.session
        running = session.provider if session is not None else None
        if (
            session is not None
            and running is not None
            and running.name == "sip"
            and settings[PHONE_PROVIDER] == "sip"
        ):
            # pjsua2 allows one softphone per process: a second one for the test would break both.
            # The running one answers for the options it runs with (passwords typed here are new).
            current = session.settings
            if (
                current[PHONE_PROVIDER] == "sip"
                and current[PROVIDER_OPTIONS] == settings[PROVIDER_OPTIONS]
                and not typed
            ):
                lines = tuple(running.lines())
                if any(line.registration is Registration.ONLINE for line in lines):
                    return describe_online(lines)
                raise CallsysError(
                    translate(
                        "SettingsDialog", "The phone system did not accept the connection: {why}"
                    ).format(
                        why=", ".join(f"{line.label or line.id}: {line.detail}" for line in lines)
                        or translate("SettingsDialog", "no line is up")
                    )
                )
            raise CallsysError(
                translate(
                    "SettingsDialog",
                    "The softphone is running, and only one can run at a time: save the settings to "
                    "restart it with them; the status bar then shows whether each line registers.",
                )
            )
        return await check_phone(settings, self.registry, typed)

    def test_phone(self) -> None:
        """Connect to the PBX / registrar with what the dialog shows (not yet saved)."""
        typed = self.typed_secrets()
        self._run_check(self.phone_test, self.phone_result, lambda s: self._phone_check(s, typed))

    def test_crm(self) -> None:
        """Sign in to the CRM with what the dialog shows (a typed client secret included)."""
        typed = self.typed_secrets().get(DYNAMICS_SECRET)

        def check(settings: Settings) -> Awaitable[str]:
            if typed:
                return _with_env_secret(DYNAMICS_SECRET, typed, self._crm_check(settings))
            return self._crm_check(settings)

        self._run_check(self.crm_test, self.crm_result, check)

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        if self.audio_page is not None:
            self.audio_page.close_streams()
        super().done(result)


async def _with_env_secret(name: str, value: str, check: Awaitable[str]) -> str:
    """Run *check* with a typed (not yet saved) secret visible through ``CALLSYS_SECRET_…``."""
    import os

    from callsys.secrets import env_name

    key = env_name(name)
    previous = os.environ.get(key)
    os.environ[key] = value
    try:
        return await check
    finally:
        if previous is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = previous
