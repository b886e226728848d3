"""Delivery channels: SMTP e-mail, a JSON webhook (generic, DingTalk or WeCom
robot bodies) and a file drop, behind one Protocol: `send(msg)` delivers one
message or raises `DeliveryError`.

    DeliveryError       one failed attempt; str() is one line for the outbox
    InvalidInput        (statemachine.errors) a webhook style none of these speak, or
                        SMTP AUTH without STARTTLS when plain AUTH is not allowed

The channels a process has are built from its settings by the composition
root (services/core/runtime.py); a bad setting is refused there, at start.

Every message carries its outbox key as an idempotency key (Message-ID,
Idempotency-Key header, file name): when a crash between sending and
recording makes the drain send again, the receiver can recognise the repeat.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import smtplib
import ssl
import tempfile
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Protocol
from statemachine.errors import DeliveryError, InvalidInput
from statemachine.masking import mask_secrets, masked_url

__all__ = ["OutboundMessage", "DeliveryError", "Channel", "SmtpChannel", "WebhookChannel",
           "FileDropChannel", "message_id", "safe_name", "WEBHOOK_STYLES"]

WEBHOOK_STYLES = ("generic", "dingtalk", "wecom")
WECOM_MARKDOWN_BYTES = 4096  # 企业微信 refuses longer markdown content (errcode 40058)
DINGTALK_MARKDOWN_BYTES = 20000


@dataclass(frozen=True)
class OutboundMessage:
    key: str
    channel: str
    recipient: str
    subject: str
    body_text: str
    body_html: str | None = None


class Channel(Protocol):
    def send(self, msg: OutboundMessage) -> None: ...


def _one_line(text: object) -> str:
    # an error may quote the URL it failed on, with its password or token
    s = mask_secrets(" ".join(str(text).split()))
    return s[:500]


def safe_name(key: str) -> str:
    """`key` restricted to [A-Za-z0-9._-]; when that changed it, a digest of the
    key follows, so two keys never share a name ('a:b' and 'a_b' differ)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", key).strip("._") or "message"
    if safe != key:
        safe += "." + hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]
    return safe


def message_id(key: str) -> str:
    return f"<{safe_name(key)}@rectify>"


@dataclass(frozen=True)
class SmtpChannel:
    host: str
    port: int = 25
    sender: str = "rectify@localhost"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    allow_plain_auth: bool = False  # AUTH without STARTTLS: the password in clear on the wire
    # STARTTLS verifies the server's certificate and name against the system's CAs, or
    # against this file (a province's own CA): smtplib's default checks neither, so a
    # machine in the middle could take the password the TLS was turned on to protect
    ca_file: str | None = None
    timeout: float = 10

    def __post_init__(self):
        if self.username and not self.starttls and not self.allow_plain_auth:
            raise InvalidInput(f"smtp {self.host}:{self.port}: AUTH without STARTTLS would send the "
                               f"password in clear text; turn STARTTLS on (or allow plain AUTH "
                               f"explicitly, for a relay on a trusted network)")

    def compose(self, msg: OutboundMessage) -> EmailMessage:
        """multipart/alternative (text, then HTML); headers UTF-8 per RFC 2047."""
        mail = EmailMessage()
        try:
            mail["From"], mail["To"], mail["Subject"] = self.sender, msg.recipient, msg.subject
        except ValueError as e:  # a line break in a header: refused, never injected
            raise DeliveryError(f"smtp: bad header: {_one_line(e)}") from None
        mail["Message-ID"], mail["Date"] = message_id(msg.key), formatdate(localtime=True)
        mail.set_content(msg.body_text)
        if msg.body_html:
            mail.add_alternative(msg.body_html, subtype="html")
        return mail

    def send(self, msg: OutboundMessage) -> None:
        mail = self.compose(msg)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=self.ca_file))
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException, UnicodeError) as e:
            raise DeliveryError(f"smtp {self.host}:{self.port}: "
                                f"{_one_line(e) or type(e).__name__}") from None


