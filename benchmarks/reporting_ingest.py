"""Reporting's ingest throughput, in process: its pipeline over a district's events (prints figures; not a test).

    PYTHONPATH=. .venv/bin/python benchmarks/reporting_ingest.py --topics bench87d2b7. [--limit N] [--batch 500] [--profile]
    PYTHONPATH=. .venv/bin/python benchmarks/reporting_ingest.py --events .data/bench/reporting-events-bench87d2b7.pkl

The events are those reporting consumes (members, activities and notifications events) of a
finished platform run (e.g. `benchmarks/end_to_end.py`, whose topics carry the run's prefix),
read once from Kafka and kept in `.data/bench/reporting-events-<prefix>.pkl`, so every later run
replays the very same records. They are replayed in the order the broker stamped them
(timestamp, then topic, partition, offset: the interleaving a consumer of the three topics sees),
in batches of `--batch` records, through reporting's pipeline (`Pipeline.process`: dedupe,
prefetch, handlers, deferred work, one transaction per batch) against a fresh database (dropped
afterwards); publishing to Kafka is left out (the outbox is written, the relay sends nothing).

Printed: records, wall seconds, records/s, and ms of this process's CPU per record (the rest of
the wall time is the database's and the machine's), and the collector's share of that CPU, at the
services' pace or the one given (`--gc-threshold 0`: Python's). Needs Kafka (first run only) and MongoDB.
"""
import argparse
import asyncio
import cProfile
import gc
import logging
import pickle
import pstats
import resource
import time
import uuid
from pathlib import Path

from shared import collector
from shared.messaging.records import Incoming
from shared.settings import Settings

TOPICS = ("members.events", "activities.events", "notifications.events")
CACHE = Path(".data/bench")


async def read_topics(bootstrap: str, prefix: str) -> list[tuple]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from shared.infra.kafka_acls import OBSERVER
    from shared.kafka_auth import tool_kwargs

    c = AIOKafkaConsumer(**tool_kwargs(bootstrap, OBSERVER), enable_auto_commit=False, auto_offset_reset="earliest")
    await c.start()
    try:
        tps = []
        for t in TOPICS:
            c._client.add_topic(prefix + t)
        await c._client.force_metadata_update()
        for t in TOPICS:
            tps += [TopicPartition(prefix + t, p) for p in sorted(c.partitions_for_topic(prefix + t) or ())]
        c.assign(tps)
        await c.seek_to_beginning(*tps)
        end = await c.end_offsets(tps)
        out: list[tuple] = []
        while [tp for tp in tps if await c.position(tp) < end[tp]]:
            got = await c.getmany(timeout_ms=2000, max_records=5000)
            for rs in got.values():
                out += [(r.timestamp, r.topic, r.partition, r.offset, r.key, r.value, tuple(r.headers or ()))
                        for r in rs]
        return out
    finally:
        await c.stop()


def load(args) -> list[Incoming]:
    if args.events:
        path = Path(args.events)
    else:
        path = CACHE / f"reporting-events-{args.topics.rstrip('.')}.pkl"
        if not path.exists():
            raw = asyncio.run(read_topics(args.bootstrap, args.topics))
            CACHE.mkdir(parents=True, exist_ok=True)
            path.write_bytes(pickle.dumps(raw, protocol=pickle.HIGHEST_PROTOCOL))
    raw = sorted(pickle.loads(path.read_bytes()), key=lambda r: (r[0], r[1], r[2], r[3]))
    # The run's topic prefix is dropped: topic names only label records (and their dead letters).
    return [Incoming(topic.split(".", 1)[1] if topic.count(".") > 1 else topic, p, o, k, v, h)
            for _ts, topic, p, o, k, v, h in raw][: args.limit or None]


