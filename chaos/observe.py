"""What the suite sees of the stack: every record the services wrote, their progress, their answers.

- `Log` reads every events topic and every dead-letter topic from the beginning, for the whole
  suite, through broker restarts. It keeps, per run (by correlation id), the events of the run in
  a compact form, and, for every watched message id, its answers.
- `groups` / `Recovery`: the consumer groups' committed offsets against the topics' ends; a fault
  is recovered from when every partition that had records waiting when it ended has moved on.
- `at_rest`: nothing is waiting anywhere (groups, outboxes, held commands, due deliveries) and
  nothing moved between two looks.
"""
import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.infra.kafka_acls import OBSERVER
from shared.kafka_auth import tool_kwargs
from pymongo import AsyncMongoClient

from shared.topics import COMMAND_TOPICS, EVENT_TOPICS, dlq

# A branch's allowance and a small branch's dues are one person's money, masked unless asked for
# (issue 12); the expected figures hold them, so the comparison asks, as an audited district official.
AUDITED_SUMS = {"reveal": "pension,allowance", "reason": "核对故障注入后的报表"}

log = logging.getLogger("chaos")
DLQ_TOPICS = tuple(dlq(t) for t in (*COMMAND_TOPICS, *EVENT_TOPICS))
# How `Log.deliveries` names a NotificationFailed that hands over to another channel: the delivery
# goes on, so a member's acknowledgement sent on it would race the next channel's attempt.
FAILED_OVER = "NotificationFailed+next"


@dataclass
class Event:
    topic: str
    id: str
    type: str
    causation_id: str | None
    correlation_id: str | None
    digest: str  # of the record's bytes: a copy republished by the outbox relay has the same
    data: dict
    source: str | None = None  # the emitting service, which its derived id names


@dataclass
class Answer:
    type: str
    reason: str | None = None
    errors: list | None = None


@dataclass
class DeadLetter:
    topic: str
    key: bytes | None
    digest: str
    headers: dict[str, str]