def _markdown(msg: OutboundMessage, limit: int) -> str:
    # the text notice indents paragraphs by four spaces, which markdown would
    # show as code; robots also want a blank line for a line break
    lines = [ln.strip() for ln in msg.body_text.splitlines() if ln.strip()]
    text = f"### {msg.subject}\n\n" + "\n\n".join(lines)
    if len(text.encode("utf-8")) <= limit:
        return text
    tail = "\n\n……（全文过长，请以正式文件为准）"
    room = limit - len(tail.encode("utf-8"))
    return text.encode("utf-8")[:room].decode("utf-8", "ignore") + tail


@dataclass(frozen=True)
class WebhookChannel:
    url: str = field(repr=False)  # a password or a robot's token: never in a repr or a log
    style: str = "generic"  # generic | dingtalk | wecom
    timeout: float = 10

    def __post_init__(self):
        if self.style not in WEBHOOK_STYLES:
            raise InvalidInput(f"webhook style '{self.style}' is not one of {', '.join(WEBHOOK_STYLES)}")

    def body(self, msg: OutboundMessage) -> dict:
        if self.style == "dingtalk":  # 钉钉自定义机器人: markdown {title, text}
            return {"msgtype": "markdown",
                    "markdown": {"title": msg.subject, "text": _markdown(msg, DINGTALK_MARKDOWN_BYTES)}}
        if self.style == "wecom":  # 企业微信群机器人: markdown {content}
            return {"msgtype": "markdown", "markdown": {"content": _markdown(msg, WECOM_MARKDOWN_BYTES)}}
        return {"key": msg.key, "recipient": msg.recipient, "subject": msg.subject,
                "text": msg.body_text, "html": msg.body_html}

    def send(self, msg: OutboundMessage) -> None:
        import httpx  # costs ~0.1 s; only a process that sends pays it

        where = f"webhook {masked_url(self.url)}"  # errors are stored and shown
        try:
            r = httpx.post(self.url, json=self.body(msg), timeout=self.timeout,
                           headers={"Idempotency-Key": msg.key})
        except httpx.HTTPError as e:
            raise DeliveryError(f"{where}: {type(e).__name__}: {_one_line(e)}") from None
        if not 200 <= r.status_code < 300:
            raise DeliveryError(f"{where}: HTTP {r.status_code}")
        if self.style != "generic":
            # robots answer 200 with {"errcode": n, "errmsg": …}; n != 0 is a refusal
            try:
                answer = r.json()
            except ValueError:
                raise DeliveryError(f"{where}: HTTP {r.status_code} but not the robot's JSON answer") from None
            code = answer.get("errcode", 0) if isinstance(answer, dict) else 0
            if code != 0:
                raise DeliveryError(f"{where}: errcode {code}: {_one_line(answer.get('errmsg', ''))}")


@dataclass(frozen=True)
class FileDropChannel:
    """One JSON file per message, `<safe key>.json`; a file already there is
    the same message delivered before, so it is left alone."""

    directory: Path

    def path_of(self, key: str) -> Path:
        return Path(self.directory) / f"{safe_name(key)}.json"

    def send(self, msg: OutboundMessage) -> None:
        target = self.path_of(msg.key)
        if target.exists():
            return
        payload = json.dumps({"key": msg.key, "channel": msg.channel, "recipient": msg.recipient,
                              "subject": msg.subject, "text": msg.body_text, "html": msg.body_html},
                             ensure_ascii=False, indent=2)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # a hidden temporary name of our own: a reader globbing *.json never
            # sees half a file, and two writers never share a temporary file
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(payload)
                    f.flush()
                    os.fsync(f.fileno())  # marked sent next: the content must survive a power cut
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as e:
            raise DeliveryError(f"file drop {self.directory}: {e.strerror or _one_line(e)}") from None
