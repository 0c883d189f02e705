"""Settings: declared once (key, type, default, title, validation), stored as TOML.

Where things live (platformdirs): ``settings.toml`` under the user config dir, the database
under the user data dir; ``--config PATH`` overrides the file. Secrets are *never* in the file —
only in the OS keyring (``callsys.secrets``); a settings file that carries a password gets a
clear refusal that says where the secret belongs.

A bad file or value raises ``ConfigError`` naming the key and what was expected — never a
traceback. Unknown keys are kept (so a newer version's file survives an older app) and reported
in ``Settings.warnings``.

A file that could not be read is never written over: ``Settings.save()`` refuses until the
caller asks to replace it, and then keeps a copy (``settings.toml.broken-STAMP``) first. Every
write is atomic (a temporary file in the same folder, flushed to disk, then renamed over the
file) and keeps the version before it as ``settings.toml.bak``.

Layers, lowest first — each value comes from the highest layer that has it:

1. built-in: the defaults declared below;
2. organisation: ``[defaults]`` of ``briefcase.toml``, shipped inside the installer
   (``provisioning_path()``);
3. system: one file per computer, ``/etc/callsys/settings.toml`` (Windows:
   ``%ProgramData%\\callsys\\settings.toml``; macOS: ``/Library/Application Support/callsys/``),
   written like ``settings.toml`` (``system_settings_path()``);
4. server: what a callsys server pushes (``Settings.set_server_values``);
5. user: the user's own ``settings.toml`` — the only layer the app writes.

The organisation and system layers may *lock* keys (``[locked] keys = ["crm.url", …]``): no
layer above the one that locked a key changes it, and ``Settings.set`` refuses to. ``origin()``
and ``locked_by()`` say where a value comes from (``callsys settings show --origin``).

Adding a setting: call ``declare()`` below in the block of your area. Settings of the headless
server daemon use the group ``daemon``: the desktop's settings dialog does not show them. The settings dialog
builds itself from ``OPTIONS`` (``group`` and ``title`` are for it; titles are marked for
translation with ``N_``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

import platformdirs
import tomli_w

from callsys.errors import ConfigError

__all__ = [
    "LAYERS",
    "OPTIONS",
    "Layer",
    "Option",
    "Settings",
    "admin_layers",
    "config_path",
    "data_dir",
    "declare",
    "load_settings",
    "system_settings_path",
    "unreadable_settings",
    "write_atomic",
]

T = TypeVar("T")
APP = "callsys"
SCHEMA_VERSION = 1


def N_(text: str) -> str:
    """Mark *text* for translation; ``ui`` translates it when it shows it."""
    return text


def config_path() -> Path:
    return platformdirs.user_config_path(APP, appauthor=False) / "settings.toml"


def data_dir() -> Path:
    return platformdirs.user_data_path(APP, appauthor=False)


def log_dir() -> Path:
    """Where the desktop writes its log: the platform's log folder for callsys."""
    return platformdirs.user_log_path(APP, appauthor=False)


# ---------------------------------------------------------------------------------- parsers
# Each parser takes the raw TOML value and returns the typed value, or raises ValueError whose
# text says what was expected ("a whole number from 0 to 20").