@dataclass
class Log:
    bootstrap: str
    runs: dict[str, list[Event]] = field(default_factory=lambda: defaultdict(list))  # correlation → events
    answers: dict[str, list[Answer]] = field(default_factory=lambda: defaultdict(list))  # message id → answers
    dead: dict[tuple[str, int, int], DeadLetter] = field(default_factory=dict)  # (topic, partition, offset)
    watched_correlations: set[str] = field(default_factory=set)
    watched_ids: set[str] = field(default_factory=set)
    # (type, notice_id, member_id) of the notifications events of watched runs: what a specialist's
    # app or a member's phone would have seen happen (a failure with a next channel as FAILED_OVER)
    deliveries: set[tuple[str, str, str]] = field(default_factory=set)
    records: int = 0
    unreadable: list = field(default_factory=list)
    _consumer: AIOKafkaConsumer | None = None
    _task: asyncio.Task | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(**tool_kwargs(self.bootstrap, OBSERVER), group_id=None, enable_auto_commit=False,
                                          auto_offset_reset="earliest", max_poll_records=5000,
                                          fetch_max_bytes=64 * 1024 * 1024,
                                          max_partition_fetch_bytes=8 * 1024 * 1024)
        await self._consumer.start()
        tps = []
        for topic in (*EVENT_TOPICS, *DLQ_TOPICS):
            for _ in range(60):
                parts = self._consumer.partitions_for_topic(topic)
                if parts:
                    break
                await self._consumer._client.force_metadata_update()  # aiokafka learns topics lazily
                await asyncio.sleep(0.5)
            else:
                raise RuntimeError(f"topic {topic} does not exist")
            tps += [TopicPartition(topic, p) for p in parts]
        self._consumer.assign(tps)
        await self._consumer.seek_to_beginning(*tps)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        if self._consumer:
            await self._consumer.stop()

    def forget(self, correlation_id: str) -> None:
        self.watched_correlations.discard(correlation_id)
        self.runs.pop(correlation_id, None)

    async def _run(self) -> None:
        while True:
            try:
                batches = await self._consumer.getmany(timeout_ms=300)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker is away: aiokafka reconnects
                log.debug("event log: %r", exc)
                await asyncio.sleep(1)
                continue
            for records in batches.values():
                for r in records:
                    try:
                        self._take(r)
                    except Exception as exc:  # a record this reader cannot read must not stop it
                        self.unreadable.append(f"{r.topic}[{r.partition}]@{r.offset}: {exc!r}")
            if batches:
                self._changed.set()

    def _take(self, r) -> None:
        self.records += 1
        digest = hashlib.blake2b(r.value or b"", digest_size=12).hexdigest()
        if r.topic in DLQ_TOPICS:
            headers = {k: v.decode("utf-8", "replace") for k, v in r.headers or ()}
            origin = (headers.get("x-original-topic", ""), int(headers.get("x-original-partition", -1)),
                      int(headers.get("x-original-offset", -1)))
            self.dead[origin] = DeadLetter(r.topic, r.key, digest, headers)
            return
        try:
            e = json.loads(r.value)
        except (TypeError, ValueError):
            e = None
        if not isinstance(e, dict):
            self.unreadable.append(f"{r.topic}[{r.partition}]@{r.offset}: not a JSON object")
            return
        cause, corr = e.get("causation_id"), e.get("correlation_id")
        data = e.get("data") or {}
        if e.get("type") == "CommandRejected" and data.get("command_id") in self.watched_ids:
            self.answers[data["command_id"]].append(Answer("CommandRejected", data.get("reason"), data.get("errors")))
        elif cause in self.watched_ids:
            self.answers[cause].append(Answer(e.get("type")))
        if corr in self.watched_correlations:
            self.runs[corr].append(Event(r.topic, e.get("id"), e.get("type"), cause, corr, digest, data,
                                         e.get("source")))
            if r.topic.endswith("notifications.events") and isinstance(data, dict):
                # A channel given up with another to try is not the delivery's end (FAILED_OVER).
                kind = FAILED_OVER if e.get("type") == "NotificationFailed" and data.get("next_channel") else e.get("type")
                self.deliveries.add((kind, data.get("notice_id"), data.get("member_id")))

    def answered(self, ids) -> set[str]:
        return {i for i in ids if i in self.answers}

    async def changed(self, timeout: float) -> None:
        self._changed.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    async def behind(self) -> str | None:
        """What is left to read of the topics now (None: nothing)."""
        if self._task is None or self._task.done():
            return f"the reader stopped: {self._task and not self._task.cancelled() and self._task.exception()!r}"
        try:
            tps = list(self._consumer.assignment())
            ends = await self._consumer.end_offsets(tps)
            left = {}
            for tp in tps:
                position = await self._consumer.position(tp)
                if position < ends[tp]:
                    left[f"{tp.topic}[{tp.partition}]"] = ends[tp] - position
            return str(left) if left else None
        except Exception as exc:
            return repr(exc)


# ---- consumer groups ------------------------------------------------------------------------------

async def bounded(coro, seconds: float):
    """`asyncio.wait_for`, except that a client cancelled in its clean-up (aiokafka's stop) is a
    timeout too, unless it is this task that is being cancelled."""
    try:
        return await asyncio.wait_for(coro, seconds)
    except asyncio.CancelledError:
        if asyncio.current_task().cancelling():
            raise
        raise TimeoutError(f"gave up after {seconds:.0f}s")


