"""The channels behind one interface: `await sender.send(note)` delivers or raises `SendFailed`.

- email: SMTP (aiosmtplib), a plain-text UTF-8 message;
- sms and wechat: an HTTP gateway at a configured URL. The request shape (JSON, UTF-8):
  `POST {url}/sms`    {"idempotency_key", "notice_id", "member_id", "attempt", "to", "segments": [≤70 chars each]}
  `POST {url}/wechat` {"idempotency_key", "notice_id", "member_id", "attempt", "openid", "title", "body"}
  Any 2xx answer means accepted; any other answer, a timeout or a network error is a failure.
  `idempotency_key` is "<notice_id>|<member_id>|<channel>|<attempt>": a gateway that keeps it
  can drop a request it has already seen. A request it took without answering in time is sent
  again under the same key (`SendFailed.unanswered`);
- console: the demo channel, a log line; it is used for every electronic channel not configured.
"""
import logging
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib
import httpx

from services.notifications.domain.texts import segments, sms_text
from services.notifications.settings import NotifySettings

log = logging.getLogger(__name__)


class SendFailed(Exception):
    """`unanswered`: the request may have reached the gateway (it took the request and gave no
    answer in time, or the connection dropped before the answer), so whether it was sent is not
    known: the attempt is sent again under the same idempotency key (domain/delivery.py). A refusal
    (an answer other than 2xx) or a request that never left (no connection) is not."""

    def __init__(self, message: str, unanswered: bool = False):
        super().__init__(message)
        self.unanswered = unanswered


@dataclass(frozen=True)
class Note:
    channel: str
    notice_id: str
    member_id: str
    attempt: int
    title: str
    body: str
    contacts: dict = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str:
        return f"{self.notice_id}|{self.member_id}|{self.channel}|{self.attempt}"


class Sender(Protocol):
    transport: str

    async def send(self, note: Note) -> None: ...


class ConsoleSender:
    transport = "console"

    async def send(self, note: Note) -> None:
        log.info("notice delivered on the console", extra={
            "channel": note.channel, "notice_id": note.notice_id, "member_id": note.member_id,
            "attempt": note.attempt, "title": note.title, "body": note.body})


class SmtpSender:
    """A connection a message (mail servers close idle ones); with STARTTLS, one SSL context for the
    process, not one a message (building one loads the CA bundle: see HttpGatewaySender)."""
    transport = "smtp"

    def __init__(self, s: NotifySettings):
        self.s = s
        self._tls: ssl.SSLContext | None = None

    @property
    def tls_context(self) -> ssl.SSLContext | None:
        if self.s.smtp_starttls and self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    async def send(self, note: Note) -> None:
        msg = EmailMessage()
        msg["From"] = self.s.smtp_from
        msg["To"] = note.contacts["email"]
        msg["Subject"] = note.title
        msg["X-Sunsetred-Idempotency-Key"] = note.idempotency_key
        msg.set_content(f"{note.body}\n\n—— 夕阳红社区离退休干部党建平台", charset="utf-8")
        try:
            await aiosmtplib.send(msg, hostname=self.s.smtp_host, port=self.s.smtp_port,
                                  username=self.s.smtp_username, password=self.s.smtp_password,
                                  start_tls=self.s.smtp_starttls, tls_context=self.tls_context,
                                  timeout=self.s.send_timeout_seconds)
        except (aiosmtplib.SMTPReadTimeoutError, aiosmtplib.SMTPServerDisconnected) as exc:
            raise SendFailed(f"SMTP: {exc}", unanswered=True) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise SendFailed(f"SMTP: {exc}") from exc


class HttpGatewaySender:
    """One client for the process's life: its connections are kept and reused. (A client a send
    built an SSL context each time, loading the CA bundle: 78 % of notifications' CPU while a notice
    to 3,000 went out; docs/reliability.md, finding 21.)"""
    transport = "http"

    def __init__(self, s: NotifySettings):
        self.url = s.gateway_url.rstrip("/")
        self.timeout = s.send_timeout_seconds
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:  # made on first use, inside the event loop that uses it
            self._client = httpx.AsyncClient(timeout=self.timeout)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def send(self, note: Note) -> None:
        body = {"idempotency_key": note.idempotency_key, "notice_id": note.notice_id,
                "member_id": note.member_id, "attempt": note.attempt}
        if note.channel == "sms":
            body.update(to=note.contacts["phone"], segments=segments(sms_text(note.title, note.body)))
        else:
            body.update(openid=note.contacts["wechat_openid"], title=note.title, body=note.body)
        try:
            r = await self.client.post(f"{self.url}/{note.channel}", json=body)
        except (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError) as exc:
            # Written, then no answer: the gateway may have taken it.
            raise SendFailed(f"gateway: {type(exc).__name__}: {exc}", unanswered=True) from exc
        except httpx.HTTPError as exc:
            raise SendFailed(f"gateway: {type(exc).__name__}: {exc}") from exc
        if not r.is_success:
            raise SendFailed(f"gateway answered {r.status_code}: {r.text[:200]}")


def senders(s: NotifySettings) -> dict[str, Sender]:
    console = ConsoleSender()
    gateway = HttpGatewaySender(s) if s.gateway_url else console
    return {"email": SmtpSender(s) if s.smtp_host else console, "sms": gateway, "wechat": gateway}
