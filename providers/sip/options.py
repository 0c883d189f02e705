"""Settings of the embedded softphone, read from the provider's options mapping.

The lead's composition root builds the mapping from ``phone.options`` in the settings file and
puts each line's password in from the keyring. Shape (every key optional)::

    {
      "lines": [                         # SET4: one SIP account per line; none = direct mode
        {"id": "office", "label": "Office", "registrar": "sip:pbx.example.com",
         "user": "1001", "auth_user": "1001", "password": "…",   # password from the keyring
         "domain": "pbx.example.com", "proxy": "", "transport": "udp",   # udp | tcp | tls
         "display_name": "Reception", "reg_timeout": 300,
         "tls_verify": true,             # transport tls: check the server's certificate
         "tls_ca_file": "",              # PEM file of trusted CAs; "" = the system's list
         "tls_cert_file": "", "tls_key_file": "",   # client certificate, if the server wants one
         "accept_only_from_server": true,  # registered: INVITEs only from the registrar/proxy
         "srtp": "off",                  # off | optional | mandatory: encrypted audio (SDES)
         "srtp_secure_signaling": 0}     # 0: any transport, 1: TLS to the server, 2: sips: end to end
      ],
      "default_line": "office",
      "reachable": false,                             # direct mode: reachable from the network?
      "allowed_peers": ["192.0.2.0/24"],              # …and then only from these (none = any)
      "listen_host": "127.0.0.1", "listen_port": 5060,  # direct mode: where calls reach us
      "user": "callsys",                              # direct mode: our SIP user name
      "rtp_port": 4000, "rtp_port_range": 1000,       # 0 = any free port
      "dnd": false, "auto_answer": false, "auto_answer_delay": 0.0,
      "reject_code": 486,                              # 486 Busy Here or 603 Decline
      "ring_timeout": 120,                             # then 480, a missed call; 0 = never
      "ringing_per_source": 2,                         # direct lines: ringing calls per address
      "unknown_ring_timeout": 30,                      # direct lines: ring time, unknown callers
      "poll_interval_ms": 20,                          # timer poll (SIP sockets wake it at once)
      "reg_retry": 30,                                 # re-register 30 s after a failure
      "audio": {"mode": "device",                     # device | files | none
                "input_device": "Jabra EVOLVE 20 MS",         # devices by name (Settings →
                "output_device": "Jabra EVOLVE 20 MS",        # Audio); absent = system default,
                "ring_device": "Built-in Audio",              # (ringtone: else output_device)
                "play_file": "tone.wav", "record_dir": "/tmp/rec"},   # files mode
      "log_file": "", "log_level": 3,
      "engine": "auto"                                 # auto | wheel | built (providers.sip.engines)
    }

A line with no ``registrar`` is a direct line: it does not register and takes calls sent
straight to ``listen_host:listen_port``. With no ``lines`` at all the phone is one direct line.

A direct line answers anyone who can reach its port, without a password, so it is reachable
from this computer only until ``reachable`` is turned on: a phone with only direct lines listens
on 127.0.0.1 (``listen_host`` defaults to ``0.0.0.0`` only with ``reachable``), and a direct
line of a phone that also registers (and so listens on every interface, for its PBX) refuses
calls from other computers with ``403 Forbidden``. ``allowed_peers`` (IP addresses and
networks, ``"192.0.2.7"``, ``"192.0.2.0/24"``, ``"2001:db8::/32"``) makes the phone reachable
for those peers only; ``reachable`` alone, for anyone. This computer always may call. Calls on a registered line come through its
PBX and are not filtered here. An explicit ``listen_host`` is used as written.

Who may ring the phone. A registered line with ``accept_only_from_server`` (the default) takes
INVITEs only from the addresses its registrar (or outbound proxy) answered its REGISTER from,
and from the registrar's and proxy's own IP addresses if they are written as such; any other
source gets ``403 Forbidden`` before the call opens anything (as desk phones do). Until the line
has registered once every source is taken; a PBX cluster or SBC that sends calls from other
addresses than the one answering REGISTER needs it off. A direct line has no such server, so there at most
``ringing_per_source`` calls (default 2; 0 = no limit) may ring at once from one IP address (the
next gets ``486 Busy Here``), and a call from an address no call was answered from yet this run
rings at most ``unknown_ring_timeout`` seconds (default 30; 0 = ``ring_timeout``). Four INVITEs
that are never cancelled would otherwise take all 4 calls for ``ring_timeout``.

A line's ``voicemail_uri`` (e.g. ``"sip:*97@pbx.example.com"``, or just ``"*97"`` for the line's
domain) is where "send to voicemail" (IN6) redirects a ringing call: the INVITE is answered
``302 Moved Temporarily`` with that ``Contact``. Without it the line offers no voicemail.

A line's ``srtp`` encrypts its calls' audio (SRTP, keys exchanged in the SDP, RFC 4568):
``optional`` offers it and takes plain RTP too, ``mandatory`` offers only SRTP and refuses a call
whose offer has none with ``488 Not Acceptable Here`` (the phone says why).
``srtp_secure_signaling`` is pjsua's: 0 allows it over any signalling (the keys travel in the
SDP: over UDP or TCP anyone who sees the SIP sees them), 1 only over TLS to the next hop, 2 only
end to end (sips:). Both engines (the PyPI wheel and our build) have libsrtp.

TLS lines check the server's certificate (its chain and that it was issued for the registrar's
or proxy's host name or IP address) unless ``tls_verify`` is false. The pjsua2 wheel's OpenSSL
does not read the system's trust store by itself, so an empty ``tls_ca_file`` means the
system's CA bundle found by :func:`system_ca_file`. A ``sips:`` registrar implies ``tls``.
``tls_cert_file`` (PEM) is the line's client certificate for servers that ask for one, with its
unencrypted private key in ``tls_key_file`` or in the same file.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from callsys.errors import ConfigError
from callsys.optionkeys import OptionKeys

__all__ = [
    "MAX_CALLS",
    "OPTION_KEYS",
    "SRTP_MODES",
    "TRANSPORTS",
    "AudioOptions",
    "LineConfig",
    "SipOptions",
    "system_ca_file",
]

#: The pjsua2-python wheel is compiled with PJSUA_MAX_CALLS = 4: a fifth call gets 486 Busy Here.
#: The engine that runs says its own limit (``providers.sip.engines.EngineBuild.max_calls``).
MAX_CALLS = 4
ENGINES = ("auto", "wheel", "built")

#: a line's ``transport``
TRANSPORTS = ("udp", "tcp", "tls")
#: a line's ``srtp``
SRTP_MODES = ("off", "optional", "mandatory")


def _key(name: str) -> str:
    return f"phone.options.{name}"


def _str(data: Mapping[str, Any], name: str, default: str = "", key: str = "") -> str:
    value = data.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ConfigError(f"The SIP setting {name!r} must be text.", key=key or _key(name))
    return value.strip()


def _int(data: Mapping[str, Any], name: str, default: int, low: int, high: int, key: str = "") -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(
            f"The SIP setting {name!r} must be a whole number from {low} to {high}.", key=key or _key(name)
        )
    return value


def _float(data: Mapping[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"The SIP setting {name!r} must be a number from {low} to {high}.", key=_key(name))
    return float(value)


def _bool(data: Mapping[str, Any], name: str, default: bool, key: str = "") -> bool:
    """*key*: the setting's table (e.g. a line's), when it is not the options' top level."""
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise ConfigError(
            f"The SIP setting {name!r} must be true or false.", key=f"{key}.{name}" if key else _key(name)
        )
    return value


