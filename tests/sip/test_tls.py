"""SIP over TLS (CARD1, SET4): registration, calls both ways and the server-certificate check.

The peer is kamailio with its ``tls`` module (Debian: ``kamailio-tls-modules``) as a TLS
registrar/proxy on a free 127.0.0.1 port, with certificates made for each test in tmp_path: a
test CA and a server certificate for 127.0.0.1 it issued, a self-signed one, and one issued for
another name. The far end (baresip) registers to the same kamailio over UDP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from callsys.errors import ConfigError
from callsys.model import CallEvent, EndReason
from callsys.provider import Registration
from providers.sip.engines import resolve
from providers.sip.options import SipOptions, system_ca_file
from providers.sip.provider import SipProvider

from .conftest import Harness, phone_options
from .peers import (
    HOST,
    Baresip,
    Process,
    free_port,
    have,
    registered_far_end,
    wait_tcp_listening,
)
from .pki import Pki, TlsKamailio, make_pki, needs_tls_module


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))  # RSA keys take a while: once per module


@pytest.fixture
def tls_kamailio(tmp_path: Path, pki: Pki) -> Any:
    server = TlsKamailio(tmp_path, pki.server).start()
    yield server
    server.stop()


@pytest_asyncio.fixture
async def far_end(tmp_path: Path, tls_kamailio: TlsKamailio) -> AsyncIterator[Baresip]:
    async with registered_far_end(tmp_path, tls_kamailio) as peer:
        yield peer


def tls_line(kam: TlsKamailio, user: str = "1001", **extra: Any) -> dict[str, Any]:
    return {
        "id": f"tls{user}",
        "label": f"TLS {user}",
        "registrar": kam.tls_uri,
        "user": user,
        "password": f"secret{user}",
        "transport": "tls",
        **extra,
    }


async def open_phone(tmp_path: Path, *lines: dict[str, Any]) -> Harness:
    return await Harness(
        SipProvider(phone_options(tmp_path, lines=list(lines), listen_port=0, reg_retry=300))
    ).start()


def line_state(phone: Harness, line_id: str) -> tuple[Registration, str] | None:
    if not phone.statuses:
        return None
    line = next(line for line in phone.statuses[-1].lines if line.id == line_id)
    return line.registration, line.detail


async def refused(phone: Harness, line_id: str) -> str:
    """Wait until *line_id* is offline with a reason; return that reason."""
    state = await phone.until(
        lambda: (s := line_state(phone, line_id)) and s[0] is Registration.OFFLINE and s[1] and s,
        15,
        f"{line_id} refused",
    )
    return str(state[1])


# ---------------------------------------------------------------------------------- peers tests
@needs_tls_module
@pytest.mark.peers
@pytest.mark.asyncio
async def test_register_and_call_both_ways_over_tls(
    tmp_path: Path, tone440: Path, pki: Pki, tls_kamailio: TlsKamailio, far_end: Baresip
) -> None:
    phone = await open_phone(tmp_path, tls_line(tls_kamailio, tls_ca_file=str(pki.ca)))
    try:
        await phone.online()
        log = tls_kamailio.log()
        assert "CHALLENGE 401 qop REGISTER 1001" in log  # digest over TLS
        assert f"REQ REGISTER sip:{HOST}:{tls_kamailio.tls_port};transport=tls" in log
        assert "proto=tls" in log

        # outgoing over TLS: 1001 → kamailio → baresip 1002 (answers by itself); we hang up
        call_id = await phone.provider.dial("1002")
        assert phone.of(CallEvent.OUTGOING, call_id)[0].line == "TLS 1001"
        await phone.event(CallEvent.ANSWERED, call_id)
        await phone.hears(call_id, 1000)
        await phone.provider.hangup(call_id)
        assert (await phone.event(CallEvent.ENDED, call_id)).reason is EndReason.COMPLETED
        await far_end.wait_event("CALL_CLOSED")
        invites = [line for line in tls_kamailio.log().splitlines() if "REQ INVITE sip:1002@" in line]
        assert invites and all("proto=tls" in line for line in invites)

        # incoming over TLS: baresip → kamailio → us on the connection we registered over;
        # the far end hangs up
        since = len(far_end.events)
        await far_end.cmd("dial", f"sip:1001@127.0.0.1:{tls_kamailio.port}")
        ring = await phone.event(CallEvent.INCOMING)
        assert ring.line == "TLS 1001" and ring.dnis == "1001"
        assert ring.remote is not None and ring.remote.digits == "1002"
        await phone.provider.answer(ring.call_id)
        await phone.event(CallEvent.ANSWERED, ring.call_id)
        await phone.hears(ring.call_id, 1000)
        await far_end.wait_event("CALL_ESTABLISHED", since=since)
        await far_end.cmd("hangup")
        assert (await phone.event(CallEvent.ENDED, ring.call_id)).reason is EndReason.COMPLETED
        pjsip_log = (tmp_path / "pjsip.log").read_text(errors="replace")
        # every SIP message of the phone went over TLS, the INVITE it received too
        wire = [
            line
            for line in pjsip_log.splitlines()
            if " bytes Re" in line and ("RX " in line or "TX " in line)
        ]
        assert any("RX " in line and "Request msg INVITE" in line for line in wire)
        assert all(f" TLS {HOST}:{tls_kamailio.tls_port}:" in line for line in wire), wire
    finally:
        await phone.provider.close()


@needs_tls_module
@pytest.mark.peers
@pytest.mark.asyncio
async def test_each_line_checks_the_certificate_its_own_way(
    tmp_path: Path, tone440: Path, pki: Pki, tls_kamailio: TlsKamailio
) -> None:
    """One phone, one server (certificate issued by the test CA), three TLS lines."""
    phone = await open_phone(
        tmp_path,
        tls_line(tls_kamailio, "1001", tls_ca_file=str(pki.ca)),  # trusts the CA: online
        tls_line(tls_kamailio, "1003", tls_ca_file=str(pki.other_ca)),  # trusts another CA
        tls_line(tls_kamailio, "1004", tls_verify=False),  # checks nothing: online
    )
    try:
        reason = await refused(phone, "tls1003")
        assert reason.startswith(f"503 TLS certificate of {HOST}:{tls_kamailio.tls_port} refused: ")
        assert "it is untrusted" in reason and "set tls_ca_file" in reason
        await phone.until(
            lambda: all(line_state(phone, f"tls{u}") == (Registration.ONLINE, "") for u in ("1001", "1004")),
            15,
            "1001 and 1004 online",
        )
        assert line_state(phone, "tls1003") == (Registration.OFFLINE, reason)
        assert (
            "REQ REGISTER" in tls_kamailio.log()
            and "CHALLENGE 401 qop REGISTER 1003" not in tls_kamailio.log()
        )
    finally:
        await phone.provider.close()


@needs_tls_module
@pytest.mark.peers
@pytest.mark.asyncio
async def test_self_signed_certificate_is_refused_until_it_is_trusted(
    tmp_path: Path, tone440: Path, pki: Pki
) -> None:
    kam = TlsKamailio(tmp_path, pki.self_signed).start()
    try:
        phone = await open_phone(tmp_path, tls_line(kam, tls_ca_file=str(pki.ca)))
        try:
            reason = await refused(phone, "tls1001")
            assert reason.startswith(f"503 TLS certificate of {HOST}:{kam.tls_port} refused: ")
            assert "it is untrusted" in reason and "set tls_ca_file" in reason
            assert phone.provider.engine.call_count() == 0  # still running, nothing hangs
        finally:
            await phone.provider.close()

        phone = await open_phone(tmp_path, tls_line(kam, tls_ca_file=str(pki.self_signed[0])))
        try:
            await phone.online()
        finally:
            await phone.provider.close()
    finally:
        kam.stop()


@needs_tls_module
@pytest.mark.peers
@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("certificate", "problem"),
    [
        (
            "wrong_name",
            "it was issued for another name (use the name or address it was issued for as registrar",
        ),
        ("expired", "it has expired or is not valid yet (check this computer's date and time)"),
    ],
    ids=("another-name", "expired"),
)
async def test_a_certificate_from_the_trusted_authority_can_still_be_refused(
    tmp_path: Path, tone440: Path, pki: Pki, certificate: str, problem: str
) -> None:
    kam = TlsKamailio(tmp_path, getattr(pki, certificate)).start()
    try:
        phone = await open_phone(tmp_path, tls_line(kam, tls_ca_file=str(pki.ca)))
        try:
            reason = await refused(phone, "tls1001")
            assert problem in reason and "untrusted" not in reason
        finally:
            await phone.provider.close()
    finally:
        kam.stop()


@needs_tls_module
@pytest.mark.peers
@pytest.mark.asyncio
async def test_a_port_that_does_not_speak_tls_is_given_up_in_seconds(
    tmp_path: Path, tone440: Path, pki: Pki, tls_kamailio: TlsKamailio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A TLS line pointed at kamailio's plain TCP port: no handshake ever, so no hanging on it."""
    from providers.sip import pjengine

    monkeypatch.setattr(pjengine, "TLS_HANDSHAKE_TIMEOUT", 2.0)  # 10 s in the product
    line = tls_line(tls_kamailio, tls_ca_file=str(pki.ca))
    line["registrar"] = f"sip:{HOST}:{tls_kamailio.port};transport=tls"
    phone = await open_phone(tmp_path, line)
    try:
        reason = await refused(phone, "tls1001")
        assert reason == (
            f"503 no TLS connection to {HOST}:{tls_kamailio.port} within 2 s "
            "(no answer, or that port does not speak TLS)"
        )
    finally:
        await phone.provider.close()


