"""Reproductions of what the fault-injection suite (`python -m chaos`) found that need a process.

Each guards its fix; see tests/unit/test_chaos_findings.py and docs/reliability.md.
"""
import asyncio
import json
import socket
import socketserver
import threading
import time
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from tests.infra import Infra
from tests.support.messages import envelope
from tests.support import auth
from tests.support.services import ServiceProcess, free_port, logs_of

pytestmark = pytest.mark.integration


class Forwarder(socketserver.ThreadingTCPServer):
    """A TCP port that, once opened, leads to a real server: the server "comes back" at that address.

    Clients only bootstrap through it (Kafka answers with its own advertised address, MongoDB with
    its replica set's members), which is all start-up needs."""

    daemon_threads = allow_reuse_address = True

    def __init__(self, port: int, target: tuple[str, int]):
        class Pipe(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with socket.create_connection(target) as upstream:
                    threading.Thread(target=_copy, args=(upstream, self.request), daemon=True).start()
                    _copy(self.request, upstream)

        super().__init__(("127.0.0.1", port), Pipe)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def __exit__(self, *exc) -> None:
        self.shutdown()
        super().__exit__(*exc)


def _copy(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def _waits_logged(proc: ServiceProcess) -> list[dict]:
    lines = [json.loads(line) for line in logs_of(proc).splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("msg", "").startswith("start-up: Kafka or MongoDB does not answer")]


@pytest.mark.parametrize("away", ["kafka", "mongodb"])
def test_a_service_started_while_the_broker_is_away_waits_for_it(infra, away):
    """Was open: Runtime.start (shared/runtime.py) created the topics and the indexes once and let
    the error end the process, so an instance a supervisor starts while the broker (or the database)
    is away exited at once: seen as crashes when a killed instance was restarted during a broker
    restart. Fixed: start-up runs beside the HTTP server and tries again until both answer."""
    port = free_port()
    if away == "kafka":
        host, real_port = infra.kafka.rsplit(":", 1)
        target = (host, int(real_port))
        # Set up (credentials, ACLs, topics) on the real broker; the service is pointed at the proxy.
        started_away, extra = infra, {"KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{port}"}
    else:
        url = urlsplit(infra.mongo)
        target = (url.hostname, url.port or 27017)
        started_away, extra = Infra(infra.kafka, url._replace(netloc=f"127.0.0.1:{port}").geturl(), "mongodb away"), {}
    p = ServiceProcess("members", started_away, f"tchaosfind{uuid.uuid4().hex[:6]}.", extra).start()
    try:
        deadline = time.monotonic() + 180
        while len(_waits_logged(p)) < 2:  # it has tried, waited and tried again
            assert p.proc.poll() is None, f"the process exited by itself ({p.proc.returncode}): see {p.log_path}"
            assert time.monotonic() < deadline, f"no second start-up attempt logged in 180 s: see {p.log_path}"
            time.sleep(0.5)
        assert httpx.get(p.url + "/health", timeout=5).status_code == 200
        ready = httpx.get(p.url + "/ready", timeout=10)
        assert ready.status_code == 503 and ready.json()["consumers"] is False
        assert [w["attempt"] for w in _waits_logged(p)][:2] == [1, 2]
        command = envelope("RecordMemberDeath", {"member_id": "m-1", "on": "2026-01-02"})
        assert httpx.post(p.url + "/api/v1/commands", json=command, timeout=10, headers=auth.headers()).status_code == 503

        with Forwarder(port, target):  # the broker (or the database) answers again
            asyncio.run(p.wait_ready(timeout=180))
    finally:
        p.kill()


async def test_after_a_fatal_producer_error_the_next_send_reaches_kafka_with_a_new_producer(infra):
    """Finding 7 against a real broker: aiokafka's producer is put in the state its sender leaves
    after OutOfOrderSequenceNumber (the sender stopped, the accumulator failing every send); the
    publisher replaces it, and the next send is on the topic (the unit test has a send that meets
    the error itself: tests/unit/test_chaos_findings.py)."""
    from aiokafka import AIOKafkaConsumer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import OutOfOrderSequenceNumber

    from aiokafka import AIOKafkaProducer

    from shared.kafka_auth import tool_kwargs
    from shared.messaging.kafka import PRODUCER_OPTIONS, KafkaPublisher
    from shared.messaging.records import Outgoing

    auth = tool_kwargs(infra.kafka, "admin")  # {} on a PLAINTEXT broker; the topic is the test's own
    topic = f"tchaosfind{uuid.uuid4().hex[:8]}.events"
    admin = AIOKafkaAdminClient(**auth)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    publisher = KafkaPublisher(lambda: AIOKafkaProducer(**PRODUCER_OPTIONS, **auth))
    await publisher.start()
    try:
        await publisher.send_all([Outgoing(topic, b"k", b"before")])
        first = publisher._producer
        sender = first._sender.sender_task
        first._message_accumulator.fail_all(OutOfOrderSequenceNumber())  # what the sender does as it dies
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        # the publisher sees the producer's sender has stopped and starts a new one before sending
        await publisher.send_all([Outgoing(topic, b"k", b"after", {"message-type": "X"})])
        assert publisher._producer is not first and publisher.replaced == 1
    finally:
        await publisher.stop()
    consumer = AIOKafkaConsumer(topic, auto_offset_reset="earliest",
                                enable_auto_commit=False, **auth)
    await consumer.start()
    try:
        got = await consumer.getmany(timeout_ms=10_000)
        records = [r for rs in got.values() for r in rs]
    finally:
        await consumer.stop()
    assert [r.value for r in records] == [b"before", b"after"]
    assert records[1].key == b"k" and dict(records[1].headers) == {"message-type": b"X"}
