"""The mailer's STARTTLS path against a real aiosmtpd server that insists on STARTTLS.

The certificates are made here: a throwaway certificate authority and a server certificate it signs for
127.0.0.1, written to the test's temporary folder. The mailer trusts that authority only through
``SmtpSettings.cafile``; certificate verification itself is never turned off.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from support_requests.errors import DeliveryError
from support_requests.mailer import SmtpMailer, SmtpSettings
from support_requests.outbox import OutboxMessage
from tests.support_requests.servers import RecordingSmtpHandler, SmtpServer


@dataclass(frozen=True)
class Certificates:
    """PEM files: the authority's certificate, and the server's certificate chain and key."""

    ca: Path
    server_chain: Path
    server_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(folder: Path) -> Certificates:
    """A certificate authority and a server certificate it signs for 127.0.0.1 and localhost, valid for a day
    around now (the clock of the machine is what TLS checks against)."""
    now = dt.datetime.now(dt.timezone.utc)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_id = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (x509.CertificateBuilder()
               .subject_name(_name("Navigator test CA")).issuer_name(_name("Navigator test CA"))
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                            crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(ca_id, critical=False)
               .sign(ca_key, hashes.SHA256()))
    server_cert = (x509.CertificateBuilder()
                   .subject_name(_name("127.0.0.1")).issuer_name(ca_cert.subject)
                   .public_key(server_key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                               x509.DNSName("localhost")]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_id), critical=False)
                   .sign(ca_key, hashes.SHA256()))
    files = Certificates(folder / "ca.pem", folder / "server-chain.pem", folder / "server-key.pem")
    files.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.server_chain.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM)
                                   + ca_cert.public_bytes(serialization.Encoding.PEM))
    files.server_key.write_bytes(server_key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    return files


class TlsRecordingHandler(RecordingSmtpHandler):
    """Also notes, for every message accepted, whether its session had been upgraded to TLS."""

    def __init__(self) -> None:
        super().__init__()
        self.over_tls: list[bool] = []

    async def handle_DATA(self, server, session, envelope):
        self.over_tls.append(session.ssl is not None)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def starttls_server(certificates: Certificates):
    """An SMTP server that refuses mail before STARTTLS and logins outside TLS; the password is ``s3cret``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificates.server_chain, certificates.server_key)
    logins: list[bytes] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append(auth_data.login)
        return AuthResult(success=auth_data.password == b"s3cret")

    server = SmtpServer(handler=TlsRecordingHandler(), tls_context=context, require_starttls=True,
                        authenticator=authenticator, auth_require_tls=True).start()
    server.logins = logins
    yield server
    server.stop()


def outbox_message(recipient: str = "vecura@facility.example.org") -> OutboxMessage:
    return OutboxMessage(id=7, reference="SLT-2026-0001", kind="email", recipient=recipient,
                         payload={"subject": "SLT-2026-0001: a new support request", "body": "GMP production."},
                         attempts=1, claim_token="token")


def mailer(port: int, **options) -> SmtpMailer:
    return SmtpMailer(SmtpSettings(host="127.0.0.1", port=port, sender="navigator@navigator.example.org",
                                   timeout=5, **options))


async def test_an_email_goes_out_over_starttls_with_login(starttls_server, certificates) -> None:
    await mailer(starttls_server.port, starttls=True, cafile=str(certificates.ca),
                 user="nav", password="s3cret").deliver(outbox_message())
    [delivered] = starttls_server.handler.messages
    assert delivered["Message-ID"] == "<navigator-outbox-7@navigator.example.org>"
    assert delivered["To"] == "vecura@facility.example.org"
    assert starttls_server.handler.over_tls == [True]
    assert starttls_server.logins == [b"nav"]


async def test_without_starttls_the_server_refuses_the_mail(starttls_server) -> None:
    # The server really insists: a mailer that stays in plain text is refused (530, "STARTTLS first").
    with pytest.raises(DeliveryError, match="530"):
        await mailer(starttls_server.port).deliver(outbox_message())
    assert starttls_server.handler.messages == []


async def test_a_certificate_from_an_unknown_authority_is_refused(starttls_server) -> None:
    # Without cafile only the system's authorities are trusted, and the test authority is not one of them.
    with pytest.raises(DeliveryError) as refused:
        await mailer(starttls_server.port, starttls=True, user="nav", password="s3cret").deliver(outbox_message())
    assert str(refused.value) == "SSLCertVerificationError"
    assert starttls_server.handler.messages == [] and starttls_server.logins == []  # no password sent


async def test_trusting_another_authority_is_not_enough(starttls_server, tmp_path) -> None:
    other = make_certificates(tmp_path)  # the server's certificate is not signed by this authority
    with pytest.raises(DeliveryError) as refused:
        await mailer(starttls_server.port, starttls=True, cafile=str(other.ca)).deliver(outbox_message())
    assert str(refused.value) == "SSLCertVerificationError"
    assert starttls_server.handler.messages == []


async def test_the_settings_private_authority_reaches_the_delivery_worker(starttls_server, certificates,
                                                                            tmp_path) -> None:
    from navigator.settings import Settings
    from navigator.stores import open_request_store, outbox_worker

    settings = Settings.from_env({
        "NAVIGATOR_DATABASE_URL": f"sqlite:///{tmp_path / 'requests.db'}", "NAVIGATOR_SMTP_HOST": "127.0.0.1",
        "NAVIGATOR_SMTP_PORT": str(starttls_server.port), "NAVIGATOR_SMTP_STARTTLS": "true",
        "NAVIGATOR_SMTP_CAFILE": str(certificates.ca), "NAVIGATOR_SMTP_USER": "nav",
        "NAVIGATOR_SMTP_PASSWORD": "s3cret", "NAVIGATOR_MAIL_FROM": "navigator@navigator.example.org"})
    store = open_request_store(settings)
    try:
        await outbox_worker(settings, store).deliverers["email"].deliver(outbox_message())
    finally:
        store.close()
    assert starttls_server.handler.over_tls == [True]
    assert [m["To"] for m in starttls_server.handler.messages] == ["vecura@facility.example.org"]
