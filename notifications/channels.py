"""Delivery channels: SMTP e-mail, a JSON webhook (generic, DingTalk or WeCom
robot bodies) and a file drop. Each sends one message or raises DeliveryError.

Every message carries its outbox key as an idempotency key (Message-ID,
Idempotency-Key header, file name), so when a crash between sending and
recording makes the drain send again, the receiver can recognise the repeat.
"""
from __future__ import annotations

import json
import os
import re
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Mapping, Protocol

__all__ = ["OutboundMessage", "DeliveryError", "Channel", "SmtpChannel", "WebhookChannel",
           "FileDropChannel", "channels_from_env", "message_id"]


@dataclass(frozen=True)
class OutboundMessage:
    key: str
    channel: str
    recipient: str
    subject: str
    body_text: str
    body_html: str | None = None


class DeliveryError(Exception):
    """A failed attempt; its str() is one line for the outbox's last_error."""


class Channel(Protocol):
    def send(self, msg: OutboundMessage) -> None: ...


def message_id(key: str) -> str:
    return f"<{re.sub(r'[^A-Za-z0-9._-]+', '.', key)}@rectify>"


@dataclass(frozen=True)
class SmtpChannel:
    host: str
    port: int = 25
    sender: str = "rectify@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10

    def send(self, msg: OutboundMessage) -> None:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = self.sender, msg.recipient, msg.subject
        mail["Message-ID"], mail["Date"] = message_id(msg.key), formatdate(localtime=True)
        mail.set_content(msg.body_text)
        if msg.body_html:
            mail.add_alternative(msg.body_html, subtype="html")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as e:
            raise DeliveryError(f"smtp {self.host}:{self.port}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None


@dataclass(frozen=True)
class WebhookChannel:
    url: str
    style: str = "generic"  # generic | dingtalk | wecom
    timeout: float = 10

    def body(self, msg: OutboundMessage) -> dict:
        markdown = f"### {msg.subject}\n\n" + msg.body_text
        if self.style == "dingtalk":  # 钉钉自定义机器人
            return {"msgtype": "markdown", "markdown": {"title": msg.subject, "text": markdown}}
        if self.style == "wecom":  # 企业微信群机器人
            return {"msgtype": "markdown", "markdown": {"content": markdown}}
        return {"key": msg.key, "recipient": msg.recipient, "subject": msg.subject,
                "text": msg.body_text, "html": msg.body_html}

    def send(self, msg: OutboundMessage) -> None:
        import httpx

        try:
            r = httpx.post(self.url, json=self.body(msg), timeout=self.timeout,
                           headers={"Idempotency-Key": msg.key})
        except httpx.HTTPError as e:
            raise DeliveryError(f"webhook {self.url}: {type(e).__name__}: {e}") from None
        if not 200 <= r.status_code < 300:
            raise DeliveryError(f"webhook {self.url}: HTTP {r.status_code}")


@dataclass(frozen=True)
class FileDropChannel:
    directory: Path

    def send(self, msg: OutboundMessage) -> None:
        safe = re.sub(r"[^\w.-]+", "_", msg.key)
        target = Path(self.directory) / f"{safe}.json"
        if target.exists():  # sent before: the same key is the same message
            return
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            tmp.write_text(json.dumps({"key": msg.key, "recipient": msg.recipient, "subject": msg.subject,
                                       "text": msg.body_text, "html": msg.body_html},
                                      ensure_ascii=False, indent=2), encoding="utf-8")
            os.replace(tmp, target)  # readers never see half a file
        except OSError as e:
            raise DeliveryError(f"file drop {self.directory}: {e.strerror or e}") from None


def channels_from_env(env: Mapping[str, str] | None = None) -> dict[str, Channel]:
    """The channels this process is configured for (RECTIFY_SMTP_*, RECTIFY_WEBHOOK_*,
    RECTIFY_FILE_DROP); a channel without its settings is absent."""
    env = os.environ if env is None else env
    out: dict[str, Channel] = {}
    if env.get("RECTIFY_SMTP_HOST"):
        out["email"] = SmtpChannel(
            host=env["RECTIFY_SMTP_HOST"], port=int(env.get("RECTIFY_SMTP_PORT") or 25),
            sender=env.get("RECTIFY_SMTP_FROM") or "rectify@localhost",
            username=env.get("RECTIFY_SMTP_USER") or None, password=env.get("RECTIFY_SMTP_PASSWORD"),
            starttls=(env.get("RECTIFY_SMTP_STARTTLS") or "").lower() in ("1", "true", "yes"))
    if env.get("RECTIFY_WEBHOOK_URL"):
        out["webhook"] = WebhookChannel(env["RECTIFY_WEBHOOK_URL"],
                                        style=env.get("RECTIFY_WEBHOOK_STYLE") or "generic")
    if env.get("RECTIFY_FILE_DROP"):
        out["file"] = FileDropChannel(Path(env["RECTIFY_FILE_DROP"]).expanduser())
    return out
