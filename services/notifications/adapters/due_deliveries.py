"""The deliveries due, a page at a time, from one query kept open across the worker's rounds.

SecantusDB reads every index entry a query's bounds allow before it applies `limit`
(docs/secantusdb.md, difference 4), and the worker's query (`state == "pending"`, `next_at <= now`,
in `next_at` order, a page) has wide bounds by nature: with a backlog every round paid for all of
it. At 100,000 members, 2 million pending deliveries, a round of 1,000 took 26 s. A query kept open
pays that once and then hands out its pages in milliseconds (a page of 1,000 of 100,000 pending: 548
ms with `limit`, 1–3 ms the cursor's next page). On MongoDB, which walks the index either way, it
saves the same query sent again each round.

A page is what the query found when it was opened: a delivery may have changed since, so the claim
reads each one again in its unit (delivery_worker._claim), as it always did, another instance
having perhaps claimed it. The query is opened again when its pages run out, when the worker asks
(`reset`), after an error, and when it is older than `reopen_s`, so that what fell due since
(retries among it) is not left behind a long backlog: at least ten times as long as its opening
took, though, or the worker would spend its time in that read again (a backlog is worked through in
`next_at` order, so what falls due meanwhile comes after it anyway).
"""
import time
from collections.abc import Callable
from datetime import datetime

from services.notifications.adapters.documents import DELIVERIES
from services.notifications.domain.delivery import stamp

REOPEN_S = 60.0  # how long a delivery that fell due may wait behind a backlog already found…
OPENING_SHARE = 10  # …or this many times what opening the query took


class DueDeliveries:
    def __init__(self, db, page_size: int, reopen_s: float = REOPEN_S,
                 clock: Callable[[], float] = time.monotonic):
        self.db, self.page_size, self.reopen_s, self.clock = db, page_size, reopen_s, clock
        self._cursor = None
        self._opened_at = self._opening_s = 0.0

    async def page(self, now: datetime) -> list[dict]:
        """The next page of the pending deliveries due at `now` (or when the open query was opened),
        earliest first; a short page means none is left: the next asks the database again."""
        if (self._cursor is not None
                and self.clock() - self._opened_at >= max(self.reopen_s, OPENING_SHARE * self._opening_s)):
            await self.reset()
        opening = self._cursor is None
        if opening:
            self._cursor = (self.db[DELIVERIES].find({"state": "pending", "next_at": {"$lte": stamp(now)}})
                            .sort("next_at", 1).batch_size(self.page_size))
            self._opened_at = self.clock()
        try:
            docs = await self._cursor.to_list(self.page_size)
        except BaseException:
            await self.reset()
            raise
        if opening:
            self._opening_s = self.clock() - self._opened_at
        if len(docs) < self.page_size:
            await self.reset()
        return docs

    async def reset(self) -> None:
        """Close the open query: the next page asks the database again."""
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            try:
                await cursor.close()
            except Exception:  # a cursor the server or a closed client ended: nothing left to close
                pass
