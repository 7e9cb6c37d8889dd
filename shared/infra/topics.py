"""Create the contract's topics, idempotently: `python -m shared.infra.topics`."""
import asyncio
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.kafka_auth import client_kwargs
from shared.settings import Settings, get_settings
from shared.topics import all_topics, named

log = logging.getLogger(__name__)


async def ensure_topics(settings: Settings, partitions: int | None = None, principal: str | None = "admin") -> list[str]:
    """Create every contract topic (with the settings' prefix) that does not exist yet.

    On a secured broker only the stack's set-up (`admin`) may create topics: a service, whose
    principal may not, leaves them to it (it logs what it could not see) and carries on."""
    wanted = [named(settings.topic_prefix, t) for t in all_topics()]
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers,
                                **client_kwargs(settings, principal))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if missing:
            n = partitions or settings.topic_partitions
            try:
                await admin.create_topics(
                    [NewTopic(t, num_partitions=n, replication_factor=1) for t in missing]
                )
            except Exception as exc:  # another process created some of them meanwhile
                if "Authorization" in type(exc).__name__ + str(exc):
                    log.info("topics left to the stack's set-up (this principal may not create them)",
                             extra={"topics": missing})
                    return []
                if "TopicAlreadyExists" not in type(exc).__name__ + str(exc):
                    raise
        return missing
    finally:
        await admin.close()


if __name__ == "__main__":
    created = asyncio.run(ensure_topics(get_settings()))
    print(f"[stack] topics ready ({len(created)} created)")