@needs_tls_module
@pytest.mark.peers
@pytest.mark.asyncio
async def test_a_server_that_wants_a_client_certificate(tmp_path: Path, tone440: Path, pki: Pki) -> None:
    kam = TlsKamailio(tmp_path, pki.server, client_ca=pki.ca).start()
    try:
        cert, key = pki.client
        phone = await open_phone(
            tmp_path,
            tls_line(kam, "1001", tls_ca_file=str(pki.ca), tls_cert_file=str(cert), tls_key_file=str(key)),
            tls_line(kam, "1003", tls_ca_file=str(pki.ca)),  # shows no certificate
        )
        try:
            reason = await refused(phone, "tls1003")
            if phone.provider.engine.build.kind == "wheel":  # OpenSSL 1.0.2 sees the server close
                assert reason == (
                    f"503 {HOST}:{kam.tls_port} closed the TLS connection "
                    "(it may want a client certificate: tls_cert_file)"
                )
            else:  # OpenSSL 3 hears the server's alert (40 in TLS 1.2, 116 in TLS 1.3)
                assert reason.startswith(f"503 {HOST}:{kam.tls_port} refused the TLS connection ("), reason
                assert reason.endswith("; it may want a client certificate: tls_cert_file)"), reason
            await phone.until(
                lambda: line_state(phone, "tls1001") == (Registration.ONLINE, ""), 15, "1001 online"
            )
            assert "CHALLENGE 401 qop REGISTER 1001" in kam.log()
        finally:
            await phone.provider.close()
    finally:
        kam.stop()


