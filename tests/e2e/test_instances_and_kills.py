"""Two instances of every service, one of each killed with SIGKILL mid-stream, give the same
reports, alerts and event ids as a single instance: nothing lost, nothing twice.

The same simulated district (the simulator's smallest, the very same command list and ids) is
published twice by the simulator's publisher (a phase at a time, waiting for the answers):

- run A: one process of each service under a prefix of its own;
- run B: two processes of each service under another prefix (one consumer group per pipeline,
  shared); once about a third of the commands are sent (in the middle of a phase, its answers
  still coming in), one process of each service is killed with SIGKILL; the rest is published
  to the survivors.

Each run is "done" when every command is answered and the platform is at rest: every consumer
group of the prefix has committed the end of every partition it reads, no outbox holds an
unpublished record (GET /metrics of each live process: `sunsetred_consumer_lag`,
`sunsetred_outbox_backlog`), no delivery is being sent or due, no alert change or reminder is
waiting to stand, and the topics and offsets did not move between two looks.

What is compared, and why so (details of a run: artifacts/instances-and-kills.json):
- members.events and activities.events: the set of event ids and each id's type. Every event is
  caused by a command (or another event) and its id is derived from its cause's id
  (`uuid5(source:cause, n)`), so the same commands must give the very same ids.
- CommandRejected: none in B that is not in A (by command id and reason), and none missing.
- the report of every organisation, for the year and for one month, and the district's open
  alerts, as of a fixed day: equal.
- nothing twice in B: no event id twice on any events topic, unless it is the very same record
  (the outbox relay publishes at least once: a process killed after the broker acknowledged a
  batch's records and before it marked them sent leaves them to be published again, with the
  same id and bytes, and consumers drop the copy — docs/architecture.md; such copies are counted
  and shown); no notice attempt (notice, member, channel, attempt) dispatched or delivered twice.
- notifications. A notice is addressed as of its day, from the members' facts recorded by its
  `open_until` day, and a fact that arrives after the notice settles the deliveries nothing was done
  about yet as if it had come first (services/notifications/README.md, "Late facts"): so the same
  facts give the same recipients and channels, whichever of notifications' consumers (commands;
  members, activities and reporting events) got there first. What may still differ:
  * a delivery already acted on (sent, handed to a specialist, found unreachable) when a fact dated
    before the notice's day arrives stays as it was, as proof: the outcome then depends on whether
    the delivery worker or the fact came first. Such notices show as addressed differently (their
    deliveries: recipients with their channels, branch, day, specialist; read from notifications'
    `deliveries`), are set aside and counted, as are the notices figures of the reports (`notices.*`
    and `score`, which uses them) when there are such notices; they fail the test (or make it xfail
    while NOTICES_ORDER_DEPENDENT_IS_KNOWN);
  * reminders (`reminder:<alert>:<level>:<months>:…`) are sent on reporting's AlertRaised, and
    reporting evaluates its alerts as of each event's date as the events arrive: which alerts are
    raised on the way, and on which day, depends on the order reporting saw its facts in. So a
    reminder may exist in one run only, or be addressed as of another day: by design, not a
    defect. Reminders addressed differently are set aside and shown, and fail nothing (they count
    in no report figure: automatic notices are not counted);
  * for the other notices: the events caused by a command or by an event of members/activities:
    the same ids, and the same (cause, type, notice, member) multiset (ids of per-member events
    derive from the member, not from the order of the recipients);
  * the delivery worker's own events and the reminders' (their causes are named after what each
    says, or after the alert): the multiset of (type, notice, member); and every delivery ends in
    the same state.
  A delivery whose attempt was `sending` when its process was killed has an unknown outcome and
  by design is never resent on that channel (services/notifications/README.md: it falls back to
  the next one): such (notice, member) pairs are listed and set aside. So are deliveries the
  member acknowledged around the time they fell due: acknowledged before any send in one run, sent
  and then acknowledged in the other (the worker's pace against the commands'; both are right).
- reporting.events are not compared id by id (alerts on the way depend on the order, above);
  the open alerts at a fixed day are.
"""
import asyncio
import json
import time
from collections import Counter
from datetime import datetime, timezone

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient

