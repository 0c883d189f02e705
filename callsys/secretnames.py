"""Where the phone connections' secrets live in the keyring, and putting them into the provider
options (SET1, CARD1, CARD5). The one place these names are decided: the desktop's composition
root and Settings dialog, ``callsys phone``, the server provider and the Dynamics sign-in all ask
here, so a password stored by one is found by the others.

* a SIP line that registers: ``sip/USER@DOMAIN`` (or the line's ``secret_name``), put into the
  line's ``password``;
* the Asterisk manager login: ``ami/USER@HOST`` (or the options' ``secret_name``), into ``secret``;
* this desktop's token for a callsys server: ``server/token`` (or ``token_secret``) — the server
  provider reads it itself;
* the Dynamics 365 client secret: ``dynamics/client-secret`` (read by ``callsys.crm.dynamics.setup``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from callsys.errors import CallsysError
from callsys.secrets import get_secret

__all__ = [
    "DYNAMICS_SECRET",
    "ami_secret_name",
    "provider_secret_name",
    "server_token_name",
    "sip_secret_names",
    "with_secrets",
]

#: The keyring entry of the Dynamics 365 client secret.
DYNAMICS_SECRET = "dynamics/client-secret"


def _host(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    if "://" not in text and not text.startswith(("sip:", "sips:")):
        return text.split(":")[0]
    if text.startswith(("sip:", "sips:")):
        text = text.split(":", 1)[1]
        return text.split(";")[0].split(":")[0].split("@")[-1]
    return urlsplit(text).hostname or ""


def _sip_line_secret(line: Mapping[str, Any]) -> str:
    user = str(line.get("auth_user") or line.get("user") or "")
    domain = str(line.get("domain") or _host(str(line.get("registrar", ""))))
    return str(line.get("secret_name") or f"sip/{user}@{domain}")


def sip_secret_names(options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(line label, keyring name) of each SIP line that registers: ``sip/USER@DOMAIN``, or the
    line's own ``secret_name``."""
    out: list[tuple[str, str]] = []
    lines = options.get("lines")
    for line in lines if isinstance(lines, list | tuple) else ():
        if isinstance(line, Mapping) and line.get("registrar"):
            label = str(line.get("label") or line.get("id") or line.get("user") or "")
            out.append((label, _sip_line_secret(line)))
    return out


def ami_secret_name(options: Mapping[str, Any]) -> str:
    """The keyring name of the AMI secret: ``ami/USER@HOST`` or the options' ``secret_name``."""
    if options.get("secret_name"):
        return str(options["secret_name"])
    return f"ami/{options.get('username') or 'callsys'}@{options.get('host') or '127.0.0.1'}"


def server_token_name(options: Mapping[str, Any]) -> str:
    """The keyring name of this desktop's token for a callsys server (``server/token``)."""
    return str(options.get("token_secret") or "server/token")


def provider_secret_name(provider: str, options: Mapping[str, Any]) -> str:
    """The one keyring secret a provider needs besides SIP line passwords ("" for none)."""
    if provider == "ami":
        return ami_secret_name(options)
    if provider == "server":
        return server_token_name(options)
    return ""


def with_secrets(
    provider: str, options: Mapping[str, Any], typed: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """*options* with the passwords filled in: typed in the settings dialog (not saved yet), else
    from the keyring. A keyring that cannot be read leaves the password empty: the provider then
    reports the refused registration / login in its status, the window stays open."""
    typed = typed or {}

    def secret(name: str) -> str:
        if typed.get(name):
            return typed[name]
        try:
            return get_secret(name) or ""
        except CallsysError:
            return ""

    out = dict(options)
    if provider == "ami" and not out.get("secret"):
        out["secret"] = secret(ami_secret_name(out))
    if provider == "server" and not out.get("token") and typed.get(server_token_name(out)):
        out["token"] = typed[server_token_name(out)]  # not saved yet; else the provider reads the keyring
    if provider == "sip" and isinstance(out.get("lines"), list | tuple):
        lines: list[Any] = []
        for line in out["lines"]:
            if isinstance(line, Mapping) and line.get("registrar") and not line.get("password"):
                lines.append({**line, "password": secret(_sip_line_secret(line))})
            else:
                lines.append(line)
        out["lines"] = lines
    return out