@pytest.mark.skipif(not have("openssl"), reason="openssl is missing (apt-get install openssl)")
@pytest.mark.peers
@pytest.mark.asyncio
async def test_a_server_that_speaks_only_tls_1_3_is_named_as_such(
    tmp_path: Path, tone440: Path, pki: Pki
) -> None:
    """The wheel's OpenSSL 1.0.2k stops at TLS 1.2: ``openssl s_server -tls1_3`` refuses it."""
    if resolve() == "built":
        pytest.skip("the built engine speaks TLS 1.3 (test_engine_peers.py: test_tls_1_3_only_registrar)")
    port = free_port()
    cert, key = pki.server
    server = Process(
        [
            "openssl",
            "s_server",
            "-accept",
            f"{HOST}:{port}",
            "-cert",
            str(cert),
            "-key",
            str(key),
            "-tls1_3",
            "-www",
        ],
        tmp_path,
        "s_server.log",
    )
    try:
        wait_tcp_listening(port)
        line = {"id": "x", "registrar": f"sip:{HOST}:{port}", "user": "1001", "transport": "tls"}
        phone = await open_phone(tmp_path, {**line, "tls_ca_file": str(pki.ca)})
        try:
            reason = await refused(phone, "x")
            assert (
                reason
                == f"503 {HOST}:{port} wants another TLS version; this softphone speaks TLS 1.2 at most"
            )
        finally:
            await phone.provider.close()
    finally:
        server.stop()
        assert "unsupported protocol" in server.log_path.read_text()  # the server's side of it


