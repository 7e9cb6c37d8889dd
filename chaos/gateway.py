"""A slow and failing outside world for the notifications service: the SMS/WeChat HTTP gateway
(the documented shape, `NOTIFY_GATEWAY_URL`) and an SMTP server (`NOTIFY_SMTP_HOST`).

Each request's fate is decided by a hash of what it is about, in the scenario's canonical names
(notice, member, channel, attempt): the clean run and a faulted run of one scenario meet the very
same failures, so their deliveries must end the same. The fates:
- ok: answered 200 at once; slow: answered 200 after a while, within the send timeout;
- 5xx: 503 or 500;
- late: answered 200 only after the sender's timeout (it gave up: a failure to it), yet sent;
- hang: the connection is accepted and never answered (not sent).
Like a gateway that keeps idempotency keys, a key it has already sent (ok, slow or late: taken on
receipt) is answered 200 at once and not sent again (`known`); the sender sends an attempt it got no
answer for again under its key (services/notifications/domain/delivery.py). Every request is
recorded. A member reached twice on one channel, under two keys (a late send followed by a new
attempt), is a duplicated send.
"""
import asyncio
import hashlib
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

# fate: share of requests (per mille)
FATES = (("ok", 800), ("slow", 50), ("503", 60), ("500", 30), ("late", 30), ("hang", 30))
SENT = ("ok", "slow", "late")  # the fates that reach the member


def fate(key: str) -> str:
    n = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "big") % 1000
    for name, share in FATES:
        if n < share:
            return name
        n -= share
    return "ok"


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) overflowed when two instances sent 16 requests each at once:
    # connections refused until the sender's timeout, failures no fate had decided, so two runs of
    # one scenario met different failures (about 100 `ConnectTimeout`s a full-year run).
    request_queue_size = 256

    def handle_error(self, request, client_address) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):  # a sender that gave up: expected
            super().handle_error(request, client_address)


@dataclass
class Request:
    transport: str  # http or smtp
    idempotency_key: str
    canonical: str
    tag: str | None
    fate: str
    at: float


@dataclass
class World:
    """The gateway and the SMTP server, with what they were asked."""

    http_port: int
    smtp_port: int
    send_timeout: float
    resolve: object = None  # text → (tag, canonical text), from the suite's registry of runs
    requests: list[Request] = field(default_factory=list)
    _sent: set[str] = field(default_factory=set)  # the keys sent (a set: every request asks it)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def settings(self) -> dict[str, str]:
        return {"NOTIFY_GATEWAY_URL": self.url, "NOTIFY_SMTP_HOST": "127.0.0.1",
                "NOTIFY_SMTP_PORT": str(self.smtp_port), "NOTIFY_SEND_TIMEOUT_SECONDS": str(self.send_timeout)}

    def decide(self, transport: str, idempotency_key: str) -> str:
        tag, canonical = (self.resolve(idempotency_key) if self.resolve else (None, idempotency_key))
        with self._lock:
            f = "known" if idempotency_key in self._sent else fate(canonical)
            if f in SENT:
                self._sent.add(idempotency_key)
            self.requests.append(Request(transport, idempotency_key, canonical, tag, f, time.time()))
        return f

    def faults(self, tag: str | None = None) -> Counter:
        return Counter(r.fate for r in self.requests if tag is None or r.tag == tag)

    def sent_twice(self, tag: str | None = None) -> dict[str, int]:
        """Messages that reached a member more than once on one channel: {notice|member|channel: sends}."""
        n = Counter(r.idempotency_key.rsplit("|", 1)[0] for r in self.requests
                    if r.fate in SENT and (tag is None or r.tag == tag))
        return {k: c for k, c in n.items() if c > 1}

    # ---- the servers ---------------------------------------------------------------------------

    def start(self) -> "World":
        world = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                f = world.decide("http", str(body.get("idempotency_key")))
                if f == "hang":
                    time.sleep(world.send_timeout * 30)
                    self.close_connection = True
                    return
                if f == "slow":
                    time.sleep(world.send_timeout / 10)
                if f == "late":
                    time.sleep(world.send_timeout + 1)
                status = int(f) if f.isdigit() else 200  # known: answered at once
                out = json.dumps({"accepted": status == 200}).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except OSError:
                    pass  # the sender gave up

            def log_message(self, *args):
                pass

        self._http = _Server(("127.0.0.1", self.http_port), Handler)
        self._http.daemon_threads = True
        threading.Thread(target=self._http.serve_forever, daemon=True, name="chaos-gateway").start()

        class Smtp:
            async def handle_DATA(self, server, session, envelope):
                text = envelope.original_content.decode("utf-8", "replace")
                key = next((line.split(":", 1)[1].strip() for line in text.splitlines()
                            if line.lower().startswith("x-sunsetred-idempotency-key:")), "?")
                f = world.decide("smtp", key)
                if f == "hang":
                    await asyncio.sleep(world.send_timeout * 30)
                if f == "slow":
                    await asyncio.sleep(world.send_timeout / 10)
                if f == "late":
                    await asyncio.sleep(world.send_timeout + 1)
                return {"503": "451 4.3.0 try again later", "500": "554 5.0.0 refused"}.get(f, "250 OK")

        self._smtp = Controller(Smtp(), hostname="127.0.0.1", port=self.smtp_port)
        self._smtp.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._smtp.stop()
