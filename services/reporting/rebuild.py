"""Rebuild the projections from the start of the topics into a fresh database, then switch
queries over to it, without stopping the running service.

    PYTHONPATH=. .venv/bin/python -m services.reporting.rebuild            # next version
    PYTHONPATH=. .venv/bin/python -m services.reporting.rebuild --version 3

with the service's environment (KAFKA_BOOTSTRAP_SERVERS, MONGODB_URL, TOPIC_PREFIX,
DATABASE_PREFIX). Steps:
1. consume members/activities/notifications events from the earliest offsets with a consumer
   group of the new version, into `<prefix>reporting_v<N>` (no alerts announced: the live
   service announced them when they happened);
2. once its lag is 0 on every partition, write the pointer: queries of every running reporting
   process read version N within two seconds (`GET /api/v1/projections` says which);
3. stop, and restart the reporting service (rolling): at start-up it writes into the version
   the pointer names, continuing from the offsets the rebuild committed. Until then the new
   version lags by the events since the switch; the old database can then be dropped.
"""
import argparse
import asyncio
import logging
import time

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.reporting import versions
from services.reporting.bootstrap import SOURCE_TOPICS, bootstrap
from shared import collector, logs
from shared.kafka_auth import client_kwargs
from shared.settings import get_settings

log = logging.getLogger(__name__)


async def lag(settings, group: str, topics: list[str]) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, group_id=group,
                                enable_auto_commit=False, **client_kwargs(settings, "sunsetred-reporting"))
    await consumer.start()
    try:
        parts = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())]
        if not parts:
            await consumer._client.force_metadata_update()
            parts = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())]
        ends = await consumer.end_offsets(parts)
        total = 0
        for tp in parts:
            committed = await consumer.committed(tp)
            total += ends[tp] - (committed or 0)
        return total
    finally:
        await consumer.stop()


async def rebuild(version: int | None = None, settle_s: float = 3.0, timeout_s: float = 3600) -> int:
    settings = get_settings()
    from pymongo import AsyncMongoClient

    client = AsyncMongoClient(settings.mongodb_url)
    try:
        current = await versions.Pointer(client, settings).version()
        version = version if version is not None else current + 1
        if version == current:
            raise SystemExit(f"version {version} is the one queries read already")
        runtime = bootstrap(settings, version=version, rebuilding=True)
        logs.configure("reporting-rebuild", settings.log_level, settings.log_json)
        collector.pace(settings.gc_threshold)  # the service's pace: a rebuild is its pipeline, replayed
        await runtime.start()
        group = f"{settings.topic_prefix}sunsetred-reporting-{versions.subscription_for(version)}"
        topics = [f"{settings.topic_prefix}{t}" for t in SOURCE_TOPICS]
        deadline, caught_up_since = time.monotonic() + timeout_s, None
        try:
            while time.monotonic() < deadline:
                behind = await lag(settings, group, topics)
                log.info("rebuilding", extra={"version": version, "lag": behind})
                if behind == 0:
                    caught_up_since = caught_up_since or time.monotonic()
                    if time.monotonic() - caught_up_since >= settle_s:
                        break
                else:
                    caught_up_since = None
                await asyncio.sleep(0.5)
            else:
                raise TimeoutError(f"rebuild of version {version} did not catch up in {timeout_s}s")
        finally:
            await runtime.stop()
        await versions.switch(client, settings, version)
        log.info("switched queries to the rebuilt projections", extra={"version": version,
                                                                       "database": versions.database_for(settings, version)})
        return version
    finally:
        await client.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", type=int, default=None, help="default: the current version + 1")
    args = ap.parse_args()
    print(f"queries now read projections version {asyncio.run(rebuild(args.version))}")


if __name__ == "__main__":
    main()
