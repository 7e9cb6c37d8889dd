"""The figure store against an in-memory unit of work: years, openings, ancestors, placement.

Whatever the order changes arrive in (a later year first, a branch before its place in the
tree), reading an organisation's sums gives the same as summing its branches' contributions.
"""
import asyncio
import copy

import pytest

from services.reporting.adapters import figure_store, figures
from services.reporting.adapters.documents import ORGS
from services.reporting.domain.contributions import difference, member_contribution
from services.reporting.domain.facts import MemberFacts
from shared.periods import parse_period
from tests.unit.reporting.sums import subtree_sums

pytestmark = pytest.mark.unit


class MemoryContext:
    """What handlers use of `shared.messaging.pipeline.Context`: get and put by collection."""

    def __init__(self):
        self.docs: dict[tuple[str, str], dict] = {}

    async def get(self, coll, _id):
        return copy.deepcopy(self.docs.get((coll, _id)))

    def put(self, coll, doc):
        self.docs[(coll, doc["_id"])] = copy.deepcopy(doc)

    def delete(self, coll, _id):
        self.docs.pop((coll, _id), None)


def branch(ctx, b, ancestors):
    ctx.put(ORGS, {"_id": b, "name": b, "kind": "branch", "ancestors": ancestors, "placed": True})


def members():
    return [MemberFacts("m1", branch_id="b1", registered_on="2024-03-01"),
            MemberFacts("m2", branch_id="b1", registered_on="2026-02-01",
                        away=[{"from": "2026-01-10", "until": None, "location": "三亚"}]),
            MemberFacts("m3", branch_id="b2", registered_on="2025-07-01", died_on="2026-03-15",
                        payments={"p": {"months": ["2026-01"], "cents": 2400, "paid_on": "2026-01-05"}}),
            MemberFacts("m4", branch_id="b1", registered_on="2025-01-01",
                        transfers=[{"on": "2026-02-01", "from_branch_id": "b1", "to_branch_id": "b2"}])]


def read(ctx, org, period, day):
    return asyncio.run(figures.org_sums(ctx.get, org, parse_period(period), day))


CASES = [("d", "2026-Q1", "2026-03-31"), ("c", "2025", "2025-12-31"), ("b1", "2026-02", "2026-02-10"),
         ("b2", "2026-Q1", "2026-03-20"), ("d", "2024", "2024-06-30")]
SUBTREES = {"d": ["b1", "b2"], "c": ["b1", "b2"], "b1": ["b1"], "b2": ["b2"]}


@pytest.mark.parametrize("order", ["as_given", "reversed"])
def test_sums_match_the_contributions_in_any_order(order):
    ctx = MemoryContext()
    ms = members() if order == "as_given" else list(reversed(members()))
    if order == "as_given":
        branch(ctx, "b1", ["d", "c"])
        branch(ctx, "b2", ["d", "c"])
    for m in ms:
        asyncio.run(figure_store.apply(ctx, member_contribution(m)))
    if order == "reversed":  # the branches are placed in the tree after their members counted
        for b in ("b1", "b2"):
            org = asyncio.run(ctx.get(ORGS, b))
            org.update(ancestors=["d", "c"], placed=True)
            ctx.put(ORGS, asyncio.run(figure_store.place_branch(ctx, org)))
    contributions = [member_contribution(m) for m in members()]
    for org, period, day in CASES:
        expected = subtree_sums(contributions, {b: {} for b in SUBTREES[org]}, parse_period(period), day)
        got = read(ctx, org, period, day)
        clean = lambda d: {k: v for k, v in d.items() if v}  # noqa: E731
        assert (clean(got.day), got.died, clean(got.period)) == (clean(expected.day), expected.died,
                                                                 clean(expected.period)), (org, period, day)


def test_a_backdated_change_updates_the_openings_of_later_years():
    ctx = MemoryContext()
    branch(ctx, "b1", ["d"])
    late = MemberFacts("m", branch_id="b1", registered_on="2026-05-01")
    asyncio.run(figure_store.apply(ctx, member_contribution(late)))
    assert read(ctx, "d", "2027", "2027-01-31").day["reg"] == 1  # no 2027 document: 2026's holds it
    early = MemberFacts("m", branch_id="b1", registered_on="2024-05-01")  # corrected registration date
    asyncio.run(figure_store.apply(ctx, difference(member_contribution(late), member_contribution(early))))
    assert read(ctx, "d", "2025", "2025-01-01").day["reg"] == 1
    assert read(ctx, "d", "2026", "2026-01-01").day["reg"] == 1  # via 2026's opening
    assert read(ctx, "d", "2024", "2024-04-30").day.get("reg", 0) == 0


def test_adding_entries_touches_only_the_counters_of_the_delta_and_equals_a_full_rewrite():
    from services.reporting.adapters.documents import add_entries, entries_of, new_figures, with_entries

    doc = with_entries(new_figures("*", "b1", "2026"), {("2026-01-05", "reg"): 3, ("2026-02-01", "away"): 1,
                                                         ("2026-03-01", "reg"): -1})
    delta = {("2026-01-05", "reg"): -3, ("2026-04-01", "reg"): 2, ("2026-02-01", "paid"): 5}
    expected = dict(entries_of(doc))
    for k, v in delta.items():
        expected[k] = expected.get(k, 0) + v
    assert add_entries(doc, delta) == with_entries(doc, expected)
    assert add_entries(doc, delta)["entries"]["reg"] == "2026-03-01=-1;2026-04-01=2"
    assert add_entries(doc, {("2026-02-01", "away"): -1})["entries"].get("away") is None
