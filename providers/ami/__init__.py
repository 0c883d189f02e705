"""Asterisk Manager Interface provider (SET1): see ``providers.ami.provider`` for how AMI events
become calls, ``providers.ami.client`` for the connection, ``providers.ami.options`` for the
settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.ami.client import ActionFailed, AmiClient, ListResult
from providers.ami.options import AmiLine, AmiOptions
from providers.ami.protocol import FrameParser, Message, encode_action
from providers.ami.provider import NO_ANSWER_MESSAGE, AmiProvider, endpoint_of

__all__ = [
    "NO_ANSWER_MESSAGE",
    "ActionFailed",
    "AmiClient",
    "AmiLine",
    "AmiOptions",
    "AmiProvider",
    "FrameParser",
    "ListResult",
    "Message",
    "create",
    "encode_action",
    "endpoint_of",
]


def create(options: Mapping[str, Any]) -> AmiProvider:
    """The registry's factory for ``ami``."""
    return AmiProvider(options)
