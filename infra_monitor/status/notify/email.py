"""E-mail channel: plain-text message over SMTP with STARTTLS and authentication (stdlib ``smtplib``).

Called from the notifier's own thread, never from a sweep. Credentials are never sent without TLS: a
channel with a username but ``starttls`` off is refused.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from infra_monitor.status.notify.base import DeliveryError

log = logging.getLogger(__name__)

SUBJECT_PREFIX = "[infra-monitor]"


def build_message(payload: dict[str, Any], sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    """The e-mail for a notification payload: subject = title, body = the text listing."""
    msg = EmailMessage()
    msg["Subject"] = f"{SUBJECT_PREFIX} {payload.get('title', 'notification')}"
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="infra-monitor")
    msg.set_content(str(payload.get("text") or payload.get("title") or ""), charset="utf-8")
    return msg


@dataclass(frozen=True)
class EmailSender:
    name: str
    host: str
    sender: str
    recipients: tuple[str, ...]
    port: int = 587
    starttls: bool = True
    username: str = ""
    password: str = field(default="", repr=False)
    timeout_s: float = 10.0
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    def send(self, payload: dict[str, Any]) -> None:
        self.deliver(build_message(payload, self.sender, self.recipients))

    def deliver(self, msg: EmailMessage) -> None:
        """Send a ready message (a notification, or a report with attachments) through this channel."""
        if self.username and not self.starttls:
            raise DeliveryError("refusing to send SMTP credentials without STARTTLS")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(msg)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"SMTP authentication failed ({exc.smtp_code})") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP error: {type(exc).__name__}: {exc}"[:300]) from None
        log.info("notification_sent channel=%s kind=email recipients=%d", self.name, len(self.recipients))
