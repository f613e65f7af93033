"""Delivering outbox emails by SMTP (aiosmtplib).

The Message-ID is derived from the outbox row id, so every retry of one
notification carries the same id and a receiving system can drop duplicates.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass, field
from email.message import EmailMessage

from support_requests.errors import DeliveryError, PermanentDeliveryError
from support_requests.notifications import EMAIL
from support_requests.outbox import OutboxMessage


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail.

    Attributes:
        host: the SMTP server; empty means email delivery is disabled.
        starttls: upgrade the connection with STARTTLS before sending (and before logging in). The server's
            certificate is always verified, against the system's certificate authorities and ``cafile``.
        cafile: a PEM file of further certificate authorities to trust for the server's certificate (for a
            mail relay with a private CA); empty trusts the system's only. It adds trust, it never turns
            verification off.
        user: log in with this user (and ``password``) when not empty.
        sender: the From address.
        timeout: seconds for connecting and for each SMTP command.
    """

    host: str
    port: int = 25
    sender: str = "navigator@example.org"
    starttls: bool = False
    cafile: str = ""
    user: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0

    @property
    def enabled(self) -> bool:
        """True when a host is configured."""
        return bool(self.host)


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    """The email for an outbox message: plain text, with a Message-ID derived from the outbox row id."""
    domain = sender.rpartition("@")[2] or "navigator.invalid"
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.recipient
    mail["Subject"] = message.payload["subject"]
    mail["Date"] = email.utils.formatdate(localtime=False)
    mail["Message-ID"] = f"<{message.delivery_id}@{domain}>"
    mail["X-Navigator-Reference"] = message.reference
    mail["X-Navigator-Delivery"] = message.delivery_id
    mail.set_content(message.payload["body"])
    return mail


class SmtpMailer:
    """Sends ``email`` outbox messages through one SMTP server; one connection per message."""

    kind = EMAIL

    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    async def deliver(self, message: OutboxMessage) -> None:
        """Send one email; returns once the server accepted it.

        Raises:
            PermanentDeliveryError: the server refused the message or recipient with a 5xx reply.
            DeliveryError: anything that may pass (server down, timeout, 4xx reply).
        """
        import aiosmtplib

        settings = self.settings
        login = {"username": settings.user, "password": settings.password} if settings.user else {}
        try:
            await aiosmtplib.send(
                build_email(message, settings.sender), hostname=settings.host, port=settings.port,
                start_tls=settings.starttls, cert_bundle=settings.cafile or None, timeout=settings.timeout, **login,
            )
        except aiosmtplib.SMTPResponseException as error:
            # The reply text may quote the recipient: keep only the code.
            detail = f"{type(error).__name__} {error.code}"
            raise (PermanentDeliveryError if 500 <= error.code < 600 else DeliveryError)(detail) from None
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = sorted({refusal.code for refusal in error.recipients})
            permanent = all(500 <= code < 600 for code in codes)
            detail = f"SMTPRecipientsRefused {','.join(map(str, codes))}"
            raise (PermanentDeliveryError if permanent else DeliveryError)(detail) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise DeliveryError(type(error).__name__) from None
