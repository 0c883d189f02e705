"""Settings of the AMI provider, read from the plain mapping the registry hands to the factory.

Every key is optional except ``username`` and (normally) ``secret``; a bad value raises
``ConfigError`` naming the key (``phone.options.<key>``) and what was expected.

==================  ===========================================================================
key                 meaning
==================  ===========================================================================
name                provider name, prefixes every call id (``ami`` — one per PBX/branch, SET6)
host, port          the AMI listener (``127.0.0.1``, ``5038``)
username, secret    the ``manager.conf`` user (the secret comes from the keyring, never the file)
extensions          the extensions watched: ``["1001"]``; ``["*"]`` watches every endpoint whose
                    name is all digits (server mode). The first one is the phone that click-to-dial
                    rings first.
context             dialplan context for ``Originate`` (``from-internal``)
technology          channel technology for ``Originate``: ``PJSIP`` (default) or ``SIP``; watching
                    is technology-neutral whatever this says
prefix              route prefix put in front of public numbers by ``dial`` (SET3). The core's
                    ``numbers.dial_string`` may already add the outside-line prefix: configure it
                    in one of the two places, not both.
lines               SET4/IN12: ``[{id, label, did, prefix, context}]`` — a line the agent can dial
                    out on (its ``prefix``/``context`` win over the global ones; the dialplan also
                    sees ``CALLSYS_LINE=<id>``) and, by ``did``, the label of an incoming call
                    to that number
caller_id_name      click-to-dial presents the agent's extension to the called party with this
                    name (``"<name>" <1001>``); empty (default): the phone's own caller ID as the
                    PBX has it configured (its endpoint's ``callerid``)
originate_timeout   seconds the agent's phone rings for a click-to-dial (30)
variables           extra channel variables carried on the call (SET2) besides every inherited
                    (``__NAME``) variable, e.g. ``["IVR_DIGITS"]``
did_variable        variable holding the dialled DID (``CALLED_DID``, IN12)
line_variable       variable holding the receiving line's name (``CALLED_LINE``, IN12)
voicemail_exten     IN6: where "send to voicemail" sends a ringing caller (``Redirect``) — a
                    dialplan extension, ``${EXTEN}`` standing for the agent's extension:
                    ``vm${EXTEN}``, ``vmu${EXTEN}`` (FreePBX), ``*97``. Empty (default): no
                    voicemail button
voicemail_context   the dialplan context of that extension (default: ``context``)
voicemail_priority  its priority (1)
number_plan         how caller IDs are read (``numbers.NumberPlan``): the configured plan, put in
                    by the desktop and the server (``numbers.plan_from_settings``)
region, area_code   override the plan's for this connection (without a plan: ``IR``, none)
pbx_clock           stamp events with Asterisk's ``Timestamp`` (true) — exact durations
ping_interval ...   keep-alive and reconnect timing: ping_interval (20), ping_timeout (10),
                    connect_timeout (5), action_timeout (10), backoff_initial (0.25),
                    backoff_max (1 — the longest wait between two attempts while the PBX is
                    away, so it is found again within about a second of being back)
link_grace          seconds the calls of a lost link stay as they were (2): a link back by then
                    loses nothing; after that every live call ends as of the moment the PBX was
                    last heard, so no desktop shows a dead call as talking through an outage
==================  ===========================================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from callsys.errors import ConfigError
from callsys.numbers import NumberPlan
from callsys.optionkeys import OptionKeys

__all__ = ["OPTION_KEYS", "AmiLine", "AmiOptions"]

# IN6: a voicemail target is a dialplan extension, optionally with ${EXTEN} (the agent's
# extension) in it; nothing that could smuggle another header or a dialplan function into Redirect.
_VOICEMAIL_EXTEN = re.compile(r"^(?:[A-Za-z0-9*#+_.-]|\$\{EXTEN\})+$")
_DIALPLAN_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")


@dataclass(frozen=True, slots=True)
class AmiLine:
    id: str
    label: str
    did: str = ""
    prefix: str = ""
    context: str = ""


def _key(name: str) -> str:
    return f"phone.options.{name}"


def _str(options: Mapping[str, Any], name: str, default: str) -> str:
    value = options.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ConfigError(f"{name} must be text, not {value!r}.", key=_key(name))
    return str(value).strip()


def _num(options: Mapping[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"{name} must be a number from {low:g} to {high:g}, not {value!r}.", key=_key(name))
    return float(value)


def _str_list(options: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = options.get(name, ())
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",")]
    if not isinstance(value, Sequence) or not all(isinstance(v, str | int) for v in value):
        raise ConfigError(f"{name} must be a list of text values, not {value!r}.", key=_key(name))
    return tuple(str(v).strip() for v in value if str(v).strip())


def _lines(options: Mapping[str, Any]) -> tuple[AmiLine, ...]:
    value = options.get("lines", ())
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ConfigError("lines must be a list of tables with at least an id.", key=_key("lines"))
    out = []
    for entry in value:
        item = {"id": entry} if isinstance(entry, str) else entry
        if not isinstance(item, Mapping) or not item.get("id"):
            raise ConfigError(f"each line needs an id, got {item!r}.", key=_key("lines"))
        ident = str(item["id"])
        out.append(
            AmiLine(
                id=ident,
                label=str(item.get("label") or ident),
                did=str(item.get("did") or ""),
                prefix=str(item.get("prefix") or ""),
                context=str(item.get("context") or ""),
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class AmiOptions:
    username: str
    secret: str = ""
    name: str = "ami"
    host: str = "127.0.0.1"
    port: int = 5038
    extensions: tuple[str, ...] = ()
    context: str = "from-internal"
    technology: str = "PJSIP"
    prefix: str = ""
    lines: tuple[AmiLine, ...] = ()
    caller_id_name: str = ""
    originate_timeout: float = 30.0
    variables: tuple[str, ...] = ()
    did_variable: str = "CALLED_DID"
    voicemail_exten: str = ""  # "" = no voicemail (IN6); ${EXTEN} = the agent's extension
    voicemail_context: str = ""
    voicemail_priority: int = 1
    line_variable: str = "CALLED_LINE"
    number_plan: NumberPlan = field(default_factory=NumberPlan)
    pbx_clock: bool = True
    ping_interval: float = 20.0
    ping_timeout: float = 10.0
    connect_timeout: float = 5.0
    action_timeout: float = 10.0
    backoff_initial: float = 0.25
    backoff_max: float = 1.0
    link_grace: float = 2.0

    @property
    def watch_all(self) -> bool:
        return "*" in self.extensions

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> AmiOptions:
        username = _str(options, "username", "")
        if not username:
            raise ConfigError(
                "The Asterisk connection needs the AMI user name from manager.conf.", key=_key("username")
            )
        port = _num(options, "port", 5038, 1, 65535)
        if port != int(port):
            raise ConfigError(f"port must be a whole number, not {port!r}.", key=_key("port"))
        technology = _str(options, "technology", "PJSIP")
        if not technology or "/" in technology:
            raise ConfigError(
                f"technology must be e.g. PJSIP or SIP, not {technology!r}.", key=_key("technology")
            )
        plan = options.get("number_plan")
        if plan is not None and not isinstance(plan, NumberPlan):
            raise ConfigError("number_plan must be a NumberPlan.", key=_key("number_plan"))
        # The configured plan (the front end passes it) is the base; this connection's own
        # region/area_code, when written, win; its route prefix is always its own ``prefix``
        # (the plan's outside-line prefix is added by the core's dial_string, not here).
        base = plan if plan is not None else NumberPlan()
        try:
            plan = replace(
                base,
                region=_str(options, "region", base.region) or base.region,
                area_code=_str(options, "area_code", base.area_code),
                dial_prefix=_str(options, "prefix", ""),
            )
        except ValueError as exc:
            raise ConfigError(str(exc), key=_key("region")) from None
        pbx_clock = options.get("pbx_clock", True)
        if not isinstance(pbx_clock, bool):
            raise ConfigError(f"pbx_clock must be true or false, not {pbx_clock!r}.", key=_key("pbx_clock"))
        voicemail_exten = _str(options, "voicemail_exten", "")
        if voicemail_exten and not _VOICEMAIL_EXTEN.fullmatch(voicemail_exten):
            raise ConfigError(
                f"voicemail_exten must be a dialplan extension such as vm${{EXTEN}} or *97, "
                f"not {voicemail_exten!r}.",
                key=_key("voicemail_exten"),
            )
        context = _str(options, "context", "from-internal") or "from-internal"
        voicemail_context = _str(options, "voicemail_context", "") or context
        if not _DIALPLAN_NAME.fullmatch(voicemail_context):
            raise ConfigError(
                f"voicemail_context must be a dialplan context name, not {voicemail_context!r}.",
                key=_key("voicemail_context"),
            )
        voicemail_priority = _num(options, "voicemail_priority", 1, 1, 99999)
        if voicemail_priority != int(voicemail_priority):
            raise ConfigError(
                f"voicemail_priority must be a whole number, not {voicemail_priority!r}.",
                key=_key("voicemail_priority"),
            )
        return cls(
            username=username,
            secret=_str(options, "secret", ""),
            name=_str(options, "name", "ami") or "ami",
            host=_str(options, "host", "127.0.0.1") or "127.0.0.1",
            port=int(port),
            extensions=_str_list(options, "extensions"),
            context=context,
            technology=technology,
            prefix=_str(options, "prefix", ""),
            lines=_lines(options),
            caller_id_name=_str(options, "caller_id_name", ""),
            originate_timeout=_num(options, "originate_timeout", 30.0, 1, 600),
            variables=_str_list(options, "variables"),
            did_variable=_str(options, "did_variable", "CALLED_DID").lstrip("_"),
            line_variable=_str(options, "line_variable", "CALLED_LINE").lstrip("_"),
            voicemail_exten=voicemail_exten,
            voicemail_context=voicemail_context,
            voicemail_priority=int(voicemail_priority),
            number_plan=plan,
            pbx_clock=pbx_clock,
            ping_interval=_num(options, "ping_interval", 20.0, 0.01, 3600),
            ping_timeout=_num(options, "ping_timeout", 10.0, 0.01, 600),
            connect_timeout=_num(options, "connect_timeout", 5.0, 0.01, 600),
            action_timeout=_num(options, "action_timeout", 10.0, 0.01, 600),
            backoff_initial=_num(options, "backoff_initial", 0.25, 0.001, 600),
            backoff_max=_num(options, "backoff_max", 1.0, 0.001, 3600),
            link_grace=_num(options, "link_grace", 2.0, 0, 3600),
        )


#: Every key ``AmiOptions.from_mapping`` reads (any other gets a warning, callsys.optionkeys).
OPTION_KEYS = OptionKeys(
    "the Asterisk (AMI) connection",
    {
        **dict.fromkeys(
            (
                "name", "host", "port", "username", "secret", "extensions", "context", "technology",
                "prefix", "caller_id_name", "originate_timeout", "variables", "did_variable",
                "line_variable", "voicemail_exten", "voicemail_context", "voicemail_priority",
                "region", "area_code", "number_plan", "pbx_clock", "ping_interval", "ping_timeout",
                "connect_timeout", "action_timeout", "backoff_initial", "backoff_max",
                "link_grace",
                "secret_name",  # the keyring name of the secret (callsys.secretnames, the server)
            )
        ),
        "lines": dict.fromkeys(("id", "label", "did", "prefix", "context")),
    },
)  # fmt: skip