def system_ca_file() -> str:
    """The system's bundle of trusted CA certificates (PEM), or "" when there is none.

    OpenSSL's defaults (``SSL_CERT_FILE``, then the distribution's bundle), then ``certifi``'s
    bundle if that package is installed (Windows and macOS have no PEM bundle of their own)."""
    paths = ssl.get_default_verify_paths()
    env = os.environ.get(paths.openssl_cafile_env, "")
    for candidate in (env, paths.cafile, paths.openssl_cafile):
        if candidate and os.path.isfile(candidate):
            return candidate
    try:
        import certifi
    except ImportError:
        return ""
    where = certifi.where()
    return where if os.path.isfile(where) else ""


def _pem_holds(path: str, marker: bytes) -> bool:
    try:
        with open(path, "rb") as f:
            return marker in f.read(4 << 20)
    except OSError:
        return False


def _has_certificates(path: str) -> bool:
    return _pem_holds(path, b"-----BEGIN CERTIFICATE-----")


def host_of(uri: str) -> str:
    """``sip:pbx.example.com:5070;transport=tcp`` → ``pbx.example.com:5070``."""
    rest = uri.split(":", 1)[1] if uri.lower().startswith(("sip:", "sips:")) else uri
    rest = rest.split(";", 1)[0].split(">", 1)[0]
    return rest.rsplit("@", 1)[-1]


