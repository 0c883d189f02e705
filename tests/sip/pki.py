"""Certificates for the SIP-over-TLS tests (CARD1, SET4), made in a folder per test run: a test CA,
a server certificate for 127.0.0.1 it issued, a self-signed one, one issued for another name, an
expired one and a client certificate; and kamailio with its ``tls`` module as the TLS registrar."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from .peers import HOST, KAMAILIO_CFG, Kamailio, free_port, wait_tcp_listening

KAMAILIO_MODULES = Path("/usr/lib/x86_64-linux-gnu/kamailio/modules")  # the mpath of KAMAILIO_CFG
needs_tls_module = pytest.mark.skipif(
    not (KAMAILIO_MODULES / "tls.so").exists(),
    reason="kamailio's TLS module is missing (apt-get install kamailio-tls-modules)",
)


# ---------------------------------------------------------------------------------- certificates
@dataclass
class Pki:
    ca: Path  # the test CA's certificate: what a line trusts with tls_ca_file
    other_ca: Path  # a CA that issued nothing kamailio shows
    server: tuple[Path, Path]  # certificate, key: issued by `ca` for 127.0.0.1 and localhost
    self_signed: tuple[Path, Path]  # for 127.0.0.1, issued by nobody
    wrong_name: tuple[Path, Path]  # issued by `ca`, but for pbx.example.com only
    expired: tuple[Path, Path]  # issued by `ca` for 127.0.0.1, expired yesterday
    client: tuple[Path, Path]  # a client certificate issued by `ca` (for 1001)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(directory: Path, stem: str, cert: x509.Certificate, key: rsa.RSAPrivateKey) -> tuple[Path, Path]:
    pem = serialization.Encoding.PEM
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(pem))
    key_path.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    )
    return cert_path, key_path


def _certificate(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: tuple[x509.Name, rsa.RSAPrivateKey] | None = None,
    names: tuple[str, ...] = (),
    ca: bool = False,
    age_days: int = 0,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=age_days)
    issuer_name, issuer_key = issuer or (_name(subject), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        alt: list[x509.GeneralName] = []
        for name in names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alt.append(x509.DNSName(name))
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_pki(directory: Path) -> Pki:
    directory.mkdir(parents=True, exist_ok=True)

    def key() -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    ca_key, other_key = key(), key()
    ca = _certificate("callsys test CA", ca_key, ca=True)
    other = _certificate("some other CA", other_key, ca=True)
    server_key, self_key, wrong_key, old_key, client_key = key(), key(), key(), key(), key()
    return Pki(
        ca=_write(directory, "ca", ca, ca_key)[0],
        other_ca=_write(directory, "other-ca", other, other_key)[0],
        server=_write(
            directory,
            "server",
            _certificate(HOST, server_key, (ca.subject, ca_key), (HOST, "localhost")),
            server_key,
        ),
        self_signed=_write(directory, "self-signed", _certificate(HOST, self_key, names=(HOST,)), self_key),
        wrong_name=_write(
            directory,
            "wrong-name",
            _certificate("pbx.example.com", wrong_key, (ca.subject, ca_key), ("pbx.example.com",)),
            wrong_key,
        ),
        expired=_write(
            directory,
            "expired",
            _certificate(HOST, old_key, (ca.subject, ca_key), (HOST,), age_days=3),
            old_key,
        ),
        client=_write(
            directory, "client", _certificate("1001", client_key, (ca.subject, ca_key)), client_key
        ),
    )


# ---------------------------------------------------------------------------------- kamailio + TLS
class TlsKamailio(Kamailio):
    """The registrar/proxy of ``peers.Kamailio`` with a TLS listener too (``tls_port``)."""

    def __init__(
        self,
        rundir: Path,
        certificate: tuple[Path, Path],
        client_ca: Path | None = None,
        tls13_only: bool = False,
    ) -> None:
        self.certificate = certificate
        # kamailio 5.6 has no TLSv1.3 method: with only PSK ciphers for TLS 1.2 (and no PSK set
        # up) a TLS 1.2 client shares no cipher with it, while TLS 1.3 keeps its own suites.
        self.tls13_only = tls13_only
        self.client_ca = client_ca  # set: clients must show a certificate this CA issued
        self.tls_port = 0
        super().__init__(rundir)

    @property
    def tls_uri(self) -> str:
        return f"sip:{HOST}:{self.tls_port};transport=tls"

    def _render(self) -> None:
        cert, key = self.certificate
        tls_cfg = self.rundir / "kamailio-tls.cfg"
        clients = (
            f"verify_certificate = yes\nrequire_certificate = yes\nca_list = {self.client_ca}\n"
            if self.client_ca
            else "verify_certificate = no\nrequire_certificate = no\n"
        )
        tls_cfg.write_text(
            f"[server:default]\nmethod = TLSv1.2+\n{clients}"
            + ("cipher_list = PSK\n" if self.tls13_only else "")
            + f"certificate = {cert}\nprivate_key = {key}\n\n"
            "[client:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n"
        )
        cfg = KAMAILIO_CFG
        for old, new in (
            ("listen=tcp:127.0.0.1:@PORT@\n", "listen=tcp:127.0.0.1:@PORT@\nlisten=tls:127.0.0.1:@TLS@\nenable_tls=yes\n"),
            ('loadmodule "kex.so"\n', f'loadmodule "kex.so"\nloadmodule "tls.so"\nmodparam("tls", "config", "{tls_cfg}")\n'),
            ('($rp == "@PORT@" || $rp == "")', '($rp == "@PORT@" || $rp == "@TLS@" || $rp == "")'),
            ("from $si:$sp ci=$ci", "from $si:$sp proto=$pr ci=$ci"),
        ):  # fmt: skip
            assert old in cfg, old
            cfg = cfg.replace(old, new)
        self.cfg.write_text(cfg.replace("@PORT@", str(self.port)).replace("@TLS@", str(self.tls_port)))

    def start(self, same_port: bool = False) -> TlsKamailio:
        for attempt in range(3):
            if attempt or not self.tls_port:
                self.port, self.tls_port = free_port(), free_port()
                self.uri = f"sip:{HOST}:{self.port}"
            self._render()
            try:
                super().start(same_port=True)
                wait_tcp_listening(self.tls_port)
                return self
            except (RuntimeError, TimeoutError):
                log = self.log()
                self.stop()
                if attempt == 2:
                    raise RuntimeError("kamailio with TLS did not start:\n" + log) from None
        raise AssertionError("unreachable")
