"""The outbox relay: records a committed batch owes to Kafka get there, in order, at least once.

Right after a batch's transaction commits, the relay publishes its records and marks them sent.
If that fails (the broker is down, the process dies), the records stay unsent in `_outbox` and
nothing else is lost: the offsets were committed only after the transaction, and the relay's
sweep publishes what is left, oldest first, before this process publishes anything newer. The
sweep of records left by *another* instance (one that died) runs in whichever instance holds
the relay's lease. A record published twice carries the same message id, so consumers drop it.
"""
import asyncio
import logging
from typing import Protocol

from shared import metrics
from shared.messaging import leases
from shared.messaging.mongo_uow import MongoStore, outgoing
from shared.messaging.records import Outgoing

log = logging.getLogger(__name__)


class Publisher(Protocol):
    async def send_all(self, records: list[Outgoing]) -> None: ...


class OutboxRelay:
    def __init__(self, store: MongoStore, publisher: Publisher, service: str, owner: str,
                 grace_s: float = 5.0, every_s: float = 1.0):
        self.store, self.publisher, self.service, self.owner = store, publisher, service, owner
        self.grace_s, self.every_s = grace_s, every_s
        self._behind = True  # until a sweep has run, older records may be waiting
        self._lock = asyncio.Lock()  # one publisher at a time in this process, to keep order

    async def publish(self, docs: list[dict]) -> None:
        """Publish a just-committed batch's records; on failure they wait for the sweep."""
        if not docs:
            return
        async with self._lock:
            try:
                if self._behind:
                    # The sweep sends these records too (committed and unsent), after the older ones:
                    # sending them again here published every record of the batch twice (an
                    # instance's first batch, committed before the relay's first sweep).
                    await self._sweep(0)
                    return
                await self.publisher.send_all([outgoing(d) for d in docs])
                await self.store.mark_sent([d["_id"] for d in docs])
            except Exception:
                self._behind = True
                log.warning("publishing a committed batch failed; the outbox relay will send it", exc_info=True)

    async def _sweep(self, older_than_s: float) -> int:
        sent = 0
        while True:
            docs = await self.store.unsent(older_than_s)
            if not docs:
                self._behind = False
                return sent
            await self.publisher.send_all([outgoing(d) for d in docs])
            await self.store.mark_sent([d["_id"] for d in docs])
            sent += len(docs)

    async def run(self) -> None:
        """Background loop: sweep what is left unsent (own failures at once, others' after a grace)."""
        while True:
            try:
                async with self._lock:
                    if self._behind:
                        await self._sweep(0)
                    elif await leases.acquire(self.store.db, f"outbox:{self.service}", self.owner, self.every_s * 5):
                        n = await self._sweep(self.grace_s)
                        if n:
                            log.warning("outbox relay sent records left unsent", extra={"records": n})
                metrics.set_outbox_backlog(self.service, await self.store.backlog())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("outbox sweep failed; trying again", exc_info=True)
            await asyncio.sleep(self.every_s)