from chaos.compare import diff

from shared.infra.kafka_acls import OBSERVER
from shared.kafka_auth import tool_kwargs
from simulator.progress import Progress
from simulator.publisher import Target, publish
from simulator.sources import Generated
from tests.support import auth
from tests.support.services import ARTIFACTS, ServiceProcess, logs_of

pytestmark = pytest.mark.e2e

SERVICES = ["members", "activities", "notifications", "reporting"]
SEED, MEMBERS, YEAR = 20250, 30, 2025  # 30: the simulator's smallest district (about 2,000 commands)
AS_OF = f"{YEAR}-12-31"
MONTH = f"{YEAR}-06"
EVENT_TOPICS = ["members.events", "activities.events", "notifications.events", "reporting.events"]
# Both runs alike: a command waits for its references as in production (the default 3 s of the test
# processes is shorter than a rebalance after a kill); no quiet hours, so the result does not depend on
# the time of day; an attempt left `sending` by the killed process is settled within seconds.
# An alert's change is announced once it has stood for longer than a kill lets the topics drift apart
# (finding 29 of docs/reliability.md: an alert raised for a moment is never announced). A reminder hears
# only of alerts that stood that long, so its own wait can be short: the two waits one after the other
# added two minutes to each run.
ENV = {"REFERENCE_WAIT": "120s", "NOTIFY_QUIET_HOURS": "00:00-00:00", "NOTIFY_ORPHAN_AFTER_SECONDS": "20",
       "NOTIFY_REMINDER_SETTLE_SECONDS": "5", "REPORTING_ALERT_SETTLE_SECONDS": "60"}
UNKNOWN_OUTCOME = "发送结果未知"  # the error of an attempt whose process died mid-send
# Notices addressed differently from run to run (see the docstring: a delivery acted on before a
# late fact arrived) make the test xfail while this is True, fail it when False; reminders
# addressed differently never fail it (by design).
# The residual race under load (a delivery acted on before an earlier-dated fact had come through
# members) is closed by the delivery worker's causal fence since 4 December (docs/reliability.md,
# "What is left"): a notice addressed differently now fails the test.
NOTICES_ORDER_DEPENDENT_IS_KNOWN = False


class Recorded:
    """A simulator source replaying phases drawn once: both runs send the very same commands."""

    def __init__(self, source: Generated):
        self.header, self.correlation_id = source.header, source.correlation_id
        self._phases = list(source.phases())
        self.commands = [c for p in self._phases for c in p.commands]

    def phases(self):
        return iter(self._phases)


class KillMidStream(Progress):
    """The publisher's progress reports, used as the moment to kill: the first report after `at`
    commands were sent (the publisher is then waiting for the answers of the phase just sent)."""

    def __init__(self, phases: int, at: int, victims: list[ServiceProcess]):
        super().__init__(phases, quiet=True)
        self.at, self.victims, self.killed = at, victims, None

    def show(self, index, name, sent_in_phase, size, answered=None, final=False) -> None:
        if self.killed is None and self.sent + sent_in_phase >= self.at:
            for p in self.victims:
                p.kill()
            self.killed = {"phase": name, "sent": self.sent + sent_in_phase,
                           "answered": None if answered is None else self.sent + answered,
                           "victims": [p.instance for p in self.victims]}


# ---- the platform at rest -------------------------------------------------------------------------

