"""A notice to every member of a 100,000-member district, through the notifications service itself
(prints figures; not a test).

`notifications_bench.py` times the routes over a database built in process; this one runs the real
path: a notifications process of its own (a fresh topic prefix and database) hears the district's
tree and `--members` registrations on `members.events`, as the members service would publish them,
then one `SendNotice` to the whole district asking for acknowledgement. It prints how long each
step took, the process's maximum RSS during each, and the notice status route's answer times while
the deliveries go out. Channels print to the console (no gateway), so what is timed is the service.

With `--gateway`, the channels go to the chaos suite's gateway and SMTP server instead
(chaos/gateway.py: 3 % of requests hang, 3 % answer after the send timeout, 9 % fail), with the
suite's timings (a 2 s send timeout, orphans after 30 s, retries after 1 s), and `--instances`
processes share the work, as in `make chaos`: what is timed is the delivery worker's pace against a
gateway that hangs (docs/reliability.md, finding 21).

    PYTHONPATH=. KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 MONGODB_URL=mongodb://127.0.0.1:27017/ \\
        .venv/bin/python benchmarks/district_notice.py --members 100000
    ... benchmarks/district_notice.py --members 3000 --branches 20 --gateway --instances 2
"""
import argparse
import asyncio
import json
import os
import random
import statistics
import time
import uuid

import httpx

from pymongo import AsyncMongoClient

from benchmarks.end_to_end import delete_topics, rss_kb
from chaos.gateway import World
from shared.topics import all_topics, named
from tests.infra import Infra
from tests.support import auth
from tests.support.messages import Bus, envelope, key_of
from tests.support.services import ServiceProcess, free_port

CHANNELS = ["sms", "sms", "wechat", "wechat", "email", "door"]  # the door: handed to the member's specialist


class Peak:
    """The process's maximum RSS (MB), per step, sampled every 0.2 s."""

    def __init__(self, pid: int):
        self.pid, self.step, self.mb = pid, "start", {}
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            kb = rss_kb(self.pid) or 0
            self.mb[self.step] = max(self.mb.get(self.step, 0), round(kb / 1024, 1))
            await asyncio.sleep(0.2)

    async def stop(self) -> dict:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        return self.mb


