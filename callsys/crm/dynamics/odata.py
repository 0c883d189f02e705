"""OData pieces for the Dataverse Web API: string literals, query strings, error bodies.

A caller ID is hostile input. Everything that goes into a ``$filter`` passes through
``literal`` (single quotes doubled, contract §1.2) and then the whole query value through
``encode_query`` (``+`` → ``%2B``, ``%`` → ``%25``, ``&`` → ``%26``, unicode → UTF-8 escapes),
because Dataverse decodes a bare ``+`` in a query string as a space.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

__all__ = [
    "SAFE_PHONE_TEXT",
    "encode_query",
    "eq_any",
    "error_from_body",
    "is_guid",
    "literal",
]

#: Characters a written phone number may contain when we put it into an ``eq`` filter. SQL
#: wildcards (``% _ [ ]``) never appear in a real written number, so a value containing one is
#: not sent at all rather than trusted to escaping.
SAFE_PHONE_TEXT = re.compile(r"^[0-9+()\-. /]{1,64}$")

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


def is_guid(value: str) -> bool:
    return bool(_GUID.match(value))


def literal(value: str) -> str:
    """An OData string literal: quoted, single quotes doubled (``O'Bryan`` → ``'O''Bryan'``)."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    return "'" + value.replace("'", "''") + "'"


def column(name: str) -> str:
    """A column name checked against the OData identifier grammar (settings may be wrong)."""
    if not _COLUMN.match(name):
        raise ValueError(f"not a column name: {name!r}")
    return name


def eq_any(columns: Iterable[str], values: Iterable[str]) -> str:
    """``c1 eq 'v1' or c1 eq 'v2' or c2 eq 'v1' …`` — exact matches only, never a wildcard."""
    vals = list(dict.fromkeys(values))
    return " or ".join(f"{column(c)} eq {literal(v)}" for c in columns for v in vals)


def encode_query(params: Mapping[str, str]) -> str:
    """``$select=…&$filter=…`` with every value percent-encoded for a request line."""
    parts = []
    for key, value in params.items():
        parts.append(quote(key, safe="$") + "=" + quote(value, safe="'(),/:$@*"))
    return "&".join(parts)


def error_from_body(text: str) -> tuple[str, str]:
    """(code, message) from a Web API error body ``{"error":{"code":…,"message":…}}``.

    Anything else (a proxy's HTML page, multipart text, a stack trace) gives at most its first
    line of plain text, never markup: the message ends up in front of a user."""
    try:
        body: Any = json.loads(text) if text else {}
    except ValueError:
        return "", _plain(text)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        return str(err.get("code") or ""), " ".join(str(err.get("message") or "").split())[:500]
    return "", _plain(text) if isinstance(body, str) else ""


def _plain(text: str) -> str:
    """The first line of *text* when it reads as a sentence, else ``""``."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if not line or line.startswith(("--", "<", "{", "[")) or ":" in line.split(" ", 1)[0]:
        return ""  # multipart boundary, markup, JSON, a header line
    return line[:200]
