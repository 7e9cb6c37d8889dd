"""The worker's due deliveries (adapters/due_deliveries.py): what happens to the open query on a
reset and on an error, with a fake database."""
from datetime import datetime, timezone

import pytest

from services.notifications.adapters.documents import DELIVERIES
from services.notifications.adapters.due_deliveries import DueDeliveries

NOW = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)


class Cursor:
    def __init__(self, docs, fail=False):
        self.docs, self.fail, self.closed = list(docs), fail, False

    def sort(self, *_a):
        return self

    def batch_size(self, _n):
        return self

    async def to_list(self, n):
        if self.fail:
            raise ConnectionError("the database went away")
        page, self.docs = self.docs[:n], self.docs[n:]
        return page

    async def close(self):
        self.closed = True


class Deliveries:
    def __init__(self, n):
        self.n, self.opened = n, []

    def find(self, query):
        assert query["state"] == "pending" and query["next_at"]["$lte"].startswith("2026-03-02T09:00")
        cursor = Cursor([{"_id": i} for i in range(self.n)], fail=getattr(self, "fail", False))
        self.opened.append(cursor)
        return cursor


async def test_a_reset_closes_the_open_query_and_the_next_page_starts_from_the_earliest():
    coll = Deliveries(25)
    due = DueDeliveries({DELIVERIES: coll}, page_size=10)
    assert [d["_id"] for d in await due.page(NOW)] == list(range(10))
    await due.reset()
    assert coll.opened[0].closed
    assert [d["_id"] for d in await due.page(NOW)] == list(range(10)) and len(coll.opened) == 2


async def test_an_error_closes_the_query_and_the_next_page_opens_another():
    coll = Deliveries(25)
    coll.fail = True
    due = DueDeliveries({DELIVERIES: coll}, page_size=10)
    with pytest.raises(ConnectionError):
        await due.page(NOW)
    assert coll.opened[0].closed
    coll.fail = False
    assert len(await due.page(NOW)) == 10 and len(coll.opened) == 2


async def test_a_full_page_keeps_the_query_open_a_short_one_closes_it():
    coll = Deliveries(20)
    due = DueDeliveries({DELIVERIES: coll}, page_size=10)
    await due.page(NOW)
    await due.page(NOW)  # full: the query may have more
    assert len(coll.opened) == 1 and not coll.opened[0].closed
    assert await due.page(NOW) == [] and coll.opened[0].closed  # empty: run out, closed
    await due.page(NOW)
    assert len(coll.opened) == 2


async def test_a_query_whose_opening_was_slow_stays_open_ten_times_as_long():
    clock = [0.0]

    class Slow(Deliveries):
        def find(self, query):
            cursor = super().find(query)
            to_list = cursor.to_list

            async def slow(n):
                if len(cursor.docs) == self.n:  # the first page: the server reads the whole backlog
                    clock[0] += 20.0
                return await to_list(n)
            cursor.to_list = slow
            return cursor

    coll = Slow(1000)
    due = DueDeliveries({DELIVERIES: coll}, page_size=10, reopen_s=60, clock=lambda: clock[0])
    await due.page(NOW)
    clock[0] = 199.0
    await due.page(NOW)
    assert len(coll.opened) == 1  # 200 s: ten times the 20 s its opening took
    clock[0] = 200.0
    await due.page(NOW)
    assert len(coll.opened) == 2
