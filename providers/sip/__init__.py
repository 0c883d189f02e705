"""The embedded SIP softphone (CARD1): pjsua2 behind a small engine interface.

Importing this package is cheap: pjsua2 is loaded only when a phone starts.

* ``create_provider(options)`` — the factory registered as ``"sip"`` in ``providers.REGISTRY``;
* ``providers.sip.provider.SipProvider`` — the ``callsys.provider.Provider``;
* ``providers.sip.options`` — the options mapping (lines = SIP accounts, audio devices, …);
* ``providers.sip.phone_cli.run_phone`` — ``callsys phone``, the headless phone.

Limits: the pjsua2 build's (``providers.sip.engines``): with the PyPI wheel at most 4 calls at
once — a 5th incoming call is answered 486 Busy Here by the phone itself; 32 with our own build.

Calling a phone in direct mode (no registrar) from baresip::

    baresip> /dial sip:callsys@192.0.2.10:5060
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from callsys.provider import Provider

__all__ = ["create_provider"]


def create_provider(options: Mapping[str, Any]) -> Provider:
    """The ``"sip"`` factory. An optional ``"number_plan"`` entry (a ``callsys.numbers.NumberPlan``)
    makes incoming numbers read the way the rest of callsys reads them."""
    from providers.sip.provider import SipProvider

    plan = options.get("number_plan")
    parse = getattr(plan, "parse", None)
    return SipProvider(options, parse_number=parse if callable(parse) else None)