@dataclass(frozen=True, slots=True)
class LineConfig:
    id: str
    user: str
    label: str = ""
    registrar: str = ""  # sip:host[:port]; empty = direct line (no registration)
    domain: str = ""
    auth_user: str = ""
    password: str = field(default="", repr=False)
    proxy: str = ""
    transport: str = "udp"
    display_name: str = ""
    reg_timeout: int = 300
    voicemail_uri: str = ""  # IN6: a ringing call sent to voicemail is redirected (302) here
    tls_verify: bool = True  # transport tls: refuse a server whose certificate does not check out
    tls_ca_file: str = ""  # trusted CAs (PEM) for tls_verify; "" = the system's bundle
    tls_cert_file: str = ""  # our client certificate (PEM), for servers that ask for one
    tls_key_file: str = ""  # its private key (PEM); "" = in tls_cert_file
    #: registered: INVITEs only from the registrar/outbound proxy (403 for any other source)
    accept_only_from_server: bool = True
    #: encrypted audio (SRTP, keys in the SDP): off | optional (offered, plain RTP accepted) |
    #: mandatory (a call without SRTP is refused: 488)
    srtp: str = "off"
    #: pjsua's srtpSecureSignaling: 0 = SRTP over any transport, 1 = only when the signalling
    #: to the next hop is TLS, 2 = only end to end (a sips: address)
    srtp_secure_signaling: int = 0

    @property
    def direct(self) -> bool:
        return not self.registrar

    @property
    def title(self) -> str:
        return self.label or self.id

    @classmethod
    def parse(cls, data: Mapping[str, Any], index: int) -> LineConfig:
        if not isinstance(data, Mapping):
            raise ConfigError(f"Line {index + 1} of the SIP settings must be a table.", key=_key("lines"))
        key = f"{_key('lines')}[{index}]"
        user = _str(data, "user", key=key + ".user")
        if not user:
            raise ConfigError(f"Line {index + 1} of the SIP settings needs a user.", key=key + ".user")
        registrar = _str(data, "registrar", key=key + ".registrar")
        if registrar and not registrar.lower().startswith(("sip:", "sips:")):
            registrar = "sip:" + registrar
        secure = registrar.lower().startswith("sips:")
        transport = _str(data, "transport", "tls" if secure else "udp", key=key + ".transport").lower()
        if transport not in TRANSPORTS:
            raise ConfigError(
                f"Line {index + 1}: transport must be one of {', '.join(TRANSPORTS)}.",
                key=key + ".transport",
            )
        if secure and transport != "tls":
            raise ConfigError(
                f"Line {index + 1}: a sips: registrar needs transport tls.", key=key + ".transport"
            )
        tls_verify, tls_ca_file = cls._parse_tls(data, index, key, transport)
        tls_cert_file, tls_key_file = cls._parse_client_certificate(data, index, key, transport)
        voicemail_uri = _str(data, "voicemail_uri", key=key + ".voicemail_uri")
        if voicemail_uri and (len(voicemail_uri) > 256 or any(ch in voicemail_uri for ch in "\r\n<>\"' ,")):
            raise ConfigError(
                f"Line {index + 1}: voicemail_uri must be a SIP address such as sip:*97@pbx.example.com.",
                key=key + ".voicemail_uri",
            )
        srtp = _str(data, "srtp", "off", key=key + ".srtp").lower()
        if srtp not in SRTP_MODES:
            raise ConfigError(
                f"Line {index + 1}: srtp must be one of {', '.join(SRTP_MODES)}.", key=key + ".srtp"
            )
        line_id = _str(data, "id", key=key + ".id") or (f"{user}@{host_of(registrar)}" if registrar else user)
        return cls(
            id=line_id,
            user=user,
            label=_str(data, "label", key=key + ".label"),
            registrar=registrar,
            domain=_str(data, "domain", key=key + ".domain") or (host_of(registrar) if registrar else ""),
            auth_user=_str(data, "auth_user", key=key + ".auth_user") or user,
            password=_str(data, "password", key=key + ".password"),
            proxy=_str(data, "proxy", key=key + ".proxy"),
            transport=transport,
            display_name=_str(data, "display_name", key=key + ".display_name"),
            reg_timeout=_int(data, "reg_timeout", 300, 30, 86400, key=key + ".reg_timeout"),
            voicemail_uri=voicemail_uri,
            tls_verify=tls_verify,
            tls_ca_file=tls_ca_file,
            tls_cert_file=tls_cert_file,
            tls_key_file=tls_key_file,
            accept_only_from_server=_bool(data, "accept_only_from_server", True, key=key),
            srtp=srtp,
            srtp_secure_signaling=_int(
                data, "srtp_secure_signaling", 0, 0, 2, key=key + ".srtp_secure_signaling"
            ),
        )

    @staticmethod
    def _parse_client_certificate(
        data: Mapping[str, Any], index: int, key: str, transport: str
    ) -> tuple[str, str]:
        cert = os.path.expanduser(_str(data, "tls_cert_file", key=key + ".tls_cert_file"))
        private = os.path.expanduser(_str(data, "tls_key_file", key=key + ".tls_key_file"))
        if transport != "tls" or not (cert or private):
            return cert, private
        if not cert:
            raise ConfigError(
                f"Line {index + 1}: tls_key_file needs tls_cert_file, the certificate it belongs to.",
                key=key + ".tls_cert_file",
            )
        if not _pem_holds(cert, b"-----BEGIN CERTIFICATE-----"):
            raise ConfigError(
                f"Line {index + 1}: the client certificate {cert!r} (tls_cert_file) does not exist "
                "or holds no PEM certificate.",
                key=key + ".tls_cert_file",
            )
        private = private or cert
        name = "tls_key_file" if private != cert else "tls_cert_file"
        if _pem_holds(private, b"ENCRYPTED"):
            raise ConfigError(
                f"Line {index + 1}: the private key in {private!r} ({name}) is encrypted; the "
                "softphone needs it unencrypted (openssl pkey -in KEY -out NEW_KEY).",
                key=f"{key}.{name}",
            )
        if not _pem_holds(private, b"PRIVATE KEY-----"):
            raise ConfigError(
                f"Line {index + 1}: {private!r} ({name}) does not exist or holds no PEM private key"
                + ("; set tls_key_file." if name == "tls_cert_file" else "."),
                key=f"{key}.{name}",
            )
        return cert, private

    @staticmethod
    def _parse_tls(data: Mapping[str, Any], index: int, key: str, transport: str) -> tuple[bool, str]:
        """``tls_verify`` and the CA file it uses (the system's bundle when none is set)."""
        verify = data.get("tls_verify", True)
        if not isinstance(verify, bool):
            raise ConfigError(f"Line {index + 1}: tls_verify must be true or false.", key=key + ".tls_verify")
        ca_file = os.path.expanduser(_str(data, "tls_ca_file", key=key + ".tls_ca_file"))
        if transport != "tls" or not verify:
            return verify, ca_file
        if ca_file and not os.path.isfile(ca_file):
            raise ConfigError(
                f"Line {index + 1}: the TLS CA file {ca_file!r} (tls_ca_file) does not exist or is "
                "not a file.",
                key=key + ".tls_ca_file",
            )
        if ca_file and not _has_certificates(ca_file):
            raise ConfigError(
                f"Line {index + 1}: the TLS CA file {ca_file!r} (tls_ca_file) holds no PEM "
                "certificates (-----BEGIN CERTIFICATE-----).",
                key=key + ".tls_ca_file",
            )
        ca_file = ca_file or system_ca_file()
        if not ca_file:
            raise ConfigError(
                f"Line {index + 1}: no list of trusted certificate authorities was found on this "
                "computer to check the server's TLS certificate; set tls_ca_file to a PEM file, "
                "or tls_verify to false.",
                key=key + ".tls_ca_file",
            )
        return verify, ca_file