def p_str(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("text")
    return value


def p_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def p_int(lo: int, hi: int) -> Callable[[object], int]:
    def parse(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ValueError(f"a whole number from {lo} to {hi}")
        return value

    return parse


class Choice:
    """The parser of a setting that takes one of a few values (``Option.choices`` lists them)."""

    def __init__(self, *choices: str) -> None:
        self.choices: tuple[str, ...] = choices

    def __call__(self, value: object) -> str:
        if value not in self.choices:
            raise ValueError("one of " + ", ".join(repr(c) for c in self.choices))
        return str(value)


def p_choice(*choices: str) -> Choice:
    return Choice(*choices)


def p_pattern(pattern: str, expected: str) -> Callable[[object], str]:
    rx = re.compile(pattern)

    def parse(value: object) -> str:
        if not isinstance(value, str) or not rx.fullmatch(value):
            raise ValueError(expected)
        return value

    return parse


def p_str_map(value: object) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError('a table of text values, e.g. { "7000" = "Sales" }')
    return dict(value)


def p_str_list(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError('a list of text values, e.g. ["a", "b"]')
    return tuple(value)


def p_tables(value: object) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError("a list of tables ([[…]] sections)")
    return tuple(dict(v) for v in value)


def _region(value: object) -> str:
    import phonenumbers

    if not isinstance(value, str) or value.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError('a two-letter country code such as "IR", "DE" or "US"')
    return value.upper()


def _url_or_empty(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("a URL")
    if value and not re.match(r"^(https?|wss?)://[^\s/]+", value):
        raise ValueError("an http(s):// or ws(s):// URL")
    return value.rstrip("/")


# ---------------------------------------------------------------------------------- options
@dataclass(frozen=True, slots=True)
class Option(Generic[T]):
    key: str  # "section.name"
    default: T
    parse: Callable[[object], T]
    title: str
    group: str
    help: str = ""

    @property
    def section(self) -> str:
        return self.key.rsplit(".", 1)[0]

    @property
    def name(self) -> str:
        return self.key.rsplit(".", 1)[1]

    @property
    def choices(self) -> tuple[str, ...] | None:
        """The values a ``p_choice`` setting allows (``None``: any value its parser takes)."""
        return self.parse.choices if isinstance(self.parse, Choice) else None


OPTIONS: dict[str, Option[Any]] = {}

# Keys that look like secrets are refused in the file: they belong in the keyring.
_SECRET_NAMES = re.compile(r"(^|_)(password|passwd|secret|client_secret|token|api_key)$", re.I)


def declare(
    key: str, default: T, parse: Callable[[object], T], title: str, group: str, help: str = ""
) -> Option[T]:
    if key in OPTIONS:
        raise ValueError(f"setting {key!r} declared twice")
    if key.count(".") < 1:
        raise ValueError(f"setting keys are 'section.name', got {key!r}")
    option = Option(key, parse(default), parse, title, group, help)
    OPTIONS[key] = option
    return option


# --- Phone & lines -------------------------------------------------------------------------
PHONE_PROVIDER = declare(
    "phone.provider",
    "sip",
    p_str,
    N_("Phone connection"),
    "phone",
    N_("sip = embedded softphone, ami = Asterisk, server = a callsys server, sim = simulator"),
)
DIAL_PREFIX = declare(
    "phone.dial_prefix",
    "",
    p_pattern(r"[0-9*#]{0,6}", "up to 6 digits, * or #"),
    N_("Outside-line prefix"),
    "numbers",
    N_("Added in front of every outgoing public number"),
)
DEFAULT_LINE = declare("phone.default_line", "", p_str, N_("Default line"), "phone")
DND = declare("phone.dnd", False, p_bool, N_("Do not disturb"), "phone")
AUTO_ANSWER = declare("phone.auto_answer", False, p_bool, N_("Answer calls automatically"), "phone")
PROVIDER_OPTIONS: Option[dict[str, Any]] = declare(
    "phone.options",
    {},
    lambda v: dict(cast(dict[str, Any], v)) if isinstance(v, dict) else _bad_table(),
    N_("Provider options"),
    "phone",
)

# --- Numbers -------------------------------------------------------------------------------
REGION = declare(
    "numbers.region",
    "IR",
    _region,
    N_("Default country"),
    "numbers",
    N_("Numbers written without a country code belong to this country"),
)
AREA_CODE = declare(
    "numbers.area_code",
    "",
    p_pattern(r"[0-9]{0,5}", "up to 5 digits, without the leading 0"),
    N_("Local area code"),
    "numbers",
    N_("Completes local numbers dialled without it"),
)
DNIS_LINES: Option[dict[str, str]] = declare(
    "numbers.dnis_lines",
    {},
    p_str_map,
    N_("Line names by dialled number"),
    "numbers",
    N_("Which company line a dialled number (DID) belongs to"),
)

# --- Logging rules -------------------------------------------------------------------------
MIN_LOG_DIGITS = declare(
    "logging.min_log_digits",
    5,
    p_int(0, 20),
    N_("Do not log numbers shorter than"),
    "logging",
    N_("Calls from numbers with fewer digits (internal extensions) are not logged to the CRM"),
)

# --- CRM -----------------------------------------------------------------------------------
CRM_BACKEND = declare(
    "crm.backend",
    "local",
    p_choice("local", "dynamics"),
    N_("CRM"),
    "crm",
    N_("local = the built-in directory; dynamics = Microsoft Dynamics 365"),
)
CRM_URL = declare("crm.url", "", _url_or_empty, N_("Dynamics 365 address"), "crm")


# --- Dynamics 365 connector (owned by callsys/crm/dynamics/client.py, callsys/auth.py) --------------
# The client secret is never here: it is the keyring entry "dynamics/client-secret" (or
# CALLSYS_SECRET_DYNAMICS_CLIENT_SECRET); a certificate's key file is named, not embedded.
def _crm_tables(value: object) -> tuple[dict[str, Any], ...]:
    return p_tables(list(value) if isinstance(value, tuple) else value)


def _crm_str_list(value: object) -> tuple[str, ...]:
    return p_str_list(list(value) if isinstance(value, tuple) else value)


CRM_TENANT = declare(
    "crm.tenant",
    "organizations",
    p_str,
    N_("Microsoft Entra tenant"),
    "crm",
    N_("Tenant ID or domain of the organisation (contoso.onmicrosoft.com)"),
)
CRM_CLIENT_ID = declare("crm.client_id", "", p_str, N_("App registration (client) ID"), "crm")


def _authority_host(value: object) -> str:
    if not isinstance(value, str) or not re.match(r"^https://[^\s/?#]+/?$", value):
        raise ValueError(
            'the https:// address of the sign-in service, e.g. "https://login.microsoftonline.us"'
        )
    return value.rstrip("/")


CRM_AUTHORITY = declare(
    "crm.authority",
    "https://login.microsoftonline.com",
    _authority_host,
    N_("Sign-in service"),
    "advanced",
    N_(
        "Microsoft Entra sign-in address: https://login.microsoftonline.us for US Government clouds, "
        "https://login.chinacloudapi.cn for China"
    ),
)
CRM_APP_ID = declare(
    "crm.app_id",
    "",
    p_str,
    N_("Model-driven app ID"),
    "crm",
    N_("Records open in this Dynamics 365 app (appid in the record address); empty = the default app"),
)
CRM_AUTH = declare(
    "crm.auth",
    "interactive",
    p_choice("interactive", "device_code", "client_secret", "certificate", "command", "env"),
    N_("Sign-in method"),
    "crm",
    N_(
        "interactive = browser, then device code; client_secret/certificate = server application user; "
        "command/env = a token from a command or an environment variable (automation)"
    ),
)
CRM_TOKEN_COMMAND = declare(
    "crm.token_command",
    "",
    p_str,
    N_("Token command"),
    "advanced",
    N_(
        "Prints an access token, e.g. az account get-access-token --resource https://contoso.crm.dynamics.com"
    ),
)
CRM_TOKEN_ENV = declare(
    "crm.token_env", "CALLSYS_CRM_TOKEN", p_str, N_("Token environment variable"), "advanced"
)
CRM_CERTIFICATE = declare(
    "crm.certificate_path",
    "",
    p_str,
    N_("Certificate (PEM with private key)"),
    "advanced",
)
CRM_CERTIFICATE_THUMBPRINT = declare(
    "crm.certificate_thumbprint", "", p_str, N_("Certificate thumbprint"), "advanced"
)
CRM_PLAINTEXT_CACHE = declare(
    "crm.plaintext_token_cache",
    False,
    p_bool,
    N_("Keep the sign-in unencrypted"),
    "advanced",
    N_("Only for computers without a system keyring: anyone who can read your files can use your sign-in"),
)
CRM_CUSTOM_TABLES: Option[tuple[dict[str, Any], ...]] = declare(
    "crm.custom_tables",
    (),
    _crm_tables,
    N_("Extra tables with phone numbers"),
    "crm",
    N_(
        '[[crm.custom_tables]] logical = "new_patient", entity_set = "new_patients", id = "new_patientid", '
        'name = "new_name", phones = ["new_emergencyphone"] (`callsys crm discover` proposes them)'
    ),
)
CRM_EXTRA_PHONES: Option[tuple[str, ...]] = declare(
    "crm.extra_phone_columns",
    (),
    _crm_str_list,
    N_("Extra phone columns"),
    "crm",
    N_('Custom phone columns of the standard tables, e.g. ["contact.new_otherphone"]'),
)
CRM_UNANSWERED_STATUS = declare(
    "crm.unanswered_statuscode",
    0,
    p_int(0, 2_147_483_647),
    N_("Status reason of unanswered calls"),
    "crm",
    N_(
        "0 = Canceled; or a custom status reason under Completed (e.g. 100000000) — see `callsys crm discover`"
    ),
)
CRM_USE_INDEX = declare(
    "crm.phone_index",
    True,
    p_bool,
    N_("Keep a local phone index"),
    "crm",
    N_("Callers are found without a network round trip; kept current by `callsys crm sync`"),
)
CRM_INDEX_SYNC_SECONDS = declare(
    "crm.phone_index_sync_seconds",
    300,
    p_int(1, 86_400),
    N_("Phone index refresh (seconds)"),
    "crm",
    N_("How often the desktop and the callsys server pull changed phone numbers into the phone index"),
)
CRM_INDEX_FULL_SECONDS = declare(
    "crm.phone_index_untracked_full_seconds",
    3600,
    p_int(60, 7 * 86_400),
    N_("Full refresh of tables without change tracking (seconds)"),
    "crm",
    N_(
        "A table without change tracking is read again in full this often (to find deleted records); "
        "in between, only its changed records are read"
    ),
)

# --- Server --------------------------------------------------------------------------------
SERVER_URL = declare("server.url", "", _url_or_empty, N_("callsys server address"), "server")


# --- Server daemon (`callsys server`; owned by callsys/server/) ------------------------------
# Secrets are never here: the shared desktop secret is the keyring entry "server/shared-secret",
# an agent's own token "server/agent/NAME", a branch's PBX secret "ami/BRANCH" (or the branch's
# `secret_name`) — each also readable from CALLSYS_SECRET_… (see callsys.secrets).
def _server_tables(value: object) -> tuple[dict[str, Any], ...]:
    return p_tables(list(value) if isinstance(value, tuple) else value)


SERVER_LISTEN_HOST = declare(
    "server.listen_host",
    "127.0.0.1",
    p_pattern(r"[0-9A-Za-z.:\-\[\]]{1,255}", "a host name or IP address"),
    N_("Listen on address"),
    "daemon",
)
SERVER_LISTEN_PORT = declare(
    "server.listen_port", 8765, p_int(0, 65535), N_("Listen on port"), "daemon", N_("0 = any free port")
)
SERVER_SEATS = declare(
    "server.seats",
    25,
    p_int(1, 100_000),
    N_("Desktop sessions at once"),
    "daemon",
    N_("How many desktops may be connected at the same time"),
)
SERVER_HEARTBEAT = declare(
    "server.heartbeat_timeout",
    30,
    p_int(1, 3600),
    N_("Heartbeat timeout (seconds)"),
    "daemon",
    N_("A desktop that stops answering for this long loses its seat"),
)
SERVER_BRANCHES: Option[tuple[dict[str, Any], ...]] = declare(
    "server.branches",
    (),
    _server_tables,
    N_("Branches"),
    "daemon",
    N_(
        "One [[server.branches]] per PBX: name, provider (ami), options (host, port, "
        "username, secret_name), and optionally region, area_code, dial_prefix, dnis_lines"
    ),
)
SERVER_USERS: Option[dict[str, str]] = declare(
    "server.users",
    {},
    p_str_map,
    N_("Dynamics users by extension"),
    "daemon",
    N_('Whose queue a call\'s activity lands in, e.g. { "1001" = "<systemuserid>" }'),
)
SERVER_AGENTS: Option[tuple[dict[str, Any], ...]] = declare(
    "server.agents",
    (),
    _server_tables,
    N_("Desktop agents"),
    "daemon",
    N_("One [[server.agents]] per person with a token: name, extensions, branch"),
)
SERVER_UPDATE_MANIFEST = declare(
    "server.update_manifest",
    "",
    p_str,
    N_("Update manifest file"),
    "daemon",
    N_("A JSON file served to desktops at /update/manifest.json; empty = none"),
)
SERVER_PUSHED_SETTINGS = declare(
    "server.pushed_settings",
    "",
    p_str,
    N_("Settings pushed to desktops"),
    "daemon",
    N_(
        "A TOML file written like /etc/callsys/settings.toml (with [locked] keys) that connected desktops "
        "apply between the system file and the user's own; empty = none"
    ),
)
SERVER_CRM_RETRY_MAX = declare(
    "server.crm_retry_max_seconds",
    300,
    p_int(1, 3600),
    N_("Longest wait between CRM retries (seconds)"),
    "daemon",
    N_("While Dynamics 365 is unreachable, retries back off up to this long"),
)
SERVER_TLS_CERT = declare(
    "server.tls_certificate",
    "",
    p_str,
    N_("TLS certificate (PEM)"),
    "daemon",
    N_("With a key file, desktops connect over wss:// — tokens never cross the network in clear text"),
)
SERVER_TLS_KEY = declare(
    "server.tls_key_file",
    "",
    p_str,
    N_("TLS private key file (PEM)"),
    "daemon",
    N_("The file is named here, never its content"),
)
SERVER_DRAIN_SECONDS = declare(
    "server.drain_seconds",
    10,
    p_int(0, 600),
    N_("Shutdown flush time (seconds)"),
    "daemon",
    N_("How long a stopping server keeps sending queued CRM writes; the rest stays queued on disk"),
)

SERVER_DATABASE = declare(
    "server.database",
    "",
    p_pattern(r"(postgres(ql)?://\S*)?", "empty, or a postgresql:// URL without a password"),
    N_("Shared database (PostgreSQL)"),
    "daemon",
    N_(
        "Empty: this server's own SQLite file. A postgresql:// URL: several servers share the calls; one leads"
    ),
)

# --- Language & appearance -----------------------------------------------------------------
LANGUAGE = declare(
    "ui.language",
    "auto",
    p_choice("auto", "en", "fa"),
    N_("Language"),
    "appearance",
    N_("auto follows the system language"),
)
CALENDAR = declare("ui.calendar", "gregorian", p_choice("gregorian", "jalali"), N_("Calendar"), "appearance")

# --- Desktop: hotkeys, tray, single instance (owned by ui/) -----------------------------------
# In-app shortcuts (CARD6). Written the way Qt's QKeySequence reads them ("Ctrl+Shift+A");
# empty = no shortcut. The desktop checks them again with Qt and reports clashes.
_KEY = p_pattern(
    r"((Ctrl|Shift|Alt|Meta)\+){0,4}([A-Z0-9]|F[0-9]{1,2}|Space|Return|Enter|Esc|Pause|Home|End|Ins|Del|"
    r"PgUp|PgDown|Up|Down|Left|Right|[-=,./;'`\[\]\\])|",
    'a key combination such as "Ctrl+Shift+A" (or empty for none)',
)
HOTKEY_ANSWER = declare("hotkeys.answer", "Ctrl+Shift+A", _KEY, N_("Answer the ringing call"), "hotkeys")
HOTKEY_REJECT = declare("hotkeys.reject", "Ctrl+Shift+R", _KEY, N_("Reject the ringing call"), "hotkeys")
HOTKEY_VOICEMAIL = declare(  # IN6, where the phone connection can
    "hotkeys.voicemail", "Ctrl+Shift+J", _KEY, N_("Send the ringing call to voicemail"), "hotkeys"
)
HOTKEY_HANGUP = declare("hotkeys.hangup", "Ctrl+Shift+E", _KEY, N_("Hang up"), "hotkeys")
HOTKEY_HOLD = declare("hotkeys.hold", "Ctrl+Shift+H", _KEY, N_("Hold or resume"), "hotkeys")
HOTKEY_MUTE = declare("hotkeys.mute", "Ctrl+Shift+M", _KEY, N_("Mute or unmute"), "hotkeys")
HOTKEY_DIAL_CLIPBOARD = declare(
    "hotkeys.dial_clipboard", "Ctrl+Shift+V", _KEY, N_("Dial the number on the clipboard"), "hotkeys"
)
HOTKEY_CALL_BACK = declare(
    "hotkeys.call_back", "Ctrl+Shift+B", _KEY, N_("Call back the selected call"), "hotkeys"
)
HOTKEY_FOCUS_DIAL = declare("hotkeys.focus_dial", "Ctrl+L", _KEY, N_("Go to the number field"), "hotkeys")
HOTKEY_FOCUS_SEARCH = declare("hotkeys.focus_search", "Ctrl+F", _KEY, N_("Search the call log"), "hotkeys")
HOTKEY_NOTES = declare("hotkeys.notes", "Ctrl+Shift+N", _KEY, N_("Open the call notes"), "hotkeys")
HOTKEY_CONTACTS = declare("hotkeys.contacts", "Ctrl+Shift+K", _KEY, N_("Show the contacts"), "hotkeys")
HOTKEY_DIALPAD = declare("hotkeys.dialpad", "Ctrl+Shift+D", _KEY, N_("Show the dial pad"), "hotkeys")
HOTKEY_CONSULT = declare(  # attended transfer, where the phone connection can
    "hotkeys.consult", "Ctrl+Shift+C", _KEY, N_("Hold the call and consult the number typed"), "hotkeys"
)
HOTKEY_TRANSFER_CONSULTED = declare(
    "hotkeys.transfer_consulted",
    "Ctrl+Shift+T",
    _KEY,
    N_("Transfer the call to the consulted party"),
    "hotkeys",
)
HOTKEY_CONFERENCE = declare(
    "hotkeys.conference",
    "Ctrl+Shift+F",
    _KEY,
    N_("Join the call and the consulted party in a conference"),
    "hotkeys",
)


# --- Global hotkeys (CARD6, owned by ui/globalhotkeys.py) ---
# The keys above, also while another program has the focus: X11 only (not Wayland, Windows,
# macOS — the desktop says why where they are unavailable). A global key is taken from every
# other program, so it is off by default and limited to the call actions by default.
def _action_names(value: object) -> tuple[str, ...]:
    return p_str_list(list(value) if isinstance(value, tuple) else value)


HOTKEYS_GLOBAL = declare(
    "hotkeys.global",
    False,
    p_bool,
    N_("Also when another program has the focus (global hotkeys)"),
    "hotkeys",
    N_(
        "Linux with X11 only; not in a Wayland session, not on Windows or macOS. Other programs lose these keys."
    ),
)
HOTKEYS_GLOBAL_ACTIONS: Option[tuple[str, ...]] = declare(
    "hotkeys.global_actions",
    ("answer", "reject", "hangup", "hold", "mute"),
    _action_names,
    N_("Global hotkey actions"),
    "hotkeys",
    N_("Which of the hotkeys above also work while another program has the focus"),
)
# --- end of global hotkeys ---
TRAY_ON_CLOSE = declare(
    "ui.close_to_tray",
    False,
    p_bool,
    N_("Keep running in the tray when the window is closed"),
    "appearance",
    N_("Calls still pop up; quit from the tray menu"),
)

FIRST_START_PANEL = declare(
    "ui.first_start_panel",
    True,
    p_bool,
    N_("Explain the phone at a first start"),
    "appearance",
    N_(
        "A panel above the dial field while there is no settings file yet; administrators who provision callsys turn it off for a silent first start"
    ),
)

# --- Storage -------------------------------------------------------------------------------
DATABASE = declare(
    "storage.database",
    "",
    p_str,
    N_("Database file"),
    "advanced",
    N_("Empty = the platform's data folder"),
)

# --- Updates (SET5) ----------------------------------------------------------------------------
UPDATES_URL = declare(
    "updates.url",
    "",
    p_str,
    N_("Update feed"),
    "advanced",
    N_("The organisation's signed update repository (callsys update check); empty = none"),
)
UPDATES_ROOT = declare(
    "updates.root",
    "",
    p_str,
    N_("Update feed's root.json"),
    "advanced",
    N_("The keys updates must be signed with; empty = resources/update-root.json shipped with callsys"),
)
UPDATES_MODE = declare(
    "updates.mode",
    "auto",
    p_choice("auto", "system", "off"),
    N_("Updates"),
    "advanced",
    N_(
        "auto = the desktop checks the update feed, downloads a signed update and installs it when restarted; "
        "system = the system's package manager (an apt repository) updates callsys; off = never check"
    ),
)
UPDATES_CHECK_HOURS = declare(
    "updates.check_hours",
    24,
    p_int(1, 24 * 30),
    N_("Check for updates every (hours)"),
    "advanced",
    N_("The desktop checks at start and then this often"),
)


def _bad_table() -> dict[str, Any]:
    raise ValueError("a table of options")


# ---------------------------------------------------------------------------------- settings
BUILT_IN, ORGANISATION, SYSTEM, SERVER, USER = "built-in", "organisation", "system", "server", "user"
#: Where a value can come from, lowest first (see the module's documentation).
LAYERS = (BUILT_IN, ORGANISATION, SYSTEM, SERVER, USER)
SYSTEM_ENV = "CALLSYS_SYSTEM_SETTINGS"
PROVISIONING_ENV = "CALLSYS_PROVISIONING"


@dataclass(frozen=True)
class Layer:
    """The values one layer sets (typed, validated) and the keys it locks."""

    name: str
    path: Path | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    locked: frozenset[str] = frozenset()
    warnings: tuple[str, ...] = ()
    #: Where a server's layer came from (its address); its ``path`` is the copy kept here.
    url: str = ""

    def describe(self) -> str:
        """``system (/etc/callsys/settings.toml)``: the layer, and its file when it has one."""
        source = self.describe_source()
        return f"{self.name} ({source})" if source else self.name

    def describe_source(self) -> str:
        """The layer's file, or the server it came from ("" when neither)."""
        return self.url or (str(self.path) if self.path is not None else "")


def provisioning_path() -> Path | None:
    """Where the organisation's provisioning defaults are (see ``briefcase.toml``), if anywhere.

    ``$CALLSYS_PROVISIONING``, else ``briefcase.toml`` beside the code: the installers put it in
    the app's folder next to ``callsys/`` (Briefcase ``sources``), a checkout has it at its root.
    """
    env = os.environ.get(PROVISIONING_ENV)
    if env:
        return Path(env)
    root = Path(__file__).resolve().parent.parent
    for candidate in (root / "resources" / "briefcase.toml", root / "briefcase.toml"):
        if candidate.is_file():
            return candidate
    return None


def system_settings_path() -> Path:
    """The computer's own settings file, written by its administrator (``$CALLSYS_SYSTEM_SETTINGS``
    overrides it)."""
    env = os.environ.get(SYSTEM_ENV)
    if env:
        return Path(env)
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA") or r"C:\ProgramData") / APP / "settings.toml"
    if sys.platform == "darwin":
        return Path("/Library/Application Support") / APP / "settings.toml"
    return Path("/etc") / APP / "settings.toml"


def _read_admin_file(target: Path, what: str) -> dict[str, Any]:
    try:
        doc = tomllib.loads(target.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"The {what} {target} cannot be read: {exc}.", path=str(target)) from None
    secrets = list(_find_secrets(doc))
    if secrets:
        raise ConfigError(
            f"The {what} {target} contains a secret ('{secrets[0]}'). Secrets are kept in each "
            "computer's keyring or given to a service in its environment (docs/deploy.md).",
            key=secrets[0],
            path=str(target),
        )
    return doc


def _admin_layer(
    name: str, target: Path, what: str, values_doc: Mapping[str, Any], doc: Mapping[str, Any]
) -> Layer:
    values: dict[str, Any] = {}
    warnings: list[str] = []
    for key, value in _flatten(values_doc):
        if key not in OPTIONS:
            warnings.append(f"Unknown setting '{key}' in the {what} {target} (not used).")
            continue
        try:
            values[key] = _parse_value(OPTIONS[key], value)
        except ConfigError as exc:
            raise ConfigError(f"In the {what} {target}: {exc}", key=key, path=str(target)) from None
    lock_table = doc.get("locked", {})
    keys = lock_table.get("keys", []) if isinstance(lock_table, dict) else None
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ConfigError(
            f'[locked] in the {what} {target} must be a table with keys = ["section.name", …].',
            path=str(target),
        )
    for key in keys:
        if key not in OPTIONS:
            warnings.append(f"The {what} {target} locks '{key}', which is not a setting (ignored).")
    locked = frozenset(k for k in keys if k in OPTIONS)
    return Layer(name, target, values, locked, tuple(warnings))


def organisation_layer(path: Path | None = None) -> Layer:
    """The organisation's defaults (``[defaults]`` of ``briefcase.toml``) and its ``[locked]`` keys."""
    target = path if path is not None else provisioning_path()
    if target is None or not target.is_file():
        return Layer(ORGANISATION, target)
    what = "provisioning file"
    doc = _read_admin_file(target, what)
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ConfigError(f"[defaults] in {target} must be a table.", path=str(target))
    layer = _admin_layer(ORGANISATION, target, what, defaults, doc)
    # Newer keys from a newer admin template are ignored, not fatal, and not worth a warning.
    return Layer(layer.name, layer.path, layer.values, layer.locked, ())


def system_layer(path: Path | None = None) -> Layer:
    """The computer's settings file (same form as ``settings.toml``) and its ``[locked]`` keys."""
    target = path if path is not None else system_settings_path()
    if not target.is_file():
        return Layer(SYSTEM, target)
    what = "system settings file"
    doc = _read_admin_file(target, what)
    doc.pop("version", None)
    values_doc = {k: v for k, v in doc.items() if k != "locked"}
    return _admin_layer(SYSTEM, target, what, values_doc, doc)


def admin_layers(provisioning: Path | None = None, system: Path | None = None) -> list[Layer]:
    """The layers between the built-in defaults and the user: organisation, then system.

    An administrator's file that cannot be used (not TOML, a wrong value, a secret) is left out
    with a warning that names it and why: a typo in one file must not stop every desktop, nor
    make the user's own file look unreadable (which would stop their Settings from saving)."""
    layers: list[Layer] = []
    for load, name, path in (
        (organisation_layer, ORGANISATION, provisioning),
        (system_layer, SYSTEM, system),
    ):
        try:
            layers.append(load(path))
        except ConfigError as exc:
            layers.append(
                Layer(name, Path(exc.path) if exc.path else path, warnings=(f"{exc} It is not used.",))
            )
    return layers


def load_provisioning(path: Path | None = None) -> dict[str, Any]:
    """The validated ``[defaults]`` of the provisioning file, as ``{key: value}``."""
    return dict(organisation_layer(path).values)


class Settings:
    """Typed access to the values of one settings file: ``settings[REGION]`` → ``str``.

    Lookup order: the file's own values (unless a layer below locked the key), then the admin
    layers (server, system, organisation), then the built-in defaults.
    """

    def __init__(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        path: Path | None = None,
        extra: Mapping[str, Any] | None = None,
        warnings: list[str] | None = None,
        defaults: Mapping[str, Any] | None = None,
        load_error: str | None = None,
        layers: list[Layer] | None = None,
    ) -> None:
        self.path = path
        #: Why the file at ``path`` could not be read (None: it was read, or there is none yet).
        #: These settings are then the defaults, and ``save()`` does not write over that file.
        self.load_error = load_error
        #: Where the last ``save(replace_unreadable=True)`` kept the copy of the unreadable file.
        self.kept_copy: Path | None = None
        #: The layers below the user's file, lowest first (``defaults`` alone: one unnamed layer).
        self.layers: list[Layer] = list(layers or [])
        if defaults:
            self.layers.insert(0, Layer(ORGANISATION, None, dict(defaults)))
        self._defaults: dict[str, Any] = {}
        self._origin: dict[str, Layer] = {}
        self._locks: dict[str, Layer] = {}
        self._resolve()
        self._values: dict[str, Any] = {}
        self._extra: dict[str, Any] = dict(extra or {})  # unknown keys, kept verbatim
        self.warnings: list[str] = list(warnings or [])
        #: What the server's layer sent that is not used (unknown keys, keys locked below it).
        self.server_notes: list[str] = []
        for key, value in (values or {}).items():
            self._values[key] = _parse_value(OPTIONS[key], value)

    def _resolve(self) -> None:
        """Each key's default (the highest layer that sets it) and lock (the lowest that locks it):
        a layer above the one that locked a key does not change it."""
        self._defaults.clear()
        self._origin.clear()
        self._locks.clear()
        for layer in self.layers:
            for key, value in layer.values.items():
                if key not in self._locks:
                    self._defaults[key] = value
                    self._origin[key] = layer
            for key in layer.locked:
                self._locks.setdefault(key, layer)

    def set_server_values(
        self,
        values: Mapping[str, Any],
        *,
        source: str = "",
        locked: Iterable[str] = (),
        path: Path | None = None,
    ) -> list[str]:
        """Put what a callsys server pushed in the server layer (above the system file, below
        the user's), with the keys it *locked* against the user's own values. *source* is the
        server's address, *path* the copy kept of it. Keys that are not settings, or locked
        below, are skipped: the returned sentences say which. A value that does not validate
        raises ``ConfigError``."""
        typed: dict[str, Any] = {}
        skipped: list[str] = []
        for key, value in values.items():
            if key not in OPTIONS:
                skipped.append(f"The server sent '{key}', which is not a setting here (ignored).")
                continue
            typed[key] = _parse_value(OPTIONS[key], value)
        locks = frozenset(key for key in locked if key in OPTIONS)
        skipped.extend(
            f"The server locks '{key}', which is not a setting here (ignored)."
            for key in locked
            if key not in OPTIONS
        )
        # The admin layers never include the user's; the server's is the topmost of them.
        self.layers = [layer for layer in self.layers if layer.name != SERVER]
        self.layers.append(Layer(SERVER, path, typed, locks, url=source))
        self._resolve()
        skipped.extend(
            f"The server's value of '{key}' is not used: {self._locks[key].describe()} locks it."
            for key in typed
            if key in self._locks
        )
        return skipped

    def __getitem__(self, option: Option[T]) -> T:
        if option.key in self._values and option.key not in self._locks:
            return cast(T, self._values[option.key])
        return cast(T, self._defaults.get(option.key, option.default))

    def get(self, key: str) -> Any:
        return self[OPTIONS[key]]

    def default(self, option: Option[T]) -> T:
        """The value this setting has when the user has not set it (admin layers or built-in)."""
        return cast(T, self._defaults.get(option.key, option.default))

    def origin(self, option: Option[Any] | str) -> tuple[str, Path | None]:
        """The layer the effective value comes from, and that layer's file (None: none)."""
        key = option if isinstance(option, str) else option.key
        if key in self._values and key not in self._locks:
            return USER, self.path
        layer = self._origin.get(key)
        return (layer.name, layer.path) if layer is not None else (BUILT_IN, None)

    def source(self, option: Option[Any] | str) -> str | None:
        """Where the effective value comes from, as text: a file, or the server's address."""
        key = option if isinstance(option, str) else option.key
        if key in self._values and key not in self._locks:
            return str(self.path) if self.path is not None else None
        layer = self._origin.get(key)
        return (layer.describe_source() or None) if layer is not None else None

    def layer(self, name: str) -> Layer | None:
        """The admin layer called *name* (``organisation``, ``system``, ``server``), if there is one."""
        return next((layer for layer in self.layers if layer.name == name), None)

    def locked_by(self, option: Option[Any] | str) -> Layer | None:
        """The admin layer that locked this setting (the user cannot change it), or None."""
        return self._locks.get(option if isinstance(option, str) else option.key)

    def set(self, option: Option[T] | str, value: object) -> None:
        """Validate and set one value (raises ConfigError naming the key). A locked setting
        keeps its value: setting it to another one is refused."""
        opt = OPTIONS[option] if isinstance(option, str) else option
        parsed = _parse_value(opt, value)
        lock = self._locks.get(opt.key)
        if lock is not None:
            if parsed != self[opt]:
                raise ConfigError(
                    f"Setting '{opt.key}' is locked by the administrator ({lock.describe()}): "
                    "it cannot be changed here.",
                    key=opt.key,
                )
            return
        self._values[opt.key] = parsed

    def unset(self, option: Option[Any] | str) -> None:
        """Forget this file's value of a setting: its default applies again."""
        self._values.pop(option if isinstance(option, str) else option.key, None)

    def is_set(self, option: Option[Any]) -> bool:
        return option.key in self._values

    def section(self, name: str) -> dict[str, Any]:
        """Every value under ``[name]`` (declared ones typed, undeclared ones verbatim)."""
        out: dict[str, Any] = {}
        prefix = name + "."
        for key, option in OPTIONS.items():
            if key.startswith(prefix) and "." not in key[len(prefix) :]:
                out[key[len(prefix) :]] = self[option]
        extra = self._extra.get(name)
        if isinstance(extra, dict):
            for k, v in extra.items():
                out.setdefault(k, v)
        return out

    def __iter__(self) -> Iterator[tuple[Option[Any], Any]]:
        for option in OPTIONS.values():
            yield option, self[option]

    def to_toml(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"version": SCHEMA_VERSION}
        for key, value in self._values.items():
            section, name = key.rsplit(".", 1)
            node = doc
            for part in section.split("."):
                node = node.setdefault(part, {})
            node[name] = list(value) if isinstance(value, tuple) else value
        for section, content in self._extra.items():
            if isinstance(content, dict) and isinstance(doc.get(section), dict):
                for k, v in content.items():
                    doc[section].setdefault(k, v)
            else:
                doc.setdefault(section, content)
        return doc

    def save(self, path: Path | None = None, *, replace_unreadable: bool = False) -> Path:
        """Write the file atomically, keep the version before it as ``NAME.bak``, return its path.

        A file that could not be read — when these settings were loaded, or now, because someone
        edited it meanwhile — is not written over: ``ConfigError`` says why. With
        *replace_unreadable* it is copied to ``NAME.broken-YYYYmmdd-HHMMSS`` first (``kept_copy``)
        and then replaced."""
        target = path or self.path or config_path()
        self.kept_copy = None
        problem = self.load_error if target == self.path else None
        problem = problem or _read_problem(target)
        if problem is not None:
            if not replace_unreadable:
                if target == self.path:
                    self.load_error = problem  # the next save is refused as well
                raise ConfigError(
                    f"The settings file {target} could not be read, so it was not written over "
                    f"(nothing in it is lost): {problem}",
                    path=str(target),
                )
            if target.exists():
                self.kept_copy = keep_copy(target)
        write_atomic(target, tomli_w.dumps(self.to_toml()))
        self.path = target
        self.load_error = None
        return target


def _read_problem(path: Path) -> str | None:
    """Why the settings file at *path* cannot be read (None: it can, or it does not exist)."""
    if not path.exists():
        return None
    try:
        load_settings(path, provisioning=Path(os.devnull), system=Path(os.devnull))
    except ConfigError as exc:
        return str(exc)
    return None


def keep_copy(path: Path) -> Path:
    """Copy *path* to ``NAME.broken-YYYYmmdd-HHMMSS`` beside it (never over an earlier copy)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    copy = path.with_name(f"{path.name}.broken-{stamp}")
    n = 1
    while copy.exists():
        n += 1
        copy = path.with_name(f"{path.name}.broken-{stamp}-{n}")
    shutil.copy2(path, copy)
    return copy


def write_atomic(path: Path, text: str, *, backup: bool = True) -> None:
    """Replace *path* with *text* so that a crash or a full disk leaves the old or the new file,
    never half of one: a temporary file in the same folder, flushed to disk, renamed over it.
    With *backup* the version before is kept as ``NAME.bak`` (written the same way). A symbolic
    link is followed: the file it names is replaced, the link stays."""
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    old_mode = None
    if target.exists():
        old_mode = target.stat().st_mode & 0o777
        if backup:
            _replace_with(target.with_name(target.name + ".bak"), target.read_bytes(), old_mode)
    _replace_with(target, text.encode("utf-8"), old_mode)


def _replace_with(target: Path, data: bytes, mode: int | None) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if os.name == "posix":  # the rename itself reaches the disk too
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _parse_value(option: Option[T], value: object) -> T:
    try:
        return option.parse(value)
    except (ValueError, TypeError) as exc:
        expected = str(exc) or "a valid value"
        raise ConfigError(
            f"Setting '{option.key}' has the value {_short(value)}, but it should be {expected}.",
            key=option.key,
        ) from None


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _flatten(doc: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, value in doc.items():
        key = f"{prefix}{name}"
        if key in OPTIONS:
            yield key, value
        elif isinstance(value, dict) and any(k.startswith(key + ".") for k in OPTIONS):
            yield from _flatten(value, key + ".")
        else:
            yield key, value


def _find_secrets(doc: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for name, value in doc.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            yield from _find_secrets(value, key + ".")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    yield from _find_secrets(item, f"{key}[{i}].")
        elif _SECRET_NAMES.search(name) and value not in ("", None):
            yield key


def load_settings(
    path: Path | str | None = None,
    *,
    must_exist: bool = False,
    provisioning: Path | None = None,
    system: Path | None = None,
) -> Settings:
    """Read the settings file (default: the platform config dir) over the admin layers: the
    organisation's provisioning defaults (*provisioning*, default ``provisioning_path()``) and
    the system-wide file (*system*, default ``system_settings_path()``). A missing file means
    the defaults of those layers, then the built-in ones."""
    target = Path(path) if path is not None else config_path()
    layers = admin_layers(provisioning, system)
    layer_warnings = [warning for layer in layers for warning in layer.warnings]
    if not target.exists():
        if must_exist:
            raise ConfigError(f"The settings file {target} does not exist.", path=str(target))
        return _with_server_layer(Settings(path=target, layers=layers, warnings=layer_warnings))
    try:
        raw = target.read_bytes().decode("utf-8")
        doc = tomllib.loads(raw)
    except UnicodeDecodeError:
        raise ConfigError(f"The settings file {target} is not UTF-8 text.", path=str(target)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The settings file {target} is not valid TOML: {exc}.", path=str(target)) from None
    except OSError as exc:
        raise ConfigError(
            f"Cannot read the settings file {target}: {exc.strerror}.", path=str(target)
        ) from None

    secrets = list(_find_secrets(doc))
    if secrets:
        raise ConfigError(
            f"The settings file {target} contains a secret ('{secrets[0]}'). Secrets are kept only in "
            "the system keyring: remove it from the file and store it with "
            "'callsys secret set NAME' (or in Settings).",
            key=secrets[0],
            path=str(target),
        )
    version = doc.pop("version", SCHEMA_VERSION)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        warnings = [
            f"{target} was written by a newer callsys (version {version}); unknown settings are kept."
        ]
    else:
        warnings = []
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in _flatten(doc):
        if key in OPTIONS:
            values[key] = value
        else:
            section, _, name = key.partition(".")
            if name:
                extra.setdefault(section, {})[name] = value
            else:
                extra[section] = value
            warnings.append(f"Unknown setting '{key}' in {target} (kept, not used).")
    try:
        settings = Settings(
            values, path=target, extra=extra, warnings=layer_warnings + warnings, layers=layers
        )
    except ConfigError as exc:
        exc.path = str(target)
        raise
    for key in values:
        lock = settings.locked_by(key)
        if lock is not None and settings.is_set(OPTIONS[key]) and settings._values[key] != settings.get(key):
            settings.warnings.append(
                f"'{key}' in {target} is not used: the administrator locked it ({lock.describe()})."
            )
    return _with_server_layer(settings)


# --- the copy of the callsys server's pushed layer (callsys.serverlayer fetches it) ---


def server_layer_path(settings_file: Path) -> Path:
    """The copy of the server's layer kept beside the user's *settings_file*."""
    return settings_file.with_name(settings_file.stem + ".server.json")


def normal_server_url(url: str) -> str:
    """``server.url`` as it is compared with the copy's (no trailing slash)."""
    return url.strip().rstrip("/")


def layer_server(settings: Any) -> str:
    """The server this desktop takes its layer from: ``phone.options.url`` or ``server.url``."""
    options: Mapping[str, Any] = settings[PROVIDER_OPTIONS] or {}
    return normal_server_url(str(options.get("url") or settings[SERVER_URL] or ""))


def read_server_layer(settings_file: Path) -> dict[str, Any] | None:
    """The copy of the server's layer beside *settings_file*, or None (none, or unreadable)."""
    path = server_layer_path(settings_file)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("values"), dict):
        return None
    return doc


def _with_server_layer(settings: Settings) -> Settings:
    """Apply the copy of the server's layer kept beside the user's file (``callsys.serverlayer``)
    while the settings still name that server. A copy that does not validate is left out, said
    in ``warnings``; it never makes the user's own file unreadable."""
    if settings.path is None:
        return settings
    doc = read_server_layer(settings.path)
    if doc is None or not layer_server(settings) or doc.get("server") != layer_server(settings):
        return settings
    locked = doc.get("locked", [])
    try:
        skipped = settings.set_server_values(
            doc["values"],
            source=str(doc["server"]),
            locked=locked if isinstance(locked, list) else [],
            path=server_layer_path(settings.path),
        )
    except ConfigError as exc:
        settings.layers = [layer for layer in settings.layers if layer.name != SERVER]
        settings._resolve()
        settings.warnings.append(f"The settings from the server {doc['server']} are not used: {exc}")
        return settings
    settings.server_notes = skipped  # the server's own mix-ups: for `callsys settings pull`, not the agent
    server = settings.layer(SERVER)
    for key in sorted(server.locked if server is not None else ()):
        if settings.is_set(OPTIONS[key]) and settings._values[key] != settings.get(key):
            settings.warnings.append(
                f"'{key}' in {settings.path} is not used: the callsys server {doc['server']} locked it."
            )
    return settings


def unreadable_settings(path: Path | str | None, why: str) -> Settings:
    """The defaults, for a settings file at *path* that could not be read (*why*): the program
    runs on them, and ``save()`` does not write over that file unless asked to replace it."""
    target = Path(path) if path is not None else config_path()
    return Settings(path=target, layers=admin_layers(), load_error=why)
