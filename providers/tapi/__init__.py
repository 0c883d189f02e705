"""TAPI provider (SET1, CARD2): the desk phones of Avaya, Panasonic, Cisco and Mitel PBXs through
Windows telephony and the vendor's TAPI service provider. ``providers.tapi.provider`` maps TAPI's
messages to calls, ``providers.tapi.binding`` is the ``ctypes`` layer on ``tapi32.dll``,
``providers.tapi.structs`` the structure layouts of ``tapi.h``, ``providers.tapi.options`` the
settings. See docs/tapi.md."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.tapi.binding import NOT_WINDOWS_MESSAGE
from providers.tapi.errors import MONITOR_ONLY_MESSAGE, TapiError, describe
from providers.tapi.options import OPTION_KEYS, TapiLine, TapiOptions
from providers.tapi.provider import NO_LINES_MESSAGE, LineList, TapiProvider, list_lines

__all__ = [
    "MONITOR_ONLY_MESSAGE",
    "NOT_WINDOWS_MESSAGE",
    "NO_LINES_MESSAGE",
    "OPTION_KEYS",
    "LineList",
    "TapiError",
    "TapiLine",
    "TapiOptions",
    "TapiProvider",
    "create",
    "describe",
    "list_lines",
]


def create(options: Mapping[str, Any]) -> TapiProvider:
    """The registry's factory for ``tapi``."""
    return TapiProvider(options)