@dataclass(frozen=True, slots=True)
class AudioOptions:
    mode: str = "device"  # device | files | none
    input_device: str | int | None = None
    output_device: str | int | None = None
    ring_device: str | int | None = None
    play_file: str = ""
    record_dir: str = ""

    @classmethod
    def parse(cls, data: Any) -> AudioOptions:
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ConfigError("The SIP audio settings must be a table.", key=_key("audio"))
        mode = _str(data, "mode", "device").lower()
        if mode not in ("device", "files", "none"):
            raise ConfigError("The SIP audio mode must be device, files or none.", key=_key("audio.mode"))

        def device(name: str) -> str | int | None:
            value = data.get(name)
            if value is None or (isinstance(value, int) and not isinstance(value, bool)):
                return value
            if isinstance(value, str):
                return value or None
            raise ConfigError(
                f"The audio device {name!r} must be a name or a number.", key=_key("audio." + name)
            )

        return cls(
            mode=mode,
            input_device=device("input_device"),
            output_device=device("output_device"),
            ring_device=device("ring_device"),
            play_file=_str(data, "play_file"),
            record_dir=_str(data, "record_dir"),
        )


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _peers(data: Mapping[str, Any]) -> tuple[Network, ...]:
    raw = data.get("allowed_peers") or ()
    if isinstance(raw, str) or not isinstance(raw, Sequence):
        raise ConfigError(
            "The SIP setting 'allowed_peers' must be a list of IP addresses or networks.",
            key=_key("allowed_peers"),
        )
    peers = []
    for item in raw:
        try:
            peers.append(ipaddress.ip_network(str(item).strip(), strict=False))
        except ValueError:
            raise ConfigError(
                f"The SIP setting 'allowed_peers' has {item!r}, which is not an IP address or network "
                "(e.g. 192.0.2.7 or 192.0.2.0/24).",
                key=_key("allowed_peers"),
            ) from None
    return tuple(peers)