async def groups(bootstrap: str) -> tuple[dict[tuple, int], dict[tuple, int]]:
    """(committed offset per (group, topic, partition), end offset per (topic, partition))."""
    admin = AIOKafkaAdminClient(**tool_kwargs(bootstrap, OBSERVER), request_timeout_ms=10000)
    await admin.start()
    try:
        names = sorted(g[0] for g in await admin.list_consumer_groups())
        committed = {}
        for g in names:
            for tp, off in (await admin.list_consumer_group_offsets(g)).items():
                committed[(g, tp.topic, tp.partition)] = off.offset
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(**tool_kwargs(bootstrap, OBSERVER), enable_auto_commit=False)
    await consumer.start()
    try:
        topics = sorted({t for _, t, _ in committed})
        tps = []
        for t in topics:
            parts = consumer.partitions_for_topic(t)
            if not parts:
                await consumer._client.force_metadata_update()
                parts = consumer.partitions_for_topic(t) or ()
            tps += [TopicPartition(t, p) for p in parts]
        ends = {(tp.topic, tp.partition): n for tp, n in (await consumer.end_offsets(tps)).items()} if tps else {}
    finally:
        await consumer.stop()
    return committed, ends


def lag(committed: dict, ends: dict) -> dict[tuple, int]:
    out = {}
    for (g, t, p), off in committed.items():
        end = ends.get((t, p), 0)
        behind = end - max(off, 0)
        if behind > 0:
            out[(g, t, p)] = behind
    # partitions of a group's topics it never committed on yet
    by_group = defaultdict(set)
    for g, t, _ in committed:
        by_group[g].add(t)
    for g, topics in by_group.items():
        for (t, p), end in ends.items():
            if t in topics and (g, t, p) not in committed and end > 0:
                out[(g, t, p)] = end
    return out


async def groups_retrying(bootstrap: str, timeout: float = 120) -> tuple[dict, dict]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await bounded(groups(bootstrap), 30)
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1)


async def recovery(bootstrap: str, since: float, timeout: float = 600, down=lambda: False) -> float | None:
    """Seconds from `since` (a time.monotonic() instant: the end of a fault) until every partition
    that had records waiting then has moved on; None if that did not happen within `timeout`
    (not counting the time another fault keeps the broker or the database down: `down()`)."""
    deadline = since + timeout
    waiting = None
    while time.monotonic() < deadline or down():
        if down():
            deadline = max(deadline, time.monotonic() + timeout)
        try:
            committed, ends = await bounded(groups(bootstrap), 30)
        except Exception:  # the broker is not back yet
            await asyncio.sleep(1)
            continue
        if waiting is None:
            waiting = {k: committed.get(k, -1) for k in lag(committed, ends)}
        else:
            waiting = {k: off for k, off in waiting.items() if committed.get(k, -1) <= off}
        if not waiting:
            return round(time.monotonic() - since, 1)
        await asyncio.sleep(0.5)
    return None


# ---- the databases ----------------------------------------------------------------------------------

async def busy_in_databases(mongo: str) -> dict[str, int]:
    """Records owed to Kafka, held commands, deliveries being sent or due, alert changes waiting to
    be announced, reminders waiting for their alert to stand, notices still being addressed: what
    is not at rest."""
    out: dict[str, int] = {}
    client = AsyncMongoClient(mongo, serverSelectionTimeoutMS=5000, tz_aware=True)
    try:
        now = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        for name in await client.list_database_names():
            if not name.startswith("sunsetred_"):
                continue
            db = client[name]
            for coll in await db.list_collection_names():
                n = 0
                if coll == "_outbox":
                    n = await db[coll].count_documents({"sent_at": None})
                elif coll.startswith("_parked_"):
                    n = await db[coll].count_documents({})
                elif coll == "deliveries":
                    n = await db[coll].count_documents({"$or": [{"state": "sending"},
                                                                {"state": "pending", "next_at": {"$lte": now}}]})
                elif coll == "alert_announcements":  # reporting's alert changes waiting to be announced
                    n = await db[coll].count_documents({"announce_at": {"$ne": None}})
                elif coll == "alerts" and name.endswith("notifications"):  # reminders waiting to go
                    n = await db[coll].count_documents({"remind_at": {"$ne": None}})
                elif coll == "notices" and name.endswith("notifications"):  # large notices being addressed
                    n = await db[coll].count_documents({"to_address": {"$gte": ""}})
                if n:
                    out[f"{name}.{coll}"] = n
    finally:
        await client.close()
    return out


