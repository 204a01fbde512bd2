"""Send one message through the SMTP server of the settings (SMTP_* in README, Settings)."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage

from worker import metrics
from worker.config import Settings

TIMEOUT = 15.0


class MailError(Exception):
    """The SMTP server did not take the message. The text names no address.

    `permanent` is true when the server refused the recipient for good (5xx): sending
    again would be refused again.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def _send_now(settings: Settings, message: EmailMessage) -> None:
    where = f"SMTP {settings.smtp_host}:{settings.smtp_port} ({settings.smtp_security})"
    try:
        if settings.smtp_security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                timeout=TIMEOUT,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT)
        with client:
            if settings.smtp_security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                client.login(settings.smtp_user, str(settings.smtp_password))
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        codes = sorted({code for code, _ in error.recipients.values()})
        raise MailError(
            f"{where} refused the recipient ({codes})", permanent=all(c >= 500 for c in codes)
        ) from None
    except smtplib.SMTPNotSupportedError:
        # A non-ASCII address and a relay without SMTPUTF8: sending again will not help.
        raise MailError(f"{where} cannot take a non-ASCII address (no SMTPUTF8)", permanent=True) from None
    except smtplib.SMTPAuthenticationError as error:
        raise MailError(
            f"{where} refused the login ({error.smtp_code}); check SMTP_USER and SMTP_PASSWORD"
        ) from None
    except smtplib.SMTPResponseException as error:
        raise MailError(f"{where} answered {error.smtp_code}") from None
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(
            f"{where} failed ({type(error).__name__}); check SMTP_HOST, SMTP_PORT, SMTP_SECURITY"
        ) from None


async def unreachable(settings: Settings) -> str | None:
    """What is wrong when the SMTP server takes no connection (checked at start: mail would
    only wait in the jobs); None when it answers."""
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(settings.smtp_host, settings.smtp_port), TIMEOUT)
    except (OSError, TimeoutError) as error:
        return (f"SMTP {settings.smtp_host}:{settings.smtp_port} does not answer "
                f"({type(error).__name__}); e-mails wait until it does: check SMTP_HOST and SMTP_PORT")
    writer.close()
    return None


async def send(settings: Settings, message: EmailMessage) -> None:
    """Return once the server accepted the message; raise MailError otherwise."""
    try:
        await asyncio.to_thread(_send_now, settings, message)
    except MailError as error:
        metrics.EXTERNAL_ERRORS.labels("smtp", "refused" if error.permanent else "failed").inc()
        raise
