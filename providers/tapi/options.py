"""Settings of the TAPI provider, read from the plain mapping the registry hands to the factory.

Every key is optional; a bad value raises ``ConfigError`` naming the key (``phone.options.<key>``).

==================  ===========================================================================
key                 meaning
==================  ===========================================================================
name                provider name, prefixes every call id (``tapi``)
lines               the TAPI lines to open: ``[{id, label, did, prefix, monitor_only}]`` — ``id``
                    is the line's name as the TSP reports it (``lineGetDevCaps``, the list in
                    Settings); ``label`` how callsys shows it (IN12, SET4); ``did`` the number
                    that rings it, so a call to that number is labelled with it; ``prefix`` a
                    route prefix for public numbers dialled on it (SET3); ``monitor_only`` opens
                    it to watch, not to answer. Empty (default): every line TAPI offers.
monitor_only        open every line to watch only (no answer, reject, dial …): for a TSP that
                    gives this user no control, so the buttons say so instead of failing
prefix              route prefix put in front of public numbers by ``dial`` (SET3). The core's
                    ``phone.dial_prefix`` may already add the outside-line prefix: configure it
                    in one of the two places, not both.
region, area_code   how caller IDs are read: the configured number plan (``number_plan``, put in
                    by the front end), unless written here
reply_timeout       seconds to wait for a request's ``LINE_REPLY`` (10)
library             the TAPI library to load (default ``tapi32.dll``; the tests load a fake)
==================  ===========================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from callsys.errors import ConfigError
from callsys.numbers import NumberPlan
from callsys.optionkeys import OptionKeys

__all__ = ["OPTION_KEYS", "TapiLine", "TapiOptions"]


@dataclass(frozen=True, slots=True)
class TapiLine:
    id: str  # the TAPI line name (LINEDEVCAPS)
    label: str
    did: str = ""
    prefix: str = ""
    monitor_only: bool = False


def _key(name: str) -> str:
    return f"phone.options.{name}"


def _str(options: Mapping[str, Any], name: str, default: str = "") -> str:
    value = options.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ConfigError(f"{name} must be text, not {value!r}.", key=_key(name))
    return str(value).strip()


def _bool(options: Mapping[str, Any], name: str, where: str) -> bool:
    value = options.get(name, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false, not {value!r}.", key=where)
    return value


def _lines(options: Mapping[str, Any]) -> tuple[TapiLine, ...]:
    value = options.get("lines", ())
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ConfigError(
            "lines must be a list of tables with at least an id (the TAPI line's name).", key=_key("lines")
        )
    out = []
    for index, entry in enumerate(value):
        item = {"id": entry} if isinstance(entry, str) else entry
        if not isinstance(item, Mapping) or not str(item.get("id") or "").strip():
            raise ConfigError(
                f"each line needs an id (the TAPI line's name as listed in Settings), got {item!r}.",
                key=_key("lines"),
            )
        ident = str(item["id"]).strip()
        prefix = str(item.get("prefix") or "").strip()
        if prefix and not all(c.isdigit() or c in "*#" for c in prefix):
            raise ConfigError(
                f"the prefix of line {ident!r} must be digits, * or #, not {prefix!r}.", key=_key("lines")
            )
        out.append(
            TapiLine(
                id=ident,
                label=str(item.get("label") or ident).strip(),
                did=str(item.get("did") or "").strip(),
                prefix=prefix,
                monitor_only=_bool(item, "monitor_only", f"{_key('lines')}[{index}].monitor_only"),
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class TapiOptions:
    name: str = "tapi"
    lines: tuple[TapiLine, ...] = ()
    monitor_only: bool = False
    prefix: str = ""
    number_plan: NumberPlan = field(default_factory=NumberPlan)
    reply_timeout: float = 10.0
    library: str = ""

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> TapiOptions:
        prefix = _str(options, "prefix")
        given = options.get("number_plan")
        if given is not None and not isinstance(given, NumberPlan):
            raise ConfigError("number_plan must be a NumberPlan.", key=_key("number_plan"))
        # The configured plan (the front end passes it) is the base, as for the AMI connection;
        # this connection's own region/area_code, when written, win; its route prefix is its own.
        base = given if given is not None else NumberPlan()
        try:
            plan = replace(
                base,
                region=_str(options, "region", base.region) or base.region,
                area_code=_str(options, "area_code", base.area_code),
                dial_prefix=prefix,
            )
        except ValueError as exc:
            key = "prefix" if "prefix" in str(exc) else "area_code" if "area" in str(exc) else "region"
            raise ConfigError(str(exc), key=_key(key)) from None
        timeout = options.get("reply_timeout", 10.0)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0.01 <= timeout <= 600:
            raise ConfigError(
                f"reply_timeout must be a number of seconds from 0.01 to 600, not {timeout!r}.",
                key=_key("reply_timeout"),
            )
        return cls(
            name=_str(options, "name", "tapi") or "tapi",
            lines=_lines(options),
            monitor_only=_bool(options, "monitor_only", _key("monitor_only")),
            prefix=prefix,
            number_plan=plan,
            reply_timeout=float(timeout),
            library=_str(options, "library"),
        )


#: Every key ``TapiOptions.from_mapping`` reads (any other gets a warning, callsys.optionkeys).
OPTION_KEYS = OptionKeys(
    "the TAPI (Windows telephony) connection",
    {
        **dict.fromkeys(
            (
                "name",
                "monitor_only",
                "prefix",
                "region",
                "area_code",
                "number_plan",
                "reply_timeout",
                "library",
            )
        ),
        "lines": dict.fromkeys(("id", "label", "did", "prefix", "monitor_only")),
    },
)
