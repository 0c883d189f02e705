"""Access tokens for Dataverse (CARD5, contract §7).

``TokenProvider`` is the one thing ``DynamicsCrm`` needs: ``await provider.token()`` and, after
a 401, ``await provider.token(force_refresh=True)`` once. Implementations:

- ``MsalPublicTokens`` — the desktop: ``acquire_token_silent`` first, always; then the system
  browser with a loopback redirect; device-code flow when there is no browser.
- ``MsalConfidentialTokens`` — the server: client secret or certificate, application user.
- ``CommandTokens`` — a command the admin names (``az account get-access-token --resource ORG``).
- ``EnvTokens`` — a token in an environment variable (automation, our own subprocess tests).

MSAL is synchronous and may block for minutes (a browser sign-in), so it runs on a worker
thread (``asyncio.to_thread``), never on the loop. The MSAL token cache is encrypted at rest
with msal-extensions; without an OS secret store we refuse unless the user opted in to a
plaintext cache (``token_cache``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import shlex
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from callsys.errors import AuthError, ConfigError, SecretStoreError

__all__ = [
    "CommandTokens",
    "EnvTokens",
    "LazyTokens",
    "MsalConfidentialTokens",
    "MsalPublicTokens",
    "StaticTokens",
    "TokenProvider",
    "check_org_url",
    "is_loopback_host",
    "scopes_for",
    "token_cache",
]

log = logging.getLogger(__name__)


class TokenProvider(Protocol):
    async def token(self, *, force_refresh: bool = False) -> str: ...


# ---------------------------------------------------------------------------------- URLs
def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_org_url(url: str) -> str:
    """The organisation URL without a trailing slash; https only, except for loopback (tests)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(
            f"The Dynamics 365 address {url!r} is not a web address like https://contoso.crm.dynamics.com",
            key="crm.url",
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"The Dynamics 365 address {url!r} must use https:// — plain http:// is only "
            "accepted for a test server on this computer (localhost).",
            key="crm.url",
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def scopes_for(org_url: str) -> list[str]:
    return [f"{check_org_url(org_url)}/.default"]


# ---------------------------------------------------------------------------------- simple providers
class StaticTokens:
    """A fixed token (tests, or a token pasted by an admin)."""

    def __init__(self, token: str) -> None:
        if not token:
            raise AuthError("No access token was given.")
        self._token = token

    async def token(self, *, force_refresh: bool = False) -> str:
        return self._token


class LazyTokens:
    """Builds the real provider on the first ``token()`` call — so opening the app, or printing a
    record URL, never touches the keyring or the token cache. A configuration problem found
    then is an ``AuthError`` (the outbox keeps the writes and retries; nothing is dropped)."""

    def __init__(self, factory: Callable[[], TokenProvider]) -> None:
        self._factory = factory
        self._provider: TokenProvider | None = None

    async def token(self, *, force_refresh: bool = False) -> str:
        if self._provider is None:
            try:
                self._provider = self._factory()
            except (ConfigError, SecretStoreError) as exc:
                raise AuthError(str(exc)) from exc
        return await self._provider.token(force_refresh=force_refresh)


class EnvTokens:
    """The token in an environment variable, read anew on every refresh."""

    def __init__(self, variable: str = "CALLSYS_CRM_TOKEN") -> None:
        self.variable = variable

    async def token(self, *, force_refresh: bool = False) -> str:
        value = os.environ.get(self.variable, "").strip()
        if not value:
            raise AuthError(f"The environment variable {self.variable} holds no access token.")
        return value


class CommandTokens:
    """Runs a command that prints a token: raw text, or JSON with ``accessToken`` (Azure CLI) or
    ``access_token``. The token is reused until ``expiresOn``/``expires_on`` (or 5 minutes)."""

    def __init__(self, command: str | Sequence[str], *, timeout: float = 60.0) -> None:
        self.argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not self.argv:
            raise ConfigError("The token command is empty.", key="crm.token_command")
        self.timeout = timeout
        self._cached: tuple[str, float] | None = None

    async def token(self, *, force_refresh: bool = False) -> str:
        if self._cached and not force_refresh and self._cached[1] > time.time() + 60:
            return self._cached[0]
        token, expires = await asyncio.to_thread(self._run)
        self._cached = (token, expires)
        return token

    def _run(self) -> tuple[str, float]:
        try:
            done = subprocess.run(
                self.argv, capture_output=True, text=True, timeout=self.timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AuthError(f"The token command {self.argv[0]!r} could not run: {exc}") from None
        if done.returncode != 0:
            raise AuthError(
                f"The token command {self.argv[0]!r} failed (exit {done.returncode}): "
                f"{done.stderr.strip()[:300]}"
            )
        out = done.stdout.strip()
        expires = time.time() + 300
        if out.startswith("{"):
            try:
                data = json.loads(out)
            except ValueError:
                raise AuthError(f"The token command {self.argv[0]!r} printed malformed JSON.") from None
            token = str(data.get("accessToken") or data.get("access_token") or "")
            stamp = data.get("expires_on") or data.get("expiresOn")
            if isinstance(stamp, int | float) or (isinstance(stamp, str) and stamp.isdigit()):
                expires = float(stamp)
        else:
            token = out.splitlines()[0] if out else ""
        if not token:
            raise AuthError(f"The token command {self.argv[0]!r} printed no token.")
        return token, expires


# ---------------------------------------------------------------------------------- MSAL
def token_cache(path: Path, *, allow_plaintext: bool = False) -> Any:
    """An MSAL token cache persisted at *path*, encrypted by the OS (DPAPI, Keychain, libsecret).

    Without an OS secret store this raises ``SecretStoreError`` — unless *allow_plaintext*, the
    user's explicit opt-in, in which case the cache is a plain file readable only by the user.
    """
    from msal_extensions import FilePersistence, PersistedTokenCache, build_encrypted_persistence

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        persistence = build_encrypted_persistence(str(path))
        persistence.save(persistence.load() if path.exists() else "{}")  # prove it really works now
    except Exception as exc:  # msal-extensions raises a zoo of platform errors here
        if not allow_plaintext:
            raise SecretStoreError(
                "Your sign-in to Dynamics 365 cannot be stored encrypted on this computer: no system "
                f"secret store is available ({type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}). Install and unlock a "
                "keyring (on Linux: gnome-keyring or KWallet, with PyGObject and libsecret), or — if "
                "you accept that anyone who can read your files can use your sign-in — set "
                "crm.plaintext_token_cache = true in the settings."
            ) from None
        log.warning("storing the MSAL token cache UNENCRYPTED at %s (crm.plaintext_token_cache)", path)
        persistence = FilePersistence(str(path))
        if not path.exists():
            path.touch(mode=0o600)
        os.chmod(path, 0o600)
    return PersistedTokenCache(persistence)


def _token_from(result: Any, what: str) -> str:
    if isinstance(result, dict) and result.get("access_token"):
        return str(result["access_token"])
    if isinstance(result, dict):
        detail = result.get("error_description") or result.get("error") or "no token"
        raise AuthError(f"Sign-in to Dynamics 365 failed ({what}): {str(detail)[:300]}")
    raise AuthError(f"Sign-in to Dynamics 365 failed ({what}).")


class MsalPublicTokens:
    """Desktop sign-in: silent → browser (loopback redirect) → device code."""

    def __init__(
        self,
        org_url: str,
        client_id: str,
        authority: str,
        *,
        cache: Any = None,
        http_client: Any = None,
        show_device_code: Callable[[str], None] | None = None,
        interactive: bool = True,
        instance_discovery: bool | None = None,
    ) -> None:
        import msal

        self.scopes = scopes_for(org_url)
        kwargs: dict[str, Any] = {"authority": authority, "token_cache": cache}
        if http_client is not None:
            kwargs["http_client"] = http_client
        if instance_discovery is not None:
            kwargs["instance_discovery"] = instance_discovery
        self.app = msal.PublicClientApplication(client_id, **kwargs)
        self.show_device_code = show_device_code or (lambda message: log.warning("%s", message))
        self.interactive = interactive
        self.browser_timeout = 600  # a sign-in nobody finishes must not hold a thread forever
        self._lock = asyncio.Lock()

    async def token(self, *, force_refresh: bool = False) -> str:
        async with self._lock:  # one sign-in at a time, never two browser windows
            return await asyncio.to_thread(self._acquire, force_refresh)

    def _acquire(self, force_refresh: bool) -> str:
        for account in self.app.get_accounts():
            result = self.app.acquire_token_silent(self.scopes, account=account, force_refresh=force_refresh)
            if result and result.get("access_token"):
                return str(result["access_token"])
        if self.interactive:
            try:
                result = self.app.acquire_token_interactive(
                    self.scopes, port=None, prompt="select_account", timeout=self.browser_timeout
                )
                if isinstance(result, dict) and result.get("access_token"):
                    return str(result["access_token"])
                log.info(
                    "browser sign-in did not give a token (%s); trying the device code",
                    (result or {}).get("error"),
                )
            except Exception as exc:  # no browser, no display: fall back to the device code
                log.info("browser sign-in unavailable (%s); using the device code", exc)
        flow = self.app.initiate_device_flow(scopes=self.scopes)
        if "user_code" not in flow:
            raise AuthError(
                f"Sign-in to Dynamics 365 failed: {flow.get('error_description') or flow.get('error')}"
            )
        self.show_device_code(str(flow["message"]))
        return _token_from(self.app.acquire_token_by_device_flow(flow), "device code")


class MsalConfidentialTokens:
    """Server: an application user (client secret, or a certificate ``{"private_key":…,"thumbprint":…}``)."""

    def __init__(
        self,
        org_url: str,
        client_id: str,
        authority: str,
        credential: str | dict[str, str],
        *,
        http_client: Any = None,
        instance_discovery: bool | None = None,
    ) -> None:
        import msal

        if not credential:
            raise AuthError(
                "No client secret or certificate is configured for the server's Dynamics 365 sign-in."
            )
        self.scopes = scopes_for(org_url)
        kwargs: dict[str, Any] = {"authority": authority, "client_credential": credential}
        if http_client is not None:
            kwargs["http_client"] = http_client
        if instance_discovery is not None:
            kwargs["instance_discovery"] = instance_discovery
        self.app = msal.ConfidentialClientApplication(client_id, **kwargs)
        self._lock = asyncio.Lock()

    async def token(self, *, force_refresh: bool = False) -> str:
        async with self._lock:
            if force_refresh:
                # MSAL's client-credentials cache would hand the refused token back: drop it.
                self.app.remove_tokens_for_client()
            result = await asyncio.to_thread(self.app.acquire_token_for_client, self.scopes)
            return _token_from(result, "client credentials")
