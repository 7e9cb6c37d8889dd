"""How fast one service turns commands into durable state and events, end to end.

Publishes N RegisterMember commands (plus a small tree) to fresh topics, starts the members
service as a real process, and reports commands per second until the last event is on Kafka.
Figures, not assertions: compare runs on the same machine.

With `--held N`, N registrations into a branch that never comes are published first and held
(REFERENCE_WAIT, 10 minutes) before the measured ones: what a backlog of held commands costs the
commands behind it (a district publishing at once; the fuzz of docs/reliability.md). Compare with
`--held 0` in the same session.

    PYTHONPATH=. .venv/bin/python benchmarks/pipeline_throughput.py --members 20000 [--held 2000]
(Kafka and MongoDB from KAFKA_BOOTSTRAP_SERVERS / MONGODB_URL, default the local stack.)
"""
import argparse
import asyncio
import json
import os
import re
import time
import uuid

from aiokafka import AIOKafkaConsumer

from shared.infra.kafka_acls import OBSERVER
from shared.kafka_auth import Senders, tool_kwargs

from tests.infra import Infra
from tests.support.messages import key_of
from tests.support.scenario import register, tree
from tests.support.services import ServiceProcess


async def main(n: int, batch: int, held: int) -> None:
    infra = Infra(os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
                  os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/"), "env")
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    ids, cmds = tree(8)
    # As the tests' district system (signed); the service's start sets the prefix's ACLs up.
    producer = Senders(infra.kafka, prefix, linger_ms=20, acks="all", enable_idempotence=True)
    svc = ServiceProcess("members", infra, prefix, {"BATCH_MAX_RECORDS": str(batch), "LOG_LEVEL": "INFO",
                                                         # production's wait and sweep, not the tests'
                                                         "REFERENCE_WAIT": "600s", "PARKED_SWEEP_S": "2"}).start()
    await svc.wait_ready()
    for c in cmds:  # the tree, in order
        await producer.send_and_wait(prefix + "members.commands", json.dumps(c).encode(), key=key_of(c))
    await asyncio.sleep(2)
    if held:
        for r in (register("b-never-established") for _ in range(held)):
            await producer.send(prefix + "members.commands", json.dumps(r).encode(), key=key_of(r))
        await (await producer.producer(producer.principal_for(prefix + "members.commands", None))).flush()
        await _until_held(svc, held)
    regs = [register(ids["branches"][i % 8]) for i in range(n)]
    t0 = time.perf_counter()
    for r in regs:
        await producer.send(prefix + "members.commands", json.dumps(r).encode(), key=key_of(r))
    await (await producer.producer(producer.principal_for(prefix + "members.commands", None))).flush()
    t_pub = time.perf_counter() - t0
    consumer = AIOKafkaConsumer(prefix + "members.events", **tool_kwargs(infra.kafka, OBSERVER),
                                auto_offset_reset="earliest")
    await consumer.start()
    seen = 0
    while seen < n + len(cmds):
        for recs in (await consumer.getmany(timeout_ms=1000)).values():
            seen += len(recs)
    t_all = time.perf_counter() - t0
    await consumer.stop()
    await producer.stop()
    svc.stop()
    print(f"commands: {n}  batch max: {batch}  held before them: {held}")
    print(f"published in {t_pub:.1f}s ({n / t_pub:,.0f}/s)")
    print(f"last event after {t_all:.1f}s: {n / t_all:,.0f} commands/s end to end "
          f"(journaled, applied, events acknowledged, offsets committed)")


async def _until_held(svc: ServiceProcess, held: int) -> None:
    """Until the service reports `held` commands parked (its /metrics)."""
    import httpx
    pattern = re.compile(r'sunsetred_records_total\{[^}]*outcome="parked"[^}]*\} ([0-9.e+]+)')
    async with httpx.AsyncClient(timeout=10) as http:
        for _ in range(600):
            text = (await http.get(f"{svc.url}/metrics")).text
            if sum(float(v) for v in pattern.findall(text)) >= held:
                return
            await asyncio.sleep(0.5)
    raise SystemExit(f"the {held} commands were not held within 5 minutes")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--held", type=int, default=0, help="registrations held for a branch that never comes, first")
    a = ap.parse_args()
    asyncio.run(main(a.members, a.batch, a.held))
