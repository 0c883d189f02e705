"""The settings a callsys server pushes to its desktops (the ``server`` layer of ``callsys.settings``).

**Server** (``server.pushed_settings``): a TOML file written like ``/etc/callsys/settings.toml``
— values, and ``[locked] keys = […]`` — validated as such (``read_pushed``) and served to
authenticated desktops at ``GET /settings/layer`` (the desktop's token as a Bearer token and its
agent name in ``X-Callsys-Agent``, over the server's TLS when it has a certificate). The file is
read at each request: an edit reaches the desktops at their next fetch, without a restart.

**Desktop** (``fetch``, ``pull``): asks the server named by ``server.url`` with the same token,
agent and CA file as the server phone connection (``phone.options``), and keeps the answer beside
the user's settings file (``settings.server.json``, ``cache_path``). ``callsys.settings`` applies
that copy as the layer between the system file and the user's own — a lock below it still wins,
and its own locks keep the user's values out — for as long as ``server.url`` names the same
server. So a desktop that starts while the server is away keeps the organisation's last word.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from callsys.errors import CallsysError, ConfigError
from callsys.settings import layer_server as server_address
from callsys.settings import normal_server_url as normal_server
from callsys.settings import read_server_layer as read_cached
from callsys.settings import server_layer_path as cache_path

__all__ = [
    "LAYER_PATH",
    "cache_path",
    "connection",
    "fetch",
    "http_base",
    "pull",
    "read_cached",
    "read_pushed",
    "server_address",
]

#: Where the server serves the layer.
LAYER_PATH = "/settings/layer"
_TIMEOUT = 15.0


def read_pushed(path: Path) -> dict[str, Any]:
    """The server's file as the document it sends: ``{"values": {key: value}, "locked": [keys],
    "version": sha256 of the file}``. A file that is not valid raises ``ConfigError`` naming it."""
    from callsys.settings import system_layer

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"The pushed settings file {path} cannot be read: {exc.strerror}.") from None
    layer = system_layer(path)
    values = {key: list(v) if isinstance(v, tuple) else v for key, v in layer.values.items()}
    return {
        "values": values,
        "locked": sorted(layer.locked),
        "version": hashlib.sha256(raw).hexdigest(),
        "warnings": list(layer.warnings),
    }


def http_base(url: str) -> str:
    """``wss://host:8765/ws`` → ``https://host:8765`` (``ws://`` → ``http://``)."""
    parts = urlsplit(url.strip())
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    if scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"The callsys server address {url!r} is not a ws(s):// or http(s):// URL.")
    return f"{scheme}://{parts.netloc}"


def fetch(
    server_url: str,
    *,
    agent: str,
    token: str,
    ca_file: str = "",
    branch: str = "",
    extensions: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Ask the server for its layer; raises ``CallsysError`` saying why when it cannot."""
    import ssl
    import urllib.error
    import urllib.request

    query = urlencode([("branch", branch)] * bool(branch) + [("extension", e) for e in extensions])
    url = http_base(server_url) + LAYER_PATH + (f"?{query}" if query else "")
    request = urllib.request.Request(
        url,
        headers={"Authorization": f"Bearer {token}", "X-Callsys-Agent": agent, "Accept": "application/json"},
    )
    context: ssl.SSLContext | None = None
    if url.startswith("https://"):
        try:
            context = ssl.create_default_context(cafile=ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"The CA file {ca_file} cannot be read: {exc}.", key="phone.options.ca_file"
            ) from None
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT, context=context) as answer:
            body = answer.read(1 << 20)
    except urllib.error.HTTPError as exc:
        why = ""
        with contextlib.suppress(ValueError, AttributeError, OSError):
            why = str(json.loads(exc.read(4096)).get("error", ""))
        raise CallsysError(
            f"The callsys server did not send its settings (HTTP {exc.code}{': ' + why if why else ''})."
        ) from None
    except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CallsysError(f"The callsys server's settings could not be fetched: {reason}.") from None
    try:
        doc = json.loads(body)
    except ValueError:
        raise CallsysError("The callsys server sent settings that are not JSON.") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("values"), dict):
        raise CallsysError("The callsys server sent settings in a form this callsys does not know.")
    locked = doc.get("locked", [])
    if not isinstance(locked, list) or not all(isinstance(k, str) for k in locked):
        raise CallsysError("The callsys server sent a list of locked settings this callsys does not know.")
    return {
        "server": normal_server(server_url),
        "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "version": str(doc.get("version", "")),
        "values": dict(doc["values"]),
        "locked": list(locked),
    }


def connection(settings: Any) -> dict[str, Any]:
    """How this desktop reaches its server: the same options the server phone connection uses."""
    import getpass

    from callsys.secretnames import server_token_name
    from callsys.secrets import get_secret
    from callsys.settings import PROVIDER_OPTIONS

    options: Mapping[str, Any] = settings[PROVIDER_OPTIONS] or {}
    url = server_address(settings)
    token = options.get("token")
    if not isinstance(token, str) or not token:
        token = get_secret(server_token_name(options)) or ""
    exts = options.get("extensions", [])
    extensions = [e.strip() for e in exts.split(",")] if isinstance(exts, str) else [str(e) for e in exts]
    return {
        "server_url": url,
        "agent": str(options.get("agent") or getpass.getuser()),
        "token": token,
        "ca_file": str(options.get("ca_file") or ""),
        "branch": str(options.get("branch") or ""),
        "extensions": tuple(e for e in extensions if e),
    }


def pull(settings: Any) -> tuple[dict[str, Any], Path]:
    """Fetch this desktop's server layer and keep it beside its settings file. Returns the layer
    and the copy's path. Raises ``ConfigError`` when no server is set, ``CallsysError`` when the
    server does not answer or refuses."""
    from callsys.settings import config_path, write_atomic

    how = connection(settings)
    if not how["server_url"]:
        raise ConfigError("No callsys server is set (server.url).", key="server.url")
    doc = fetch(**how)
    target = cache_path(Path(settings.path) if settings.path is not None else config_path())
    write_atomic(target, json.dumps(doc, indent=1, ensure_ascii=False) + "\n", backup=False)
    return doc, target
