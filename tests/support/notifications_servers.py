"""Local stand-ins for the outside world of the notifications service, speaking the real
protocols: an SMTP server (aiosmtpd) and the HTTP SMS/WeChat gateway of the documented shape.

Both run in threads of the test process and record what they received. The gateway can be
told to fail a recipient a number of times (or always), or to hang on one, to test retries,
fallbacks and crashes in the middle of a send.
"""
import json
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from tests.support.services import free_port

ALWAYS = 10**9


@dataclass
class Mail:
    to: list[str]
    subject: str
    body: str
    headers: dict


class _Collect:
    def __init__(self, box: list):
        self.box = box

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.original_content)
        body = msg.get_payload(decode=True).decode(msg.get_content_charset() or "utf-8")
        self.box.append(Mail(list(envelope.rcpt_tos), str(make_header(decode_header(msg["Subject"]))), body,
                             dict(msg.items())))
        return "250 OK"


class SmtpServer:
    def __init__(self):
        self.mails: list[Mail] = []
        self.port = free_port()
        self._controller = Controller(_Collect(self.mails), hostname="127.0.0.1", port=self.port)

    def start(self) -> "SmtpServer":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if address in m.to]


@dataclass
class GatewayRequest:
    path: str
    body: dict
    answered: int


@dataclass
class HttpGateway:
    requests: list[GatewayRequest] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)  # recipient (phone or openid) → failures left
    hang: set[str] = field(default_factory=set)  # recipients whose request never gets an answer in time
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "HttpGateway":
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
                who = body.get("to") or body.get("openid")
                if who in gateway.hang:
                    gateway.requests.append(GatewayRequest(self.path, body, 0))
                    time.sleep(120)
                    return
                status = 200
                if gateway.failures.get(who, 0) > 0:
                    gateway.failures[who] -= 1
                    status = 503
                gateway.requests.append(GatewayRequest(self.path, body, status))
                out = json.dumps({"accepted": status == 200}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def to(self, recipient: str, path: str | None = None) -> list[GatewayRequest]:
        return [r for r in self.requests if (r.body.get("to") or r.body.get("openid")) == recipient
                and (path is None or r.path == path)]