def _source_ip(source: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``192.0.2.7:5062``, ``[2001:db8::1]:5062`` or a bare address → the address."""
    text = source.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped if mapped is not None else address


@dataclass(frozen=True, slots=True)
class SipOptions:
    lines: tuple[LineConfig, ...]
    default_line: str
    listen_host: str = "127.0.0.1"
    listen_port: int = 5060
    #: Direct lines take calls from other computers (else from this one only: loopback).
    reachable: bool = False
    #: With ``reachable``: the addresses and networks a direct line takes calls from (empty: any).
    allowed_peers: tuple[Network, ...] = ()
    rtp_port: int = 0
    rtp_port_range: int = 0
    dnd: bool = False
    auto_answer: bool = False
    auto_answer_delay: float = 0.0
    reject_code: int = 486
    poll_interval: float = 0.020
    reg_retry: int = 30  # seconds between registration attempts after a failure
    ring_timeout: float = 120.0  # an unanswered call is declined (480) after this; 0 = never
    ringing_per_source: int = 2  # direct lines: calls ringing at once from one IP; 0 = no limit
    unknown_ring_timeout: float = 30.0  # direct lines: ring time of an unknown caller; 0 = ring_timeout
    audio: AudioOptions = field(default_factory=AudioOptions)
    log_file: str = ""
    log_level: int = 3
    user_agent: str = "callsys"
    engine: str = "auto"  # auto | wheel | built: which pjsua2 build (providers.sip.engines)

    @property
    def direct_only(self) -> bool:
        return all(line.direct for line in self.lines)

    @property
    def loopback_only(self) -> bool:
        """Direct calls reach this phone from this computer only (see the module's docstring)."""
        return not self.reachable

    def admits(self, line: LineConfig, source: str) -> bool:
        """May a call from *source* (``ip:port`` of the INVITE's sender) ring on *line*?"""
        if not line.direct:
            return True  # comes through the line's PBX
        address = _source_ip(source)
        if address is None:
            return False
        if address.is_loopback:
            return True
        if not self.reachable:
            return False
        return not self.allowed_peers or any(address in net for net in self.allowed_peers)

    def line(self, line_id: str | None) -> LineConfig:
        wanted = line_id or self.default_line
        for line in self.lines:
            if wanted in (line.id, line.label):
                return line
        raise ConfigError(f"There is no line called {wanted!r}.", key=_key("default_line"))

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> SipOptions:
        raw_lines = data.get("lines") or ()
        if not isinstance(raw_lines, Sequence) or isinstance(raw_lines, str):
            raise ConfigError("The SIP setting 'lines' must be a list of tables.", key=_key("lines"))
        lines = tuple(LineConfig.parse(item, i) for i, item in enumerate(raw_lines))
        if not lines:
            lines = (
                LineConfig(id="direct", user=_str(data, "user", "callsys") or "callsys", label="Direct"),
            )
        ids = [line.id for line in lines]
        if len(set(ids)) != len(ids):
            raise ConfigError("Two SIP lines have the same id.", key=_key("lines"))
        default_line = _str(data, "default_line") or lines[0].id
        if default_line not in ids and default_line not in [line.label for line in lines]:
            raise ConfigError(
                f"The default line {default_line!r} is not one of the lines.", key=_key("default_line")
            )
        reject_code = _int(data, "reject_code", 486, 400, 699)
        if reject_code not in (486, 603):
            raise ConfigError("The SIP setting 'reject_code' must be 486 or 603.", key=_key("reject_code"))
        direct = all(line.direct for line in lines)
        peers = _peers(data)
        reachable = _bool(data, "reachable", False) or bool(peers)  # a list of peers: for them
        # Only direct lines and not reachable: nobody else needs to reach the port at all.
        any_host = "0.0.0.0" if reachable or not direct else "127.0.0.1"
        engine = (_str(data, "engine", "auto") or "auto").lower()
        if engine not in ENGINES:
            raise ConfigError("The softphone engine must be auto, wheel or built.", key=_key("engine"))
        return cls(
            lines=lines,
            default_line=default_line,
            listen_host=_str(data, "listen_host", any_host) or any_host,
            reachable=reachable,
            allowed_peers=peers,
            listen_port=_int(data, "listen_port", 5060 if direct else 0, 0, 65535),
            rtp_port=_int(data, "rtp_port", 0, 0, 65535),
            rtp_port_range=_int(data, "rtp_port_range", 0, 0, 60000),
            dnd=_bool(data, "dnd", False),
            auto_answer=_bool(data, "auto_answer", False),
            auto_answer_delay=_float(data, "auto_answer_delay", 0.0, 0.0, 60.0),
            reject_code=reject_code,
            poll_interval=_float(data, "poll_interval_ms", 20.0, 1.0, 100.0) / 1000.0,
            reg_retry=_int(data, "reg_retry", 30, 1, 3600),
            ring_timeout=_float(data, "ring_timeout", 120.0, 0.0, 3600.0),
            ringing_per_source=_int(data, "ringing_per_source", 2, 0, MAX_CALLS),
            unknown_ring_timeout=_float(data, "unknown_ring_timeout", 30.0, 0.0, 3600.0),
            audio=AudioOptions.parse(data.get("audio")),
            log_file=_str(data, "log_file"),
            log_level=_int(data, "log_level", 3, 0, 6),
            user_agent=_str(data, "user_agent", "callsys") or "callsys",
            engine=engine,
        )


# Every key the parsers above read; any other key gets a warning (callsys.optionkeys). Keep in
# step with LineConfig.parse, AudioOptions.parse and SipOptions.parse.
_LINE_KEYS = dict.fromkeys(
    (
        "id", "label", "registrar", "user", "auth_user", "password", "domain", "proxy", "transport",
        "display_name", "reg_timeout", "voicemail_uri", "tls_verify", "tls_ca_file", "tls_cert_file",
        "tls_key_file", "accept_only_from_server", "srtp", "srtp_secure_signaling",
        "secret_name",  # the line's keyring name (callsys.secretnames)
    )
)  # fmt: skip
_AUDIO_KEYS = dict.fromkeys(
    ("mode", "input_device", "output_device", "ring_device", "play_file", "record_dir")
)
#: The keys of the softphone's options (``phone.options``), with those of each line and of audio.
OPTION_KEYS = OptionKeys(
    "the embedded softphone",
    {
        **dict.fromkeys(
            (
                "default_line", "listen_host", "listen_port", "reachable", "allowed_peers", "user",
                "rtp_port", "rtp_port_range",
                "dnd", "auto_answer", "auto_answer_delay", "reject_code", "ring_timeout",
                "ringing_per_source", "unknown_ring_timeout",
                "poll_interval_ms", "reg_retry", "log_file", "log_level", "user_agent", "engine",
                "number_plan",  # put in by the composition root, never by the file
            )
        ),
        "lines": _LINE_KEYS,
        "audio": _AUDIO_KEYS,
    },
)  # fmt: skip