async def run(records: list[Incoming], batch: int, profile: bool) -> None:
    from services.reporting.bootstrap import bootstrap
    from shared.settings import Settings

    prefix = f"ingest{uuid.uuid4().hex[:6]}"
    settings = Settings(topic_prefix=f"{prefix}.", database_prefix=f"{prefix}_")
    rt = bootstrap(settings, version=1)
    db_name = rt.db.name

    class NoPublish:
        async def send_all(self, _records) -> None:
            pass

    rt.relay.publisher = NoPublish()
    try:
        await rt.store.setup([p.name for p in rt.pipelines])
        if rt.setup_db:
            await rt.setup_db(rt.db)
        pipeline = rt.pipelines[0]
        counts = _count_database_work()
        prof = cProfile.Profile() if profile else None
        rss_before = _rss_mb()
        wall, cpu = time.perf_counter(), time.process_time()
        if prof:
            prof.enable()
        for i in range(0, len(records), batch):
            await pipeline.process(records[i:i + batch])
        if prof:
            prof.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"{len(records)} records in batches of {batch}: {wall:.1f} s, {len(records) / wall:.0f} records/s, "
              f"{1000 * cpu / len(records):.2f} ms CPU per record ({cpu:.1f} s CPU)")
        batches = -(-len(records) // batch)
        print(f"per batch: {counts['queries'] / batches:.1f} reads by _id ({counts['read'] / batches:.0f} documents), "
              f"{counts['writes'] / batches:.0f} document writes, {counts['events'] / batches:.0f} events; "
              f"{counts['commit_s'] / batches * 1000:.0f} ms in the commit")
        # The records replayed are held in this process: the rise is what the pipeline took.
        print(f"RSS: {rss_before:.0f} MB before the replay (the records loaded), {_peak_rss_mb():.0f} MB at most")
        if prof:
            pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
            pstats.Stats(prof).sort_stats("tottime").print_stats(40)
    finally:
        await rt.client.drop_database(db_name)


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _count_database_work() -> dict:
    """Counts, whatever the machine's load: the unit of work's reads and the commits' writes."""
    from shared.messaging.mongo_uow import MongoStore, MongoUnitOfWork

    counts = {"queries": 0, "read": 0, "writes": 0, "events": 0, "commit_s": 0.0}
    load, commit = MongoUnitOfWork._load, MongoStore.commit

    async def counted_load(self, coll, ids):
        counts["queries"] += 1
        counts["read"] += len(ids)
        return await load(self, coll, ids)

    async def counted_commit(self, uow, pipeline, consumed):
        counts["writes"] += len(uow.writes)
        counts["events"] += len(uow.outbox)
        started = time.perf_counter()
        try:
            return await commit(self, uow, pipeline, consumed)
        finally:
            counts["commit_s"] += time.perf_counter() - started

    MongoUnitOfWork._load, MongoStore.commit = counted_load, counted_commit
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--topics", help="the topic prefix of a finished run, e.g. bench87d2b7.")
    src.add_argument("--events", help="a file written by an earlier --topics run")
    ap.add_argument("--bootstrap", default="127.0.0.1:9092")
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--limit", type=int, default=0, help="only the first N records")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of the run")
    ap.add_argument("--gc-threshold", type=int, default=None,
                    help="the collector's pace (shared/collector.py); default: the services' setting, 0: Python's")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    records = load(args)
    threshold = Settings().gc_threshold if args.gc_threshold is None else args.gc_threshold
    collector.pace(threshold)
    collections = _time_collections()
    try:
        asyncio.run(run(records, args.batch, args.profile))
    finally:
        pace = f"every {threshold:,} objects" if threshold else "Python's pace"
        print(f"collector at {pace}: {collections['s']:.1f} CPU-s in "
              f"{collections['n']} collections, {collections['full']} of them full")


def _time_collections() -> dict:
    """The CPU the cyclic collector takes, from its callbacks."""
    totals = {"s": 0.0, "n": 0, "full": 0, "start": 0.0}

    def timed(phase: str, info: dict) -> None:
        if phase == "start":
            totals["start"] = time.process_time()
            return
        totals["s"] += time.process_time() - totals["start"]
        totals["n"] += 1
        totals["full"] += info["generation"] == 2
    gc.callbacks.append(timed)
    return totals


if __name__ == "__main__":
    main()
