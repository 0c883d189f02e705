"""The one exception tree of callsys. User-facing messages come from these, never from tracebacks.

::

    CallsysError                    base; str(e) is a sentence a user can read
    ├── ConfigError                 a bad settings file or value (names the key and what was expected)
    ├── SecretStoreError            the OS keyring is missing or refused
    ├── StoreError                  the local database cannot be opened or written
    ├── ImportFailed                a directory import file cannot be read at all
    ├── MissingExtra                a part this installation left out (names the pip extra to add)
    ├── ProviderError               a telephony provider failed or refused a command
    │   ├── NotSupported            the active provider cannot do that (see its capabilities)
    │   ├── UnknownCall             no such call (already ended?)
    │   └── ProviderUnavailable     the PBX / registrar / server cannot be reached
    └── CrmError                    the CRM refused or failed
        ├── CrmUnavailable          network error, 5xx — retry later (the outbox will)
        │   └── CrmThrottled        429 — retry after ``retry_after`` seconds exactly
        ├── CrmRejected             4xx that a retry will not fix (validation, missing customer…)
        │   ├── CrmNotFound         404 — the record was deleted
        │   └── CrmConflict         412 — someone else changed the record
        └── AuthError               sign-in failed or the token was refused
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence

__all__ = [
    "AuthError",
    "CallsysError",
    "ConfigError",
    "CrmConflict",
    "CrmError",
    "CrmNotFound",
    "CrmRejected",
    "CrmThrottled",
    "CrmUnavailable",
    "ImportFailed",
    "MissingExtra",
    "NotSupported",
    "ProviderError",
    "ProviderUnavailable",
    "SecretStoreError",
    "StoreError",
    "UnknownCall",
]


class CallsysError(Exception):
    """Base of every error callsys raises on purpose."""


class ConfigError(CallsysError):
    def __init__(self, message: str, *, key: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.path = path


class SecretStoreError(CallsysError):
    pass


class StoreError(CallsysError):
    pass


class ImportFailed(CallsysError):
    pass


class MissingExtra(CallsysError):
    """*what* needs the optional dependencies of the pip extra *extra*, which this installation
    left out (*missing*: their import names). A server installed with ``pip install callsys``
    has no ``desktop`` (the window: PyQt6, qasync) and no ``softphone`` (pjsua2, sounddevice,
    numpy); the message says what to install."""

    def __init__(self, what: str, extra: str, missing: Sequence[str] = (), *, hint: str = "") -> None:
        lacking = f" ({', '.join(missing)} not installed)" if missing else ""
        hint = f" {hint}" if hint else ""
        super().__init__(
            f'{what} needs the "{extra}" extra{lacking}.{hint} Install it with: pip install "callsys[{extra}]"'
        )
        self.what = what
        self.extra = extra
        self.missing = tuple(missing)

    @classmethod
    def check(cls, what: str, extra: str, modules: Sequence[str], *, hint: str = "") -> None:
        """Raise one naming *extra* when any of *modules* (import names) is not installed here;
        they are looked up, not imported (a window's packages cost a headless command nothing)."""
        missing = []
        for name in modules:
            try:
                found = name in sys.modules or importlib.util.find_spec(name) is not None
            except ImportError:  # a finder that refuses it outright
                found = False
            if not found:
                missing.append(name)
        if missing:
            raise cls(what, extra, missing, hint=hint)


class ProviderError(CallsysError):
    pass


class NotSupported(ProviderError):
    pass


class UnknownCall(ProviderError):
    pass


class ProviderUnavailable(ProviderError):
    pass


class CrmError(CallsysError):
    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class CrmUnavailable(CrmError):
    pass


class CrmThrottled(CrmUnavailable):
    def __init__(
        self, message: str, *, retry_after: float, status: int | None = 429, code: str | None = None
    ):
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after


class CrmRejected(CrmError):
    pass


class CrmNotFound(CrmRejected):
    pass


class CrmConflict(CrmRejected):
    pass


class AuthError(CrmError):
    pass
