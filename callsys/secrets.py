"""Secrets (SIP passwords, AMI secrets, client secrets) live only in the OS keyring.

Names are plain strings such as ``sip/1001@pbx.example.com`` or ``dynamics/client-secret``;
the keyring service is always ``callsys``. Without a usable keyring backend (a headless Linux
box with no Secret Service) every call raises ``SecretStoreError`` with a message that says so
and how to fix it — we never fall back to writing secrets into a file.

For automation (CI, containers) a secret can also come from the environment:
``CALLSYS_SECRET_<NAME>`` with every non-alphanumeric character of NAME turned into ``_`` and
upper-cased (``sip/1001@pbx`` → ``CALLSYS_SECRET_SIP_1001_PBX``). The environment wins.
"""

from __future__ import annotations

import os
import re
from typing import Any

from callsys.errors import SecretStoreError

__all__ = ["SERVICE", "delete_secret", "env_name", "get_secret", "set_secret"]

SERVICE = "callsys"


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


def get_secret(name: str) -> str | None:
    """The secret called *name*, or ``None`` if none is stored."""
    from_env = os.environ.get(env_name(name))
    if from_env is not None:
        return from_env
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