def _metric_sum(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def _topics(admin: AIOKafkaAdminClient, prefix: str) -> list[str]:
    return sorted(t for t in await admin.list_topics() if t.startswith(prefix) and not t.endswith(".dlq"))


async def _end_offsets(bootstrap: str, topics: list[str]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(**tool_kwargs(bootstrap, OBSERVER), enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or
                                                               await _partitions(consumer, t))]
        return await consumer.end_offsets(tps) if tps else {}
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # aiokafka learns topics lazily
    return consumer.partitions_for_topic(topic) or set()


async def _rest(bootstrap: str, mongo: str, prefix: str, procs: list[ServiceProcess]) -> tuple[dict, dict]:
    """(what is still moving, a fingerprint of the topics and the groups' offsets)."""
    moving: dict = {}
    admin = AIOKafkaAdminClient(**tool_kwargs(bootstrap, OBSERVER))
    await admin.start()
    try:
        topics = await _topics(admin, prefix)
        groups = sorted(g[0] for g in await admin.list_consumer_groups() if g[0].startswith(prefix))
        committed = {g: await admin.list_consumer_group_offsets(g) for g in groups}
    finally:
        await admin.close()
    ends = await _end_offsets(bootstrap, topics)
    lag = {}
    for g, offsets in committed.items():
        read = {tp.topic for tp in offsets}
        for tp, end in ends.items():
            if tp.topic in read and end > 0:
                off = offsets.get(tp)
                behind = end - (off.offset if off is not None and off.offset >= 0 else 0)
                if behind:
                    lag[f"{g} {tp.topic}[{tp.partition}]"] = behind
    fingerprint = {"ends": {f"{tp.topic}[{tp.partition}]": n for tp, n in ends.items()},
                   "groups": {g: {f"{tp.topic}[{tp.partition}]": o.offset for tp, o in offs.items()}
                              for g, offs in committed.items()}}
    if lag:  # the rest is asked only once the groups have caught up
        return {"group_lag": lag}, fingerprint
    async with httpx.AsyncClient(timeout=10) as http:
        for p in procs:
            try:
                text = (await http.get(p.url + "/metrics")).text
            except httpx.HTTPError as exc:
                moving[f"{p.instance} metrics"] = repr(exc)
                continue
            lag_n, backlog = _metric_sum(text, "sunsetred_consumer_lag"), _metric_sum(text, "sunsetred_outbox_backlog")
            if lag_n or backlog:
                moving[f"{p.instance} metrics"] = {"lag": lag_n, "outbox_backlog": backlog}
    client = AsyncMongoClient(mongo, tz_aware=True)
    try:
        deliveries = client[prefix.replace(".", "_") + "notifications"]["deliveries"]
        now = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        busy = await deliveries.count_documents({"$or": [{"state": "sending"},
                                                         {"state": "pending", "next_at": {"$lte": now}}]})
        if busy:
            moving["deliveries sending or due"] = busy
        waiting = await client[prefix.replace(".", "_") + "notifications"]["alerts"].count_documents(
            {"remind_at": {"$ne": None}})
        if waiting:
            moving["reminders waiting for their alert to stand"] = waiting
        announcing = await client[prefix.replace(".", "_") + "reporting"]["alert_announcements"].count_documents(
            {"announce_at": {"$ne": None}})
        if announcing:
            moving["alert changes waiting to be announced"] = announcing
    finally:
        await client.close()
    return moving, fingerprint


async def at_rest(bootstrap: str, mongo: str, prefix: str, procs: list[ServiceProcess], timeout: float = 600) -> float:
    """Until nothing moves for two looks in a row; returns the seconds waited."""
    started = time.monotonic()
    previous = None
    moving: dict = {}
    said = started
    while time.monotonic() - started < timeout:
        moving, fingerprint = await _rest(bootstrap, mongo, prefix, procs)
        if time.monotonic() - said > 30:
            said = time.monotonic()
            print(f"[instances-and-kills] {prefix} still moving after {said - started:.0f}s: {moving}", flush=True)
        if not moving and fingerprint == previous:
            return time.monotonic() - started
        previous = None if moving else fingerprint
        await asyncio.sleep(2)
    raise AssertionError(f"{prefix}: still moving after {timeout:.0f}s: {moving}")


# ---- what a run leaves ------------------------------------------------------------------------------

async def read_topic(bootstrap: str, topic: str) -> list[bytes]:
    """Every record of a topic, from the beginning to its end now."""
    consumer = AIOKafkaConsumer(**tool_kwargs(bootstrap, OBSERVER), enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(topic) or await _partitions(consumer, topic)
        tps = [TopicPartition(topic, p) for p in parts]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        values: list[bytes] = []
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for recs in (await consumer.getmany(timeout_ms=500)).values():
                values.extend(r.value for r in recs if r.offset < ends[TopicPartition(r.topic, r.partition)])
        return values
    finally:
        await consumer.stop()


async def _deliveries(mongo: str, prefix: str) -> list[dict]:
    client = AsyncMongoClient(mongo, tz_aware=True)
    try:
        coll = client[prefix.replace(".", "_") + "notifications"]["deliveries"]
        return await coll.find({}, {"notice_id": 1, "member_id": 1, "branch_id": 1, "addressed_on": 1, "plan": 1,
                                    "specialist_id": 1, "state": 1, "index": 1, "attempt": 1,
                                    "acknowledged": 1, "door": 1}).to_list(None)
    finally:
        await client.close()


async def outcome(infra, prefix: str, reporting: ServiceProcess, org_ids: list[str], district: str) -> dict:
    events = {t: await read_topic(infra.kafka, prefix + t) for t in EVENT_TOPICS}
    reports, errors = {}, {}
    async with auth.client(reporting.url, timeout=60) as http:
        for org in org_ids:
            for period in (str(YEAR), MONTH):
                r = await http.get(f"/api/v1/orgs/{org}/report", params={"period": period, "as_of": AS_OF})
                if r.status_code == 200:
                    reports[f"{org} {period}"] = r.json()
                else:
                    errors[f"report {org} {period}"] = f"{r.status_code} {r.text[:300]}"
        r = await http.get("/api/v1/alerts", params={"org_id": district, "as_of": AS_OF})
        alerts = r.json()["alerts"] if r.status_code == 200 else None
        if r.status_code != 200:
            errors["alerts"] = f"{r.status_code} {r.text[:300]}"
    return {"raw": events, "events": {t: [json.loads(v) for v in vs] for t, vs in events.items()},
            "deliveries": await _deliveries(infra.mongo, prefix),
            "reports": reports, "alerts": alerts, "errors": errors}


# ---- comparing -------------------------------------------------------------------------------------

def _pair(e: dict) -> tuple:
    return e["data"].get("notice_id"), e["data"].get("member_id")


def _compare_ids(what: str, a: list[dict], b: list[dict], problems: list[str], shown: dict) -> None:
    ia, ib = {e["id"]: e["type"] for e in a}, {e["id"]: e["type"] for e in b}
    lost, extra = sorted(set(ia) - set(ib)), sorted(set(ib) - set(ia))
    retyped = sorted(i for i in set(ia) & set(ib) if ia[i] != ib[i])
    shown[what] = {"A": len(ia), "B": len(ib), "lost": [(i, ia[i]) for i in lost][:20],
                   "extra": [(i, ib[i]) for i in extra][:20], "retyped": [(i, ia[i], ib[i]) for i in retyped][:20]}
    if lost or extra or retyped:
        problems.append(f"{what}: {len(ia)} event ids in A, {len(ib)} in B; {len(lost)} lost "
                        f"{dict(Counter(ia[i] for i in lost))}, {len(extra)} not in A "
                        f"{dict(Counter(ib[i] for i in extra))}, {len(retyped)} of another type")


def _fact(e: dict) -> tuple:
    return e.get("causation_id"), e["type"], *_pair(e)


def _compare_caused(what: str, a: list[dict], b: list[dict], problems: list[str], explained: list[str],
                    shown: dict) -> None:
    """The same ids, and the same events (cause, type, notice, member). Within one cause, an id may
    name another recipient of the same notice: the ids are numbered in the order of the recipients,
    which is the order notifications projected the members in."""
    ia, ib = {e["id"]: e for e in a}, {e["id"]: e for e in b}
    lost, extra = sorted(set(ia) - set(ib)), sorted(set(ib) - set(ia))
    fa, fb = Counter(map(_fact, a)), Counter(map(_fact, b))
    missing, more = fa - fb, fb - fa
    permuted = sorted(i for i in set(ia) & set(ib) if _fact(ia[i]) != _fact(ib[i]))
    shown[what] = {"A": len(ia), "B": len(ib), "lost": [(i, ia[i]["type"]) for i in lost][:20],
                   "extra": [(i, ib[i]["type"]) for i in extra][:20],
                   "missing from B": [[*k, n] for k, n in missing.items()][:20],
                   "more in B": [[*k, n] for k, n in more.items()][:20],
                   "ids naming another recipient": [(i, _fact(ia[i])[1:], _fact(ib[i])[1:]) for i in permuted][:20]}
    if lost or extra or missing or more:
        problems.append(f"{what}: {len(ia)} event ids in A, {len(ib)} in B; {len(lost)} ids lost "
                        f"{dict(Counter(ia[i]['type'] for i in lost))}, {len(extra)} ids not in A "
                        f"{dict(Counter(ib[i]['type'] for i in extra))}; as (cause, type, notice, member): "
                        f"{sum(missing.values())} missing from B {dict(Counter(k[1] for k in missing.elements()))}, "
                        f"{sum(more.values())} more in B {dict(Counter(k[1] for k in more.elements()))}")
    elif permuted:
        notices = {_pair(ia[i])[0] for i in permuted}
        explained.append(f"{len(permuted)} event ids of {len(notices)} notices name another recipient in B than "
                         f"in A (the same events otherwise), e.g. {shown[what]['ids naming another recipient'][:2]}")


def _compare_multiset(what: str, a: list[dict], b: list[dict], problems: list[str], shown: dict) -> None:
    ca, cb = Counter((e["type"], *_pair(e)) for e in a), Counter((e["type"], *_pair(e)) for e in b)
    lost, extra = ca - cb, cb - ca
    shown[what] = {"A": sum(ca.values()), "B": sum(cb.values()), "lost": [[*k, n] for k, n in lost.items()][:20],
                   "extra": [[*k, n] for k, n in extra.items()][:20]}
    if lost or extra:
        problems.append(f"{what}, as (type, notice, member): {sum(ca.values())} in A, {sum(cb.values())} in B; "
                        f"{sum(lost.values())} missing from B {dict(Counter(k[0] for k in lost.elements()))}, "
                        f"{sum(extra.values())} more in B {dict(Counter(k[0] for k in extra.elements()))}")


def _orphaned(events: list[dict]) -> set[tuple]:
    return {_pair(e) for e in events
            if e["type"] == "NotificationFailed" and UNKNOWN_OUTCOME in (e["data"].get("error") or "")}


def _addressing(deliveries: list[dict]) -> dict[str, frozenset]:
    """How each notice was addressed: its recipients, with the branch, day, channels and specialist."""
    out: dict[str, set] = {}
    for d in deliveries:
        out.setdefault(d["notice_id"], set()).add((d["member_id"], d.get("branch_id"), d.get("addressed_on"),
                                                   tuple(d.get("plan") or ()), d.get("specialist_id")))
    return {n: frozenset(v) for n, v in out.items()}


def _notice_figure(diff_line: str) -> bool:
    """A report figure made of notices: what is sent and acknowledged, and the score that uses them."""
    path = diff_line.split(":", 1)[0]
    return path.startswith("notices.") or path == "score"


def _raced(a: list[dict], b: list[dict]) -> set[tuple[str, str]]:
    """Deliveries the member acknowledged (at a meeting, by a call) around the time they fell due:
    in one run the acknowledgement came first and nothing was sent (`acknowledged`, no attempt), in
    the other the worker sent first and the acknowledgement was recorded after. Both are right; which
    one happens depends on the worker's pace against the commands' (by design, not a defect)."""
    def shape(d: dict) -> tuple:
        return d.get("index"), d.get("door") is not None, d.get("acknowledged") is not None

    unsent = lambda d: d.get("state") == "acknowledged" and d.get("attempt") == 0
    sent = lambda d: d.get("state") == "delivered" and d.get("acknowledged") is not None
    by_a = {(d["notice_id"], d["member_id"]): d for d in a}
    out = set()
    for d in b:
        k = (d["notice_id"], d["member_id"])
        if (o := by_a.get(k)) and shape(o) == shape(d) and ((unsent(o) and sent(d)) or (sent(o) and unsent(d))):
            out.add(k)
    return out


def _reminders_created(o: dict) -> set[str]:
    return {e["data"]["notice_id"] for e in o["events"]["notifications.events"]
            if e["type"] == "NoticeCreated" and e["data"]["notice_id"].startswith("reminder:")}


def compare(A: dict, B: dict, command_ids: set[str]) -> tuple[list[str], list[str], dict]:
    """(problems, differences explained by notices addressed differently, what was compared)."""
    problems: list[str] = []
    explained: list[str] = []
    shown: dict = {}
    for side, o in (("A", A), ("B", B)):
        if o["errors"]:
            problems.append(f"reporting answered errors in run {side}: {len(o['errors'])}, e.g. "
                            f"{next(iter(o['errors'].items()))}")
    # (a) event ids of members and activities, and what came of each command
    for t in ("members.events", "activities.events"):
        _compare_ids(t, A["events"][t], B["events"][t], problems, shown)

    # Notices addressed differently in the two runs (other recipients, other channels), and those of
    # one run only: set aside, counted, and explained apart (see the module's docstring).
    da, db = _addressing(A["deliveries"]), _addressing(B["deliveries"])
    differently = {n for n in set(da) | set(db) if da.get(n) != db.get(n)}
    # …and reminders created in one run only, recipients or not (one to a member who has left has none)
    differently |= _reminders_created(A) ^ _reminders_created(B)
    reminders = {n for n in differently if n.startswith("reminder:")}  # by design: alerts on the way
    unstable = differently - reminders
    shown["notices addressed differently (set aside)"] = {
        "count": len(unstable), "of": len(set(da) | set(db)),
        "kinds": dict(Counter(n.split(":")[0] if ":" in n else "SendNotice" for n in unstable)),
        "examples": sorted(unstable)[:10]}
    shown["reminders raised or addressed differently (by design, set aside)"] = {
        "count": len(reminders), "of": len([n for n in set(da) | set(db) if n.startswith("reminder:")]),
        "only A": len([n for n in reminders if n not in db]), "only B": len([n for n in reminders if n not in da]),
        "examples": sorted(reminders)[:10]}
    orphaned = _orphaned(A["events"]["notifications.events"]) | _orphaned(B["events"]["notifications.events"])
    shown["deliveries with an unknown outcome after a kill (set aside)"] = sorted(orphaned)
    raced = _raced(A["deliveries"], B["deliveries"])
    shown["deliveries acknowledged before their send in one run only (set aside)"] = sorted(raced)
    orphaned |= raced

    def split(o: dict):
        upstream = {e["id"] for t in ("members.events", "activities.events") for e in o["events"][t]}
        by_id, by_kind = [], []
        for e in {e["id"]: e for e in o["events"]["notifications.events"]}.values():  # a copy counts once
            if e["data"].get("notice_id") in differently or _pair(e) in orphaned:
                continue
            cause = e.get("causation_id")
            (by_id if cause in command_ids or cause in upstream else by_kind).append(e)
        return by_id, by_kind

    a_id, a_kind = split(A)
    b_id, b_kind = split(B)
    _compare_caused("notifications.events caused by a command or by members/activities events", a_id, b_id,
                    problems, explained, shown)
    _compare_multiset("notifications.events of the delivery worker and of reporting's alerts", a_kind, b_kind,
                      problems, shown)
    # Each delivery addressed alike ends alike.
    final = lambda o: {(d["notice_id"], d["member_id"]): (d.get("state"), d.get("index"), d.get("attempt"),
                                                          d.get("acknowledged") is not None, d.get("door") is not None)
                       for d in o["deliveries"] if d["notice_id"] not in differently
                       and (d["notice_id"], d["member_id"]) not in orphaned}
    fa, fb = final(A), final(B)
    ended = sorted(k for k in set(fa) | set(fb) if fa.get(k) != fb.get(k))
    shown["deliveries ending otherwise"] = [(k, fa.get(k), fb.get(k)) for k in ended[:20]]
    if ended:
        problems.append(f"deliveries addressed alike: {len(ended)} of {len(fa)} end otherwise in B, e.g. "
                        f"{shown['deliveries ending otherwise'][:3]}")

    # Nothing twice in B: no event id twice on a topic (unless the very same record), no attempt
    # dispatched or delivered twice.
    copies = {}
    for t in EVENT_TOPICS:
        seen: dict[str, set[bytes]] = {}
        for raw, e in zip(B["raw"][t], B["events"][t]):
            seen.setdefault(e["id"], set()).add(raw)
        twice = {i for i, v in Counter(e["id"] for e in B["events"][t]).items() if v > 1}
        differing = sorted(i for i in twice if len(seen[i]) > 1)
        copies[t] = len(twice)
        if differing:
            problems.append(f"{t} in B: {len(differing)} event ids carried by different records, e.g. {differing[:3]}")
    shown["ids seen more than once in B (identical records, republished by the relay)"] = copies
    attempts = Counter((e["type"], *_pair(e), e["data"].get("channel"), e["data"].get("attempt"))
                       for e in {e["id"]: e for e in B["events"]["notifications.events"]}.values()
                       if e["type"] in ("NotificationDispatched", "NotificationDelivered"))
    if twice := {k: n for k, n in attempts.items() if n > 1}:
        problems.append(f"B: {len(twice)} attempts (notice, member, channel, attempt) dispatched or delivered "
                        f"more than once, e.g. {list(twice.items())[:3]}")

    # (d) rejections
    rejected = lambda o: {(e["causation_id"], e["data"].get("reason")) for t in EVENT_TOPICS
                          for e in o["events"][t] if e["type"] == "CommandRejected"}
    ra, rb = rejected(A), rejected(B)
    shown["rejections"] = {"A": len(ra), "B": len(rb), "only B": sorted(rb - ra)[:20], "only A": sorted(ra - rb)[:20]}
    if rb - ra or ra - rb:
        problems.append(f"CommandRejected: {len(rb - ra)} in B and not in A "
                        f"{dict(Counter(r for _, r in rb - ra))}, {len(ra - rb)} in A and not in B")

    # (b) reports: every figure; those made of notices are explained when notices were addressed differently
    differing = {k: diff(A["reports"][k], B["reports"].get(k, "<absent>"), sides=("A", "B"))
                 for k in A["reports"] if A["reports"][k] != B["reports"].get(k)}
    hard = {k: [d for d in v if not (unstable and _notice_figure(d))] for k, v in differing.items()}
    hard = {k: v for k, v in hard.items() if v}
    soft = {k: [d for d in v if unstable and _notice_figure(d)] for k, v in differing.items()}
    soft = {k: v for k, v in soft.items() if v}
    shown["reports"] = {"compared": len(A["reports"]), "differing": {k: v[:10] for k, v in differing.items()}}
    if hard or set(B["reports"]) - set(A["reports"]):
        problems.append(f"reports: {len(hard)} of {len(A['reports'])} differ, e.g. {next(iter(hard.items()), None)}")
    if soft:
        explained.append(f"reports: the notices figures (and score) of {len(soft)} of {len(A['reports'])} differ, "
                         f"e.g. {next(iter(soft.items()))}")
    if unstable:
        s = shown["notices addressed differently (set aside)"]
        explained.insert(0, f"{s['count']} of {s['of']} notices addressed differently in A and B {s['kinds']}, "
                            f"e.g. {s['examples'][:3]}")

    # (c) open alerts
    alerts = lambda o: {x["alert_id"]: x for x in o["alerts"] or []}
    xa, xb = alerts(A), alerts(B)
    changed = sorted(i for i in set(xa) & set(xb) if xa[i] != xb[i])
    shown["alerts"] = {"A": len(xa), "B": len(xb), "lost": sorted(set(xa) - set(xb))[:20],
                       "extra": sorted(set(xb) - set(xa))[:20], "changed": changed[:20]}
    if xa != xb:
        problems.append(f"open alerts as of {AS_OF}: {len(xa)} in A, {len(xb)} in B; {len(set(xa) - set(xb))} "
                        f"lost, {len(set(xb) - set(xa))} not in A, {len(changed)} changed")
    shown["reporting.events (not compared)"] = {s: dict(Counter(e["type"] for e in o["events"]["reporting.events"]))
                                                for s, o in (("A", A), ("B", B))}
    return problems, explained, shown


# ---- the test --------------------------------------------------------------------------------------

class Clock:
    def __init__(self):
        self.t0, self.timings = time.monotonic(), {}

    def mark(self, what: str, value: float | None = None) -> None:
        self.timings[what] = round(time.monotonic() - self.t0 if value is None else value, 1)
        print(f"[instances-and-kills] {what}: {self.timings[what]}s", flush=True)


async def play(name: str, source: Recorded, infra, prefix: str, procs: dict[str, list[ServiceProcess]],
               kill_at: int | None, clock: Clock) -> dict:
    """Publish the district to one platform (killing the first process of each service once
    `kill_at` commands are sent), wait until it is at rest, and read what it left."""
    world = Generated(SEED, MEMBERS, YEAR).world  # the same draw: only its ids are used
    org_ids = [world.district.org_id, *(o.org_id for o in world.subdistricts + world.communities),
               *(b.org_id for b in world.branches)]
    victims = [ps[0] for ps in procs.values()] if kill_at is not None else []
    live = [p for ps in procs.values() for p in ps if p not in victims]
    progress = KillMidStream(source.header["phases"], kill_at, victims) if kill_at is not None else None
    run = await publish(source, Target(infra.kafka, prefix, stall_timeout=240), progress)
    clock.mark(f"{name} published")
    if kill_at is not None:
        assert progress.killed, "the kill never happened"
        assert all(p.proc.poll() is not None for p in victims)
    await at_rest(infra.kafka, infra.mongo, prefix, live)
    clock.mark(f"{name} at rest")
    reporting = next(p for p in live if p.name == "reporting")
    return {**await outcome(infra, prefix, reporting, org_ids, world.district.org_id),
            "run": run, "killed": progress.killed if progress else None}


async def test_two_instances_with_kills_give_what_one_gives(infra, run_id):
    clock = Clock()
    source = Recorded(Generated(SEED, MEMBERS, YEAR))
    command_ids = {c.id for c in source.commands}
    assert len(command_ids) == len(source.commands)
    pa, pb = f"t{run_id}ik1.", f"t{run_id}ik2."
    one = {s: [ServiceProcess(s, infra, pa, ENV, instance=f"{s}-1")] for s in SERVICES}
    two = {s: [ServiceProcess(s, infra, pb, ENV, instance=f"{s}-{k}") for k in (1, 2)] for s in SERVICES}
    every = [p for procs in (one, two) for ps in procs.values() for p in ps]
    try:
        for p in every:
            p.start()
        await asyncio.gather(*(p.wait_ready(timeout=120) for p in every))
        clock.mark("started")
        # The two runs side by side (the same commands, prefixes of their own): A with one process
        # of each service, B with two, the first of each killed once a third of the commands are sent.
        A, B = await asyncio.gather(play("A", source, infra, pa, one, None, clock),
                                    play("B", source, infra, pb, two, len(source.commands) // 3, clock))
    finally:
        for p in every:
            p.stop()

    problems, explained, shown = compare(A, B, command_ids)
    clock.mark("total")
    B["killed"]["batches before the kill"] = {p.instance: logs_of(p).count('"batch done"') for ps in two.values()
                                              for p in ps[:1]}
    summary = {"commands": len(source.commands), "killed": B["killed"], "timings": clock.timings,
               "rejected A": A["run"]["rejected"], "rejected B": B["run"]["rejected"], "comparison": shown,
               "problems": problems, "explained": explained}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "instances-and-kills.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1, default=str))
    print("\n" + json.dumps({k: summary[k] for k in ("commands", "killed", "timings")}, ensure_ascii=False))
    where = f"\n(killed: {B['killed']}; details: artifacts/instances-and-kills.json)"
    assert not problems, "\n".join(problems) + where
    if explained:
        message = ("notices addressed differently (a delivery acted on before a fact dated earlier arrived):\n"
                   + "\n".join(explained) + where)
        if NOTICES_ORDER_DEPENDENT_IS_KNOWN:
            pytest.xfail(message)
        pytest.fail(message)