# ---------------------------------------------------------------------------------- options
def _line(**extra: Any) -> dict[str, Any]:
    return {"lines": [{"registrar": "sip:pbx.example.com", "user": "1001", "transport": "tls", **extra}]}


def test_tls_lines_verify_against_the_system_bundle_by_default() -> None:
    line = SipOptions.parse(_line()).lines[0]
    assert line.tls_verify is True
    assert line.tls_ca_file == system_ca_file() != ""


def test_a_sips_registrar_means_tls() -> None:
    line = SipOptions.parse({"lines": [{"registrar": "sips:pbx.example.com", "user": "1001"}]}).lines[0]
    assert line.transport == "tls"
    with pytest.raises(ConfigError, match="sips: registrar needs transport tls"):
        SipOptions.parse({"lines": [{"registrar": "sips:pbx.example.com", "user": "1", "transport": "udp"}]})


def test_tls_ca_file_is_checked(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(ConfigError, match="does not exist") as err:
        SipOptions.parse(_line(tls_ca_file=str(missing)))
    assert err.value.key == "phone.options.lines[0].tls_ca_file"
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match="holds no PEM certificates"):
        SipOptions.parse(_line(tls_ca_file=str(junk)))
    with pytest.raises(ConfigError, match="tls_verify must be true or false"):
        SipOptions.parse(_line(tls_verify="yes"))
    # not checked when nothing is verified, or the line is not TLS
    assert SipOptions.parse(_line(tls_verify=False, tls_ca_file=str(missing))).lines[0].tls_verify is False
    assert SipOptions.parse(_line(transport="udp", tls_ca_file=str(missing))).lines[0].transport == "udp"


def test_no_trusted_authorities_at_all_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("providers.sip.options.system_ca_file", lambda: "")
    with pytest.raises(ConfigError, match="no list of trusted certificate authorities"):
        SipOptions.parse(_line())
    assert SipOptions.parse(_line(tls_verify=False)).lines[0].tls_ca_file == ""


def test_client_certificate_options(tmp_path: Path, pki: Pki) -> None:
    cert, key = pki.client
    line = SipOptions.parse(_line(tls_cert_file=str(cert), tls_key_file=str(key))).lines[0]
    assert (line.tls_cert_file, line.tls_key_file) == (str(cert), str(key))
    both = tmp_path / "both.pem"  # certificate and key in one file
    both.write_bytes(cert.read_bytes() + key.read_bytes())
    line = SipOptions.parse(_line(tls_cert_file=str(both))).lines[0]
    assert (line.tls_cert_file, line.tls_key_file) == (str(both), str(both))
    with pytest.raises(ConfigError, match="tls_key_file needs tls_cert_file") as err:
        SipOptions.parse(_line(tls_key_file=str(key)))
    assert err.value.key == "phone.options.lines[0].tls_cert_file"
    with pytest.raises(ConfigError, match=r"holds no PEM private key; set tls_key_file\."):
        SipOptions.parse(_line(tls_cert_file=str(cert)))
    with pytest.raises(ConfigError, match="holds no PEM certificate"):
        SipOptions.parse(_line(tls_cert_file=str(key), tls_key_file=str(key)))
    locked = tmp_path / "locked.key"
    locked.write_text("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n")
    with pytest.raises(ConfigError, match="is encrypted") as err:
        SipOptions.parse(_line(tls_cert_file=str(cert), tls_key_file=str(locked)))
    assert err.value.key == "phone.options.lines[0].tls_key_file"
