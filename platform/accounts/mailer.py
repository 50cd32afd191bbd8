"""Outgoing e-mail behind one small interface: the console by default, SMTP by settings.

The console mailer logs each message and writes it to `var/mail/` as an .eml file, so a developer
(or a browser test driving the real server) can follow a password link without a mail server.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from linju.platform.kernel.clock import utc_now
from linju.platform.settings import Settings, get_settings

logger = logging.getLogger("linju.mail")


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    body: str


# Mail to people whose language is not kept (donors, staff): Chinese first, then English.
MAIL_LOCALES = ("zh_CN", "en")


def in_both_languages(to: str, subject: Callable[[str], str], body: Callable[[str], str]) -> Mail:
    """One message in every mail language: the subjects joined by " / ", the bodies one after
    the other; `subject` and `body` render a text in the locale they are given."""
    return Mail(
        to=to,
        subject=" / ".join(subject(locale) for locale in MAIL_LOCALES),
        body="\n\n----\n\n".join(body(locale) for locale in MAIL_LOCALES),
    )


class Mailer(Protocol):
    async def send(self, mail: Mail, message_id: str | None = None) -> None: ...


def _message(mail: Mail, sender: str, message_id: str | None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id or make_msgid(domain="linju.invalid")
    message.set_content(mail.body)
    return message


class ConsoleMailer:
    def __init__(self, folder: Path, sender: str) -> None:
        self.folder = folder
        self.sender = sender

    async def send(self, mail: Mail, message_id: str | None = None) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = utc_now().strftime("%Y%m%dT%H%M%S%f")
        path = self.folder / f"{stamp}-{secrets.token_hex(4)}.eml"
        path.write_bytes(bytes(_message(mail, self.sender, message_id)))
        logger.info("mail to %s: %s (%s)\n%s", mail.to, mail.subject, path, mail.body)


class SmtpMailer:
    def __init__(self, url: str, sender: str) -> None:
        self.url = urlsplit(url)
        self.sender = sender

    def _send_blocking(self, mail: Mail, message_id: str | None) -> None:
        host = self.url.hostname or "localhost"
        if self.url.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, self.url.port or 465, timeout=30)
        else:
            client = smtplib.SMTP(host, self.url.port or 25, timeout=30)
        with client:
            if self.url.scheme == "smtp" and client.has_extn("starttls"):
                client.starttls()
            if self.url.username:
                client.login(unquote(self.url.username), unquote(self.url.password or ""))
            client.send_message(_message(mail, self.sender, message_id))

    async def send(self, mail: Mail, message_id: str | None = None) -> None:
        await asyncio.to_thread(self._send_blocking, mail, message_id)


def get_mailer(settings: Settings | None = None) -> Mailer:
    settings = settings or get_settings()
    if settings.smtp_url:
        return SmtpMailer(settings.smtp_url, settings.mail_from)
    return ConsoleMailer(settings.var_dir / "mail", settings.mail_from)
