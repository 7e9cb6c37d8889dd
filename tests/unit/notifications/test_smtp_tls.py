"""The SMTP sender builds its SSL context once (a context a message loads the CA bundle each time,
as the HTTP gateway's client a send did: docs/reliability.md, finding 21)."""
import asyncio

import pytest

from services.notifications.adapters import channels
from services.notifications.adapters.channels import Note, SmtpSender
from services.notifications.settings import NotifySettings

pytestmark = pytest.mark.unit


def sent_with(monkeypatch, starttls: bool) -> list:
    contexts = []

    async def send(message, **kw):
        contexts.append(kw["tls_context"])

    monkeypatch.setattr(channels.aiosmtplib, "send", send)
    sender = SmtpSender(NotifySettings(smtp_host="mail.example.cn", smtp_starttls=starttls))
    for k in range(3):
        asyncio.run(sender.send(Note("email", "n1", f"m{k}", 1, "通知", "请学习。", {"email": f"m{k}@example.cn"})))
    return contexts


def test_with_starttls_every_message_uses_the_one_context(monkeypatch):
    first, *others = sent_with(monkeypatch, starttls=True)
    assert first is not None and all(c is first for c in others)


def test_without_starttls_no_context_is_built(monkeypatch):
    assert sent_with(monkeypatch, starttls=False) == [None, None, None]
