"""The SMTP client against a real SMTP server (aiosmtpd) in each security mode."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from smtp_mailbox import Mailbox
from starlette.datastructures import Secret

from worker.config import Settings
from worker.mail.smtp import MailError, send, unreachable

pytestmark = pytest.mark.anyio


def authenticate(
    server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"shop",
        b"s3cret",
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the client verifies it via SSL_CERT_FILE)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def message() -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Qazaq eSIM <no-reply@qazaq-esim.com>"
    mail["To"] = "buyer@example.kz"
    mail["Subject"] = "Ваша eSIM готова"
    mail["Message-ID"] = "<100000123.delivery.1@qazaq-esim.com>"
    mail.set_content("Здравствуйте!")
    return mail


@pytest.fixture
def serve() -> Iterator[Any]:
    boxes: list[Mailbox] = []

    def start(box: Mailbox) -> int:
        boxes.append(box)
        box.up()
        return box.port

    yield start
    for box in boxes:
        box.down()


def _settings(settings: Settings, port: int, **changes: Any) -> Settings:
    return replace(settings, smtp_host="127.0.0.1", smtp_port=port, **changes)


async def test_plain_smtp_delivers_the_message_as_composed(settings: Settings, serve: Any) -> None:
    inbox = Mailbox()
    port = serve(inbox)
    await send(_settings(settings, port, smtp_security="none"), message())
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["buyer@example.kz"]
    assert b"Message-ID: <100000123.delivery.1@qazaq-esim.com>" in envelope.original_content


async def test_starttls_with_login(
    settings: Settings, serve: Any, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    inbox = Mailbox(
        tls_context=server_context(certificate),
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    port = serve(inbox)
    config = _settings(
        settings, port, smtp_security="starttls", smtp_user="shop", smtp_password=Secret("s3cret")
    )
    await send(config, message())
    assert len(inbox.envelopes) == 1


async def test_implicit_tls(
    settings: Settings, serve: Any, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    inbox = Mailbox(ssl_context=server_context(certificate))
    port = serve(inbox)
    await send(_settings(settings, port, smtp_security="tls"), message())
    assert len(inbox.envelopes) == 1


async def test_wrong_password_names_the_settings_to_check(
    settings: Settings, serve: Any, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    inbox = Mailbox(tls_context=server_context(certificate), authenticator=authenticate)
    port = serve(inbox)
    config = _settings(
        settings, port, smtp_security="starttls", smtp_user="shop", smtp_password=Secret("wrong")
    )
    with pytest.raises(MailError, match="SMTP_USER and SMTP_PASSWORD") as error:
        await send(config, message())
    assert not error.value.permanent and inbox.envelopes == []


async def test_server_down_is_a_temporary_failure(settings: Settings) -> None:
    with pytest.raises(MailError, match="SMTP_HOST, SMTP_PORT") as error:
        await send(_settings(settings, Mailbox().port, smtp_security="none"), message())
    assert not error.value.permanent


async def test_refused_recipient_is_permanent_and_not_echoed(
    settings: Settings, serve: Any
) -> None:
    port = serve(Mailbox(refuse_recipients=True))
    with pytest.raises(MailError) as error:
        await send(_settings(settings, port, smtp_security="none"), message())
    assert error.value.permanent
    assert "buyer@example.kz" not in str(error.value)


async def test_a_non_ascii_address_on_a_relay_without_smtputf8_is_permanent(
    settings: Settings, serve: Any
) -> None:
    port = serve(Mailbox(enable_SMTPUTF8=False))  # a relay that announces no SMTPUTF8
    mail = message()
    del mail["To"]
    mail["To"] = "покупатель@example.com"
    with pytest.raises(MailError, match="no SMTPUTF8") as error:
        await send(_settings(settings, port, smtp_security="none"), mail)
    assert error.value.permanent


async def test_start_up_names_a_mail_server_that_takes_no_connection(
    settings: Settings, serve: Any
) -> None:
    down = await unreachable(_settings(settings, Mailbox().port, smtp_security="none"))
    up = await unreachable(_settings(settings, serve(Mailbox()), smtp_security="none"))

    assert down is not None and "does not answer" in down and "SMTP_HOST and SMTP_PORT" in down
    assert up is None
