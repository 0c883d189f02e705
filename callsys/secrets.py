"""Secrets (SIP passwords, AMI secrets, client secrets) live only in the OS keyring.

Names are plain strings such as ``sip/1001@pbx.example.com`` or ``dynamics/client-secret``;
the keyring service is always ``callsys``. Without a usable keyring backend (a headless Linux
box with no Secret Service) every call raises ``SecretStoreError`` with a message that says so
and how to fix it — we never fall back to writing secrets into a file.

For automation (CI, containers) a secret can also come from the environment:
``CALLSYS_SECRET_<NAME>`` with every non-alphanumeric character of NAME turned into ``_`` and
upper-cased (``sip/1001@pbx`` → ``CALLSYS_SECRET_SIP_1001_PBX``). The environment wins.

Services with no keyring session (a systemd unit, a kiosk set up unattended) can name a secrets
file instead: ``CALLSYS_SECRETS_FILE=/etc/callsys/secrets.toml``, a TOML table of
``"NAME" = "secret"``. It must be readable by its owner only (mode 0600 or 0400): a file that its
group or everyone may read is refused, with the ``chmod`` that fixes it. While it is set, secrets
are read from it (after the environment) and the keyring is not asked; ``set_secret`` still
writes to the keyring.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

from callsys.errors import SecretStoreError

__all__ = [
    "FILE_ENV",
    "SERVICE",
    "delete_secret",
    "env_name",
    "get_secret",
    "read_secrets_file",
    "set_secret",
]

SERVICE = "callsys"
FILE_ENV = "CALLSYS_SECRETS_FILE"


def env_name(name: str) -> str:
    return "CALLSYS_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def _keyring() -> Any:
    try:
        import keyring
        import keyring.errors
    except ImportError as exc:  # pragma: no cover - keyring is a hard dependency
        raise SecretStoreError("The keyring library is not installed.") from exc
    return keyring


def _no_backend(exc: Exception) -> SecretStoreError:
    return SecretStoreError(
        "No system keyring is available to keep passwords safely "
        f"({type(exc).__name__}: {exc}). On Linux install and start a Secret Service "
        "(e.g. gnome-keyring), or provide the secret in the environment variable named in the "
        "documentation."
    )


def read_secrets_file(path: Path) -> dict[str, str]:
    """The secrets of a ``CALLSYS_SECRETS_FILE``: refused unless only its owner may read it."""
    try:
        info = path.stat()
    except OSError as exc:
        raise SecretStoreError(
            f"The secrets file {path} ({FILE_ENV}) cannot be read: {exc.strerror}."
        ) from None
    if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretStoreError(
            f"The secrets file {path} ({FILE_ENV}) can be read by other users "
            f"(mode {stat.S_IMODE(info.st_mode):04o}), so it is not used: "
            f"make it readable by its owner only with 'chmod 600 {path}'."
        )
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SecretStoreError(f"The secrets file {path} ({FILE_ENV}) cannot be read: {exc}.") from None
    bad = next((name for name, value in doc.items() if not isinstance(value, str)), None)
    if bad is not None:
        raise SecretStoreError(
            f'The secrets file {path} ({FILE_ENV}) must hold only "NAME" = "secret" lines; '
            f"'{bad}' is not one."
        )
    return {name: str(value) for name, value in doc.items()}


def get_secret(name: str) -> str | None:
    """The secret called *name*, or ``None`` if none is stored."""
    from_env = os.environ.get(env_name(name))
    if from_env is not None:
        return from_env
    secrets_file = os.environ.get(FILE_ENV)
    if secrets_file:
        return read_secrets_file(Path(secrets_file)).get(name)
    keyring = _keyring()
    try:
        value = keyring.get_password(SERVICE, name)
    except keyring.errors.KeyringError as exc:
        raise _no_backend(exc) from None
    return value if value is None else str(value)


def set_secret(name: str, value: str) -> None:
    keyring = _keyring()
    try:
        keyring.set_password(SERVICE, name, value)
    except keyring.errors.KeyringError as exc:
        raise _no_backend(exc) from None


def delete_secret(name: str) -> None:
    keyring = _keyring()
    try:
        keyring.delete_password(SERVICE, name)
    except keyring.errors.PasswordDeleteError:
        pass
    except keyring.errors.KeyringError as exc:
        raise _no_backend(exc) from None
