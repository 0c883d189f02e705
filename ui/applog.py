"""The desktop's log file: what went wrong on an agent's machine, kept for whoever helps them.

``install()`` adds a rotating file handler to the root logger — ``callsys.log`` in the
platform's log folder (platformdirs' ``user_log_path``: ``~/.local/state/callsys/log`` on Linux,
``%LOCALAPPDATA%\\callsys\\Logs`` on Windows, ``~/Library/Logs/callsys`` on macOS), five files of
1 MB at most — and Help → *Open log folder* shows the folder.

No secret reaches the file: ``SecretFilter`` rewrites every record (message, arguments and
traceback) before it is written — a password in a SIP or HTTP URI (``sip:1001:pw@pbx``), the
value of a ``password``/``secret``/``token`` option or header (``password=…``, ``"secret": "…"``,
``Authorization: Bearer …``), and any value handed to ``SecretFilter.remember``.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from collections.abc import Iterable
from pathlib import Path

from callsys.settings import log_dir

__all__ = [
    "LOG_FILE",
    "SecretFilter",
    "install",
    "log_dir",
    "redact",
    "remember_secrets",
    "secret_filter",
    "uninstall",
]

LOG_FILE = "callsys.log"
MAX_BYTES = 1_000_000
BACKUPS = 5
MASK = "***"

_KEYS = r"(?:password|passwd|pwd|secret|client_secret|token|access_token|refresh_token|api_key|apikey|auth_password)"
# Every pattern starts at a word boundary and bounds what comes before the key: a log line of
# one long word (a base64 blob) costs linear time, not quadratic.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # user:password@host in a SIP or any URL (sip:1001:pw@pbx, https://u:pw@host)
    (
        re.compile(r"(?i)\b((?:sips?|tel|https?|wss?|ami):(?://)?[^\s:@/'\"]+:)([^\s@'\"]+)(@)"),
        rf"\1{MASK}\3",
    ),
    # "password": "x"  'secret': 'x'  (dict and JSON reprs)
    (
        re.compile(rf"(?i)(['\"]?\b[\w.-]{{0,40}}?{_KEYS}['\"]?\s*[:=]\s*)(['\"])(.*?)(?<!\\)\2"),
        rf"\1\2{MASK}\2",
    ),
    # password=x  secret = x  token: x  (options, query strings, TOML, AMI "Secret: x")
    (re.compile(rf"(?i)\b([\w.-]{{0,40}}?{_KEYS}\s*[=:]\s*)(?!['\"])([^\s&,;)\]}}]+)"), rf"\1{MASK}"),
    # Authorization: Bearer x / Basic x
    (
        re.compile(r"(?i)\b(authorization['\"]?\s*[:=]\s*['\"]?(?:bearer|basic|digest)?\s*)([^\s'\",]+)"),
        rf"\1{MASK}",
    ),
)


def redact(text: str, known: Iterable[str] = ()) -> str:
    """*text* with every secret it holds replaced by ``***``."""
    for secret in known:
        if secret:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class SecretFilter(logging.Filter):
    """Rewrites a record so that no secret is left in it (see the module's docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._known: set[str] = set()

    def remember(self, secret: str) -> None:
        """A secret value (a password read from the keyring) that must never be written."""
        if secret and len(secret) >= 3:
            self._known.add(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is
            message = f"{record.msg} {record.args}"
        record.msg = redact(message, self._known)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._known)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self._known)
        return True


_installed: logging.Handler | None = None
_restore: list[tuple[logging.Logger | logging.Handler, int]] = []  # levels changed by install


def install(
    directory: Path | None = None, level: int = logging.INFO
) -> logging.handlers.RotatingFileHandler | None:
    """Write the log to ``callsys.log`` in *directory* (default ``log_dir()``), rotating at
    1 MB through five files. Returns the handler, or ``None`` when the folder cannot be written
    (the desktop runs on without a log file). Installing again replaces the previous handler."""
    global _installed
    folder = directory or log_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            folder / LOG_FILE, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
        )
    except OSError as exc:
        logging.getLogger(__name__).warning("no log file in %s: %s", folder, exc)
        return None
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretFilter())
    root = logging.getLogger()
    if _installed is not None:
        root.removeHandler(_installed)
        _installed.close()
    # The file takes INFO and up; what already writes to the terminal keeps its own level.
    for other in root.handlers:
        if other.level == logging.NOTSET:
            _restore.append((other, other.level))
            other.setLevel(root.level)
    if root.level == logging.NOTSET or root.level > level:
        _restore.append((root, root.level))
        root.setLevel(level)
    root.addHandler(handler)
    _installed = handler
    return handler


def secret_filter() -> SecretFilter | None:
    """The filter of the installed log file (to ``remember`` a secret), if there is one."""
    if _installed is None:
        return None
    return next((f for f in _installed.filters if isinstance(f, SecretFilter)), None)


_SECRET_KEY = re.compile(rf"(?i){_KEYS}$")


def remember_secrets(options: object) -> None:
    """Every value under a password/secret/token key of *options* (the phone connection's
    options, with the keyring's passwords filled in) is masked wherever it shows up in the log."""
    keeper = secret_filter()
    if keeper is None:
        return
    stack = [options]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, str) and _SECRET_KEY.search(str(key)):
                    keeper.remember(value)
                elif isinstance(value, dict | list | tuple):
                    stack.append(value)
        elif isinstance(item, list | tuple):
            stack.extend(v for v in item if isinstance(v, dict | list | tuple))


def uninstall() -> None:
    """Stop writing the log file and put the levels ``install`` changed back."""
    global _installed
    if _installed is not None:
        logging.getLogger().removeHandler(_installed)
        _installed.close()
        _installed = None
    while _restore:
        item, previous = _restore.pop()
        item.setLevel(previous)
