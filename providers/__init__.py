"""Telephony adapters. ``REGISTRY`` is the explicit name → factory table (no entry points:
Briefcase bundles lose them). Factories import their heavy dependencies (pjsua2 …) lazily, so
importing this package stays cheap and Qt-free."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callsys.optionkeys import OptionKeys
from callsys.provider import Provider, ProviderRegistry

__all__ = ["REGISTRY"]

REGISTRY = ProviderRegistry()


def _sim(options: Mapping[str, Any]) -> Provider:
    from providers.sim import SimulatedProvider

    return SimulatedProvider(options)


def _sim_keys() -> OptionKeys:
    from providers.sim import OPTION_KEYS

    return OPTION_KEYS


REGISTRY.register("sim", _sim, "Simulated phone system (demo)", _sim_keys)


def _sip(options: Mapping[str, Any]) -> Provider:
    from providers.sip import create_provider  # pjsua2 is imported only when the phone starts

    return create_provider(options)


def _sip_keys() -> OptionKeys:
    from providers.sip.options import OPTION_KEYS  # no pjsua2

    return OPTION_KEYS


REGISTRY.register("sip", _sip, "Embedded softphone (SIP, up to 4 calls)", _sip_keys)


def _server(options: Mapping[str, Any]) -> Provider:
    from providers.server import ServerProvider  # websockets is imported only when it is used

    return ServerProvider(options)


def _server_keys() -> OptionKeys:
    from providers.server import OPTION_KEYS

    return OPTION_KEYS


REGISTRY.register("server", _server, "callsys server (calls and logging from a central server)", _server_keys)


def _ami(options: Mapping[str, Any]) -> Provider:
    from providers.ami import AmiProvider

    return AmiProvider(options)


def _ami_keys() -> OptionKeys:
    from providers.ami.options import OPTION_KEYS

    return OPTION_KEYS


REGISTRY.register("ami", _ami, "Asterisk (AMI)", _ami_keys)


def _tapi(options: Mapping[str, Any]) -> Provider:
    from providers.tapi import TapiProvider  # loads tapi32.dll only when the phone starts

    return TapiProvider(options)


def _tapi_keys() -> OptionKeys:
    from providers.tapi.options import OPTION_KEYS

    return OPTION_KEYS


REGISTRY.register("tapi", _tapi, "Desk phone through Windows telephony (TAPI)", _tapi_keys)
