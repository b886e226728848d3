"""SMTP AUTH never sends a password over plain TCP unless an operator allows it
(issue 13): refused at start by the settings and by the channel itself, against a
real SMTP server on loopback (aiosmtpd) that would accept it."""
from __future__ import annotations

from contextlib import contextmanager

import pytest

from notifications.delivery.channels import DeliveryError, OutboundMessage, SmtpChannel
from services.core.runtime import Runtime
from services.core.settings import Settings
from statemachine.errors import InvalidInput

from ..conftest import _free_port

MESSAGE = OutboundMessage("k-1", "email", "liaison.b@example.org", "关于对乙县的通报批评", "通报正文")


@contextmanager
def _recording_server(**controller_options):
    """aiosmtpd on loopback that takes any AUTH; yields (port, the logins, the messages)."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    logins: list[tuple[str, str]] = []
    messages: list = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)

    class Collect:
        async def handle_DATA(self, server, session, envelope):
            messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    port = _free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port, authenticator=authenticator,
                            **controller_options)
    controller.start()
    try:
        yield port, logins, messages
    finally:
        controller.stop()


@pytest.fixture
def auth_server():
    """aiosmtpd taking AUTH without TLS (as a careless relay would)."""
    with _recording_server(auth_require_tls=False) as server:
        yield server


def test_a_user_without_starttls_is_refused_at_start_naming_the_setting(auth_server):
    port, logins, messages = auth_server
    with pytest.raises(InvalidInput) as e:
        Settings.from_env({"RECTIFY_SMTP_HOST": "127.0.0.1", "RECTIFY_SMTP_PORT": str(port),
                           "RECTIFY_SMTP_USER": "duban", "RECTIFY_SMTP_PASSWORD": "s3cret-pw"})
    assert str(e.value) == ("RECTIFY_SMTP_ALLOW_PLAIN_AUTH: RECTIFY_SMTP_USER without "
                            "RECTIFY_SMTP_STARTTLS=true would send the password in clear text: turn "
                            "STARTTLS on, or set this to true for a relay on a trusted network")
    assert "s3cret-pw" not in str(e.value)
    with pytest.raises(InvalidInput, match="AUTH without STARTTLS would send the password in clear text"):
        SmtpChannel("127.0.0.1", port, username="duban", password="s3cret-pw")
    assert logins == [] and messages == []


def test_plain_auth_explicitly_allowed_logs_in_and_delivers(auth_server):
    port, logins, messages = auth_server
    settings = Settings.from_env({"RECTIFY_SMTP_HOST": "127.0.0.1", "RECTIFY_SMTP_PORT": str(port),
                                  "RECTIFY_SMTP_USER": "duban", "RECTIFY_SMTP_PASSWORD": "s3cret-pw",
                                  "RECTIFY_SMTP_ALLOW_PLAIN_AUTH": "true"})
    Runtime(settings).channels["email"].send(MESSAGE)
    assert logins == [("duban", "s3cret-pw")]
    assert [m["To"] for m in messages] == ["liaison.b@example.org"]


def test_without_a_user_nothing_is_asked_and_mail_goes_out_as_before(auth_server):
    port, logins, messages = auth_server
    Runtime(Settings(smtp_host="127.0.0.1", smtp_port=port)).channels["email"].send(MESSAGE)
    assert logins == [] and len(messages) == 1


def test_starttls_the_server_does_not_offer_fails_before_the_password_is_sent(auth_server):
    port, logins, messages = auth_server
    channel = Runtime(Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_user="duban",
                               smtp_password="s3cret-pw", smtp_starttls=True)).channels["email"]
    with pytest.raises(DeliveryError, match=f"^smtp 127.0.0.1:{port}: ") as e:
        channel.send(MESSAGE)
    assert "s3cret-pw" not in str(e.value)
    assert logins == [] and messages == []


# -- STARTTLS verifies the relay's certificate -----------------------------------------

@pytest.fixture
def tls_server(tmp_path):
    """aiosmtpd offering STARTTLS with a certificate of its own CA (made here, for
    127.0.0.1): yields (port, the CA file, the logins it was given, the messages)."""
    import datetime
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "示例督办邮件中继")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "relay.pem", tmp_path / "relay.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert_file, key_file)

    with _recording_server(tls_context=tls, require_starttls=True) as (port, logins, messages):
        yield port, cert_file, logins, messages


def _tls_settings(port: int, **more) -> Settings:
    return Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_user="duban", smtp_password="s3cret-pw",
                    smtp_starttls=True, **more)


def test_a_relay_whose_certificate_nobody_vouches_for_never_gets_the_password(tls_server):
    port, _, logins, messages = tls_server
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED") as e:
        Runtime(_tls_settings(port)).channels["email"].send(MESSAGE)
    assert "s3cret-pw" not in str(e.value) and "\n" not in str(e.value)
    assert logins == [] and messages == []


def test_the_relays_own_ca_given_the_mail_goes_out_over_tls(tls_server):
    port, ca, logins, messages = tls_server
    Runtime(_tls_settings(port, smtp_ca_file=str(ca))).channels["email"].send(MESSAGE)
    assert logins == [("duban", "s3cret-pw")]
    assert [m["Subject"] for m in messages] == ["关于对乙县的通报批评"]


def test_a_ca_file_that_is_not_there_is_refused_at_start(tmp_path):
    with pytest.raises(InvalidInput, match="^RECTIFY_SMTP_CA_FILE: .*no such file"):
        Settings.from_env({"RECTIFY_SMTP_CA_FILE": str(tmp_path / "missing.pem")})