async def addressing(mongo: str, correlation_id: str) -> list[dict]:
    """How notifications addressed a run's deliveries (recipient, channels, branch, day, specialist)
    and how they ended (state, acknowledged): read from its `deliveries`, as the run's ids."""
    client = AsyncMongoClient(mongo, serverSelectionTimeoutMS=5000, tz_aware=True)
    try:
        return await client["sunsetred_notifications"]["deliveries"].find(
            {"correlation_id": correlation_id},
            {"notice_id": 1, "member_id": 1, "branch_id": 1, "addressed_on": 1, "plan": 1, "specialist_id": 1,
             "state": 1, "acknowledged": 1},
        ).to_list(None)
    finally:
        await client.close()


async def at_rest(bootstrap: str, mongo: str, events: Log, timeout: float = 600, say=print) -> float:
    """Wait until nothing is waiting anywhere and nothing moved between two looks; returns the
    seconds waited. Raises TimeoutError with what is still moving."""
    started = time.monotonic()
    previous = None
    said = started
    moving: dict = {}
    while time.monotonic() - started < timeout:
        try:
            committed, ends = await bounded(groups(bootstrap), 30)
            moving = {f"{g} {t}[{p}]": n for (g, t, p), n in lag(committed, ends).items()}
            moving.update(await bounded(busy_in_databases(mongo), 30))
            behind = await events.behind()
            if behind:
                moving["suite's event reader"] = behind
            fingerprint = (sorted(committed.items()), sorted(ends.items()))
        except Exception as exc:
            moving, fingerprint = {"error": repr(exc)}, None
        if not moving and fingerprint == previous:
            return round(time.monotonic() - started, 1)
        previous = None if moving else fingerprint
        if time.monotonic() - said > 30:
            said = time.monotonic()
            shown = dict(list(moving.items())[:6])
            say(f"still moving after {said - started:.0f}s: {shown}{' …' if len(moving) > 6 else ''}")
        await asyncio.sleep(1.5)
    raise TimeoutError(f"not at rest after {timeout:.0f}s: {moving}")


# ---- reporting ---------------------------------------------------------------------------------------

async def reports(urls: list[str], org_ids: list[str], periods: list[str], as_of: str,
                  alerts_of: str, headers: dict[str, str] | None = None) -> tuple[dict, list | None, dict]:
    """Every (org, period) report as of a day, and the open alerts of an org's subtree; from the
    first reporting instance that answers (`headers`: the sign-in)."""
    errors: dict = {}
    got: dict = {}
    alerts = None
    async with httpx.AsyncClient(timeout=120, headers=headers) as http:
        for org in org_ids:
            for period in periods:
                for url in urls:
                    try:
                        r = await http.get(f"{url}/api/v1/orgs/{org}/report", params={"period": period, "as_of": as_of,
                                                                                      **AUDITED_SUMS})
                    except httpx.HTTPError as exc:
                        errors[f"{org} {period} {url}"] = repr(exc)
                        continue
                    if r.status_code == 200:
                        got[(org, period)] = r.json()
                    else:
                        errors[f"{org} {period}"] = f"{r.status_code} {r.text[:300]}"
                    break
        for url in urls:
            try:
                r = await http.get(f"{url}/api/v1/alerts", params={"org_id": alerts_of, "as_of": as_of})
            except httpx.HTTPError as exc:
                errors[f"alerts {url}"] = repr(exc)
                continue
            if r.status_code == 200:
                alerts = r.json()["alerts"]
            else:
                errors["alerts"] = f"{r.status_code} {r.text[:300]}"
            break
    return got, alerts, errors
