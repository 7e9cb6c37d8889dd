"""The HTTP gateway sender keeps its connections: one client for the process, not one a send.

A client a send built an SSL context each time (the CA bundle loaded again): 78 % of
notifications' CPU while a notice to 3,000 members went out through a gateway (docs/reliability.md,
finding 21). Here a gateway on a local socket counts the connections it was opened."""
import asyncio

import pytest

from services.notifications.adapters.channels import HttpGatewaySender, Note, SendFailed
from services.notifications.settings import NotifySettings

pytestmark = pytest.mark.integration


class CountingGateway:
    """Answers every request 200 (or 503 for the phone in `refuse`), keeping the connection open."""

    def __init__(self, refuse: str = ""):
        self.connections = self.requests = 0
        self.refuse = refuse

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                body = await reader.readexactly(length)
                self.requests += 1
                status = b"503 Service Unavailable" if self.refuse and self.refuse.encode() in body else b"200 OK"
                writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def test_the_gateway_sender_reuses_its_connection_from_send_to_send():
    gateway = CountingGateway(refuse="13900000002")
    server = await asyncio.start_server(gateway.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sender = HttpGatewaySender(NotifySettings(gateway_url=f"http://127.0.0.1:{port}", send_timeout_seconds=5))
    try:
        for k in range(5):
            note = Note("sms", "n1", f"m{k}", 1, "通知", "请学习。", {"phone": f"1390000000{k}"})
            if k == 2:
                with pytest.raises(SendFailed, match="503"):
                    await sender.send(note)
            else:
                await sender.send(note)
    finally:
        await sender.aclose()
        server.close()
        await server.wait_closed()
    assert (gateway.requests, gateway.connections) == (5, 1)


async def test_a_request_the_gateway_took_without_answering_is_unanswered_a_refusal_or_no_connection_is_not():
    """What decides whether an attempt is sent again under its own key (domain/delivery.py)."""
    silent = asyncio.Event()

    async def takes_and_says_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await silent.wait()
        writer.close()

    server = await asyncio.start_server(takes_and_says_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    note = Note("sms", "n1", "m1", 1, "通知", "请学习。", {"phone": "13900000001"})
    sender = HttpGatewaySender(NotifySettings(gateway_url=f"http://127.0.0.1:{port}", send_timeout_seconds=0.5))
    try:
        with pytest.raises(SendFailed, match="ReadTimeout") as timed_out:
            await sender.send(note)
        assert timed_out.value.unanswered
    finally:
        silent.set()
        await sender.aclose()
        server.close()
        await server.wait_closed()

    refusing = CountingGateway(refuse="13900000001")
    server = await asyncio.start_server(refusing.serve, "127.0.0.1", 0)
    sender = HttpGatewaySender(NotifySettings(gateway_url=f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}",
                                              send_timeout_seconds=5))
    try:
        with pytest.raises(SendFailed, match="503") as refused:
            await sender.send(note)
        assert not refused.value.unanswered
    finally:
        await sender.aclose()
        server.close()
        await server.wait_closed()

    nobody = HttpGatewaySender(NotifySettings(gateway_url=f"http://127.0.0.1:{port}", send_timeout_seconds=5))
    try:
        with pytest.raises(SendFailed, match="ConnectError") as never_left:
            await nobody.send(note)  # the first server is closed: the request never left
        assert not never_left.value.unanswered
    finally:
        await nobody.aclose()
