"""The sums of a report's sections over many branches, kept while what they read is unchanged
(services/reporting/section_cache.py, adapters/section_checksums.py)."""
import asyncio

from services.reporting.adapters import section_checksums as sc
from services.reporting.adapters.leadership_store import LEADERSHIP
from services.reporting.section_cache import SectionCache

LEAD = {"_id": "b1", "posts": [{"post": "secretary", "member_id": "m1", "from": "2024-01-01", "until": None}],
        "terms": [], "elections": [], "open_alerts": [], "_v": 3}


def tally(watched: str):
    [t] = [t for t in sc.TALLIES if t.watched == watched]
    return t


def test_a_change_the_sections_read_moves_the_checksum():
    changed = LEAD | {"posts": [{**LEAD["posts"][0], "until": "2026-05-20"}]}
    [(tally_id, (counts, _start))] = tally(LEADERSHIP).difference(LEAD, changed).items()
    assert tally_id == sc.TALLY_ID and counts["h"] == sc.content_hash(changed) - sc.content_hash(LEAD) != 0


def test_an_evaluation_of_alerts_or_a_new_version_moves_nothing():
    evaluated = LEAD | {"open_alerts": [{"alert_id": "x"}], "evaluated_on": "2026-06-01", "asked_on": "2026-06-01",
                        "_v": 4}
    assert tally(LEADERSHIP).difference(LEAD, evaluated) == {}


def test_the_hash_is_the_same_whatever_the_order_of_fields_and_fits_31_bits():
    reordered = dict(reversed(list(LEAD.items())))
    assert sc.content_hash(reordered) == sc.content_hash(LEAD)
    assert 0 <= sc.content_hash(LEAD) < 2 ** 31


class FakeDb:
    """The checksums, as `section_checksums.current` reads them."""

    name = "fake"

    def __init__(self):
        self.sums = {c: 0 for c in sc.WATCHED}


def test_sections_are_computed_once_while_the_checksums_hold_and_again_after_a_change():
    db, cache, calls = FakeDb(), SectionCache(), []

    async def compute():
        calls.append(1)
        return {"committee": {"posts_filled": len(calls)}}, True

    async def ask():
        return await cache.sections(db.name, (LEADERSHIP,), db.sums, "d1", "2026", "2026-11-30", compute)

    async def run():
        first, again = await ask(), await ask()
        again["committee"]["posts_filled"] = 99  # a caller masking or changing its copy
        assert (first, await ask()) == ({"committee": {"posts_filled": 1}}, {"committee": {"posts_filled": 1}})
        db.sums["orgs"] += 5  # not read by these sections: still kept
        assert (await ask())["committee"]["posts_filled"] == 1
        db.sums[LEADERSHIP] += 7
        assert (await ask())["committee"]["posts_filled"] == 2
    asyncio.run(run())
    assert len(calls) == 2 and (cache.hits, cache.misses) == (3, 2)


def test_sections_that_may_not_be_kept_are_computed_every_time():
    db, cache, calls = FakeDb(), SectionCache(), []

    async def compute():
        calls.append(1)
        return {"services": {"opened": 1}}, False  # a request placed by a member's facts

    async def run():
        for _ in range(3):
            await cache.sections(db.name, ("service_requests",), db.sums, "d1", "2026", "2026-11-30", compute)
    asyncio.run(run())
    assert len(calls) == 3


def test_the_oldest_kept_sections_make_way():
    db, cache = FakeDb(), SectionCache(size=2)

    async def compute():
        return {"x": 1}, True

    async def run():
        for day in ("2026-11-28", "2026-11-29", "2026-11-30"):
            await cache.sections(db.name, (LEADERSHIP,), db.sums, "d1", "2026", day, compute)
    asyncio.run(run())
    assert [k[4] for k in cache._entries] == ["2026-11-29", "2026-11-30"]


def test_the_sections_asked_for_are_remembered_the_latest_first_and_held_only_under_their_checksums():
    db, cache = FakeDb(), SectionCache(size=2)

    async def compute():
        return {"x": 1}, True

    async def run():
        await cache.sections(db.name, (LEADERSHIP,), db.sums, "d1", "2026", "2026-11-30", compute)
    asyncio.run(run())
    assert cache.holds(db.name, (LEADERSHIP,), db.sums, "d1", "2026", "2026-11-30")
    assert (cache.hits, cache.misses) == (0, 1)  # looking is not asking
    db.sums[LEADERSHIP] += 1
    assert not cache.holds(db.name, (LEADERSHIP,), db.sums, "d1", "2026", "2026-11-30")
    for org in ("d1", "c1", "d1", "c2"):
        cache.note_asked(db.name, org, "2026", "2026-11-30")
    assert [k[1] for k in cache.asked] == ["d1", "c2"]  # at most `size`, the oldest forgotten


def test_sections_asked_for_while_they_are_being_computed_are_computed_once():
    db, cache, calls = FakeDb(), SectionCache(), []

    async def compute():
        calls.append(1)
        await asyncio.sleep(0.01)  # reading the branches' documents
        return {"committee": {"posts_filled": 1}}, True

    async def ask(refresh=False):
        return await cache.sections(db.name, (LEADERSHIP,), db.sums, "d1", "2026", "2026-11-30", compute, refresh)

    async def run():
        return await asyncio.gather(ask(refresh=True), ask(), ask())
    first, second, third = asyncio.run(run())
    assert len(calls) == 1 and first == second == third == {"committee": {"posts_filled": 1}}
    second["committee"]["posts_filled"] = 99  # one caller's copy changed: neither the others' nor the kept one
    assert third["committee"]["posts_filled"] == 1
    assert asyncio.run(ask())["committee"]["posts_filled"] == 1 and not cache._computing