def tree(branches: int) -> tuple[list[dict], list[tuple[str, list[str]]]]:
    district, communities = "district", [f"c{k:03d}" for k in range(max(1, branches // 10))]
    events = [envelope("OrganizationEstablished", {"org_id": district, "name": "区", "kind": "district",
                                                   "parent_id": None, "ancestors": []}, source="sunsetred-members")]
    events += [envelope("OrganizationEstablished", {"org_id": c, "name": f"社区{c}", "kind": "community",
                                                    "parent_id": district, "ancestors": [district]},
                        source="sunsetred-members") for c in communities]
    places = []
    for k in range(branches):
        b, c = f"b{k:04d}", communities[k % len(communities)]
        events.append(envelope("OrganizationEstablished", {"org_id": b, "name": f"退休党支部{k}", "kind": "branch",
                                                           "parent_id": c, "ancestors": [district, c]},
                               source="sunsetred-members"))
        places.append((b, [district, c, b]))
    return events, places


def registration(i: int, place: tuple[str, list[str]], rng: random.Random) -> dict:
    b, ancestors = place
    channel = rng.choice(CHANNELS)
    profile = {"name": f"党员{i}", "registered_on": "2026-01-05", "preferred_channel": channel,
               "phone": f"139{i:08d}", **({"wechat_openid": f"o-{i}"} if channel == "wechat" else {}),
               **({"email": f"m{i}@example.cn"} if channel == "email" else {})}
    return envelope("MemberRegistered", {"member_id": f"m{i:06d}", "branch_id": b, "ancestors": ancestors,
                                         "profile": profile, "specialist_id": f"sp{i // 200:04d}"},
                    source="sunsetred-members")


async def metric(http: httpx.AsyncClient, name: str) -> float:
    total = 0.0
    for line in (await http.get("/metrics")).text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def caught_up(http: httpx.AsyncClient, timeout: float) -> None:
    """Until the service has consumed everything and published what it owes (twice in a row)."""
    deadline, quiet = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        busy = await metric(http, "sunsetred_consumer_lag") + await metric(http, "sunsetred_outbox_backlog")
        quiet = quiet + 1 if busy == 0 else 0
        if quiet >= 2:
            return
        await asyncio.sleep(1)
    raise TimeoutError("the service did not catch up")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=100_000)
    ap.add_argument("--branches", type=int, default=500)
    ap.add_argument("--timeout", type=float, default=3600, help="seconds each step may take")
    ap.add_argument("--gateway", action="store_true", help="send through the chaos suite's failing gateway")
    ap.add_argument("--instances", type=int, default=1, help="notifications processes sharing the work")
    args = ap.parse_args()
    infra = Infra(os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
                  os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/"), "local")
    prefix = f"dn{uuid.uuid4().hex[:8]}."
    rng = random.Random(7)
    bus = Bus(infra.kafka, prefix)
    await bus.start()
    env = {"NOTIFY_QUIET_HOURS": "00:00-00:00", "BATCH_TIMEOUT_MS": "200"}
    world = None
    if args.gateway:
        world = World(free_port(), free_port(), send_timeout=2.0).start()
        env |= {**world.settings(), "NOTIFY_RETRY_BASE_SECONDS": "1", "NOTIFY_MAX_ATTEMPTS": "2",
                "NOTIFY_ORPHAN_AFTER_SECONDS": "30", "NOTIFY_POLL_SECONDS": "0.5"}
    procs = [ServiceProcess("notifications", infra, prefix, env, instance=f"notifications-{k}" if args.instances > 1
                            else None).start() for k in range(args.instances)]
    proc = procs[0]
    timings: dict[str, float] = {}
    try:
        for p in procs:
            await p.wait_ready(timeout=120)
        peak = Peak(proc.proc.pid)
        http = auth.client(proc.url, timeout=60)
        events, places = tree(args.branches)

        peak.step = "members"
        t0 = time.perf_counter()
        await bus.send("members.events", *events)
        pending = []
        for i in range(args.members):
            env = registration(i, places[i % len(places)], rng)
            pending.append(await bus._senders.send(prefix + "members.events", json.dumps(env, ensure_ascii=False)
                                                   .encode(), key=key_of(env)))
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
        timings["members published s"] = round(time.perf_counter() - t0, 1)
        await caught_up(http, args.timeout)
        timings["members projected s"] = round(time.perf_counter() - t0, 1)
        print(json.dumps({"members": args.members, **timings}), flush=True)

        peak.step = "notice addressed"
        notice_id = f"district-notice-{uuid.uuid4().hex[:6]}"
        t1 = time.perf_counter()
        await bus.send("notifications.commands", envelope("SendNotice", {
            "notice_id": notice_id, "title": "关于学习贯彻全会精神的通知", "body": "请各位老党员认真学习，并回复确认。",
            "category": "document", "audience": {"org_ids": ["district"], "member_ids": []}, "require_ack": True}))
        status_ms: list[float] = []
        summary: dict = {}
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            s = time.perf_counter()
            r = await http.get(f"/api/v1/notices/{notice_id}/status")
            if r.status_code == 200:
                status_ms.append((time.perf_counter() - s) * 1000)
                summary = r.json()["summary"]
                if "notice addressed s" not in timings and summary["recipients"] == args.members:
                    timings["notice addressed s"] = round(time.perf_counter() - t1, 1)
                    peak.step = "notice delivered"
                if summary["recipients"] == args.members and not summary.get("pending") and not summary.get("sending"):
                    break
            await asyncio.sleep(0.5)
        timings["notice delivered s"] = round(time.perf_counter() - t1, 1)
        settled = timings["notice delivered s"] - timings.get("notice addressed s", 0)
        timings["deliveries settled a second"] = round(args.members / settled, 1) if settled > 0 else None
        if world is not None:
            timings["gateway requests by fate"] = dict(world.faults())
            timings["sent twice"] = len(world.sent_twice())
        peak.step = "at rest"
        await asyncio.sleep(5)
        print(json.dumps({"members": args.members, "branches": args.branches, **timings,
                          "summary": summary, "max RSS MB by step": await peak.stop(),
                          "status p50 / p99 ms while delivering": [
                              round(statistics.median(status_ms)) if status_ms else None,
                              round(sorted(status_ms)[int(0.99 * (len(status_ms) - 1))]) if status_ms else None],
                          "status calls": len(status_ms)}, ensure_ascii=False, indent=1), flush=True)
        await http.aclose()
    finally:
        for p in procs:
            p.stop()
        if world is not None:
            world.stop()
        await bus.stop()
        await drop(infra, prefix)


async def drop(infra: Infra, prefix: str) -> None:
    """The run's database and topics: the shared server and broker are not ours to fill (a district's
    deliveries left behind slow every later run's database)."""
    client = AsyncMongoClient(infra.mongo)
    try:
        await client.drop_database(prefix.replace(".", "_") + "notifications")
    finally:
        await client.close()
    await delete_topics(infra.kafka, [named(prefix, t) for t in all_topics()])


if __name__ == "__main__":
    asyncio.run(main())
