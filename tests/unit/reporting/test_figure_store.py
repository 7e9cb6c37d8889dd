"""The figure store against an in-memory unit of work: years, openings, ancestors, placement.

Whatever the order changes arrive in (a later year first, a branch before its place in the
tree), reading an organisation's sums gives the same as summing its branches' contributions.
"""
import asyncio

import pytest

from services.reporting.adapters import figure_store, figures
from services.reporting.adapters.documents import FIGURES, ORG_TOTALS, ORGS
from services.reporting.domain.contributions import difference, member_contribution
from services.reporting.domain.facts import MemberFacts
from shared.rules.org_life import DEFAULT_RULES
from shared.periods import parse_period
from tests.unit.reporting.memory import Store
from tests.unit.reporting.sums import subtree_sums

pytestmark = pytest.mark.unit


def branch(store, b, ancestors):
    store.context().put(ORGS, {"_id": b, "name": b, "kind": "branch", "ancestors": ancestors, "placed": True})
    store.commit()


def members():
    return [MemberFacts("m1", branch_id="b1", registered_on="2024-03-01"),
            MemberFacts("m2", branch_id="b1", registered_on="2026-02-01",
                        away=[{"from": "2026-01-10", "until": None, "location": "三亚"}]),
            MemberFacts("m3", branch_id="b2", registered_on="2025-07-01", died_on="2026-03-15",
                        payments={"p": {"months": ["2026-01"], "cents": 2400, "paid_on": "2026-01-05"}}),
            MemberFacts("m4", branch_id="b1", registered_on="2025-01-01",
                        transfers=[{"on": "2026-02-01", "from_branch_id": "b1", "to_branch_id": "b2"}])]


def read(store, org, period, day):
    """What a query (or a handler of the next batch) reads; staged changes included."""
    return asyncio.run(figures.org_sums(figures.ContextReader(store.context()), org, parse_period(period), day))


CASES = [("d", "2026-Q1", "2026-03-31"), ("c", "2025", "2025-12-31"), ("b1", "2026-02", "2026-02-10"),
         ("b2", "2026-Q1", "2026-03-20"), ("d", "2024", "2024-06-30")]
SUBTREES = {"d": ["b1", "b2"], "c": ["b1", "b2"], "b1": ["b1"], "b2": ["b2"]}


@pytest.mark.parametrize("order", ["as_given", "reversed"])
def test_sums_match_the_contributions_in_any_order(order):
    store = Store()
    ms = members() if order == "as_given" else list(reversed(members()))
    if order == "as_given":  # a batch per member, committed
        branch(store, "b1", ["d", "c"])
        branch(store, "b2", ["d", "c"])
        for m in ms:
            asyncio.run(figure_store.apply(store.context(), member_contribution(m)))
            store.commit()
    else:  # one batch: the branches are placed in the tree after their members counted
        ctx = store.context()
        for m in ms:
            asyncio.run(figure_store.apply(ctx, member_contribution(m)))
        for b in ("b1", "b2"):
            org = asyncio.run(ctx.get(ORGS, b))
            org.update(ancestors=["d", "c"], placed=True)
            ctx.put(ORGS, asyncio.run(figure_store.place_branch(ctx, org)))
    contributions = [member_contribution(m) for m in members()]
    for org, period, day in CASES:
        expected = subtree_sums(contributions, {b: {} for b in SUBTREES[org]}, parse_period(period), day)
        got = read(store, org, period, day)
        clean = lambda d: {k: v for k, v in d.items() if v}  # noqa: E731
        assert (clean(got.day), got.died, clean(got.period)) == (clean(expected.day), expected.died,
                                                                 clean(expected.period)), (org, period, day)


def test_a_backdated_change_counts_in_later_years():
    store = Store()
    branch(store, "b1", ["d"])
    late = MemberFacts("m", branch_id="b1", registered_on="2026-05-01")
    asyncio.run(figure_store.apply(store.context(), member_contribution(late)))
    store.commit()
    assert read(store, "d", "2027", "2027-01-31").day["reg"] == 1  # no 2027 document: 2026's total holds it
    early = MemberFacts("m", branch_id="b1", registered_on="2024-05-01")  # corrected registration date
    asyncio.run(figure_store.apply(store.context(), difference(member_contribution(late), member_contribution(early))))
    store.commit()
    assert read(store, "d", "2025", "2025-01-01").day["reg"] == 1
    assert read(store, "d", "2026", "2026-01-01").day["reg"] == 1  # via 2024's total
    assert read(store, "d", "2026", "2026-06-01").day["reg"] == 1  # 2026's +1 and −1 cancel out
    assert read(store, "d", "2024", "2024-04-30").day.get("reg", 0) == 0


def test_figures_are_nested_counters_written_by_inc_only():
    store = Store()
    branch(store, "b1", ["d"])
    m = MemberFacts("m", branch_id="b1", registered_on="2025-12-20",
                    payments={"p": {"months": ["2026-01"], "cents": 2400, "paid_on": "2026-01-05"}})
    asyncio.run(figure_store.apply(store.context(), member_contribution(m)))
    store.commit()
    assert FIGURES not in store.snapshots and ORG_TOTALS not in store.snapshots  # never a read-modify-write
    status = store.doc(FIGURES, "d|*|2025")
    assert (status["org"], status["series"], status["year"]) == ("d", "*", "2025")
    assert status["d"]["2025-12-20"] == {"reg": 1}
    january = store.doc(FIGURES, "b1|2026-01|2026")
    assert january["d"]["2026-01-05"] == {"paid": 1, "cents": 2400}
    assert store.doc(ORG_TOTALS, "d")["years"]["2025"]["reg"] == 1
    # a transfer out within the year: the year's total is back to 0, the year is still known
    gone = MemberFacts("m", branch_id="b1", registered_on="2025-12-20", payments=m.payments,
                       transfers=[{"on": "2025-12-30", "from_branch_id": "b1", "to_branch_id": None}])
    asyncio.run(figure_store.apply(store.context(), difference(member_contribution(m), member_contribution(gone))))
    store.commit()
    years = store.doc(ORG_TOTALS, "b1")
    assert years["years"]["2025"]["reg"] == 0 and "2025" in years["touched"]
    history = asyncio.run(figures.registered_history(figures.ContextReader(store.context()), "b1", "2026-02-01"))
    assert history == [("2025-12-20", 1), ("2025-12-30", 0)]


class RecordingReader:
    """The committed documents, `totals` in place of a branch's `org_totals`; the keys asked."""

    def __init__(self, store, totals=None):
        self.store, self.totals, self.asked = store, totals or {}, []

    async def docs(self, keys, day=None):
        keys = list(keys)
        self.asked += keys
        return {(c, i): self.totals[i] if c == ORG_TOTALS and i in self.totals else self.store.doc(c, i)
                for c, i in keys}


def test_a_branch_keeps_its_members_changes_by_day_and_its_history_reads_them_alone():
    """Its own `org_totals` keeps `reg.<day>` from its creation on (not its ancestors'): the history
    of its size is that document alone, the same as from every year's `*` document, which a
    document created before it kept them is still read from."""
    store = Store()
    branch(store, "b1", ["d"])
    for m in [MemberFacts("m1", branch_id="b1", registered_on="2024-03-01"),
              MemberFacts("m2", branch_id="b1", registered_on="2025-12-20",
                          transfers=[{"on": "2025-12-30", "from_branch_id": "b1", "to_branch_id": None}]),
              MemberFacts("m3", branch_id="b1", registered_on="2025-12-20", died_on="2026-01-09")]:
        asyncio.run(figure_store.apply(store.context(), member_contribution(m)))
        store.commit()
    totals = store.doc(ORG_TOTALS, "b1")
    assert totals["reg_days"] == 1 and totals["reg"] == {
        "2024-03-01": 1, "2025-12-20": 2, "2025-12-30": -1, "2026-01-09": -1}
    assert "reg_days" not in store.doc(ORG_TOTALS, "d") and "reg" not in store.doc(ORG_TOTALS, "d")
    expected = [("2024-03-01", 1), ("2025-12-20", 3), ("2025-12-30", 2)]
    kept = RecordingReader(store)
    assert asyncio.run(figures.registered_history(kept, "b1", "2026-01-08")) == expected
    assert kept.asked == [(ORG_TOTALS, "b1")]
    older = RecordingReader(store, {"b1": {k: v for k, v in totals.items() if k not in ("reg_days", "reg")}})
    assert asyncio.run(figures.registered_history(older, "b1", "2026-01-08")) == expected
    assert older.asked[1:] == [(FIGURES, "b1|*|2024"), (FIGURES, "b1|*|2025"), (FIGURES, "b1|*|2026")]


class ProjectingReader:
    """Reads the committed documents as the database would with `as_of_fields(day)` applied."""

    def __init__(self, store):
        self.store = store

    async def docs(self, keys, day=None):
        out = {}
        for coll, _id in keys:
            doc = self.store.doc(coll, _id)
            if doc is not None and day is not None and coll == FIGURES:
                fields = figures.as_of_fields(day)
                days = {k.split(".", 1)[1] for k in fields if k.startswith("d.")}
                doc = {k: v for k, v in doc.items() if k in fields or k == "_id"} | {
                    "d": {d: c for d, c in doc.get("d", {}).items() if d in days}}
            out[(coll, _id)] = doc
        return out


def test_a_reading_needs_only_month_totals_and_the_days_of_its_month():
    store = Store()
    branch(store, "b1", ["d", "c"])
    branch(store, "b2", ["d", "c"])
    for m in members():
        asyncio.run(figure_store.apply(store.context(), member_contribution(m)))
        store.commit()
    march = store.doc(FIGURES, "d|*|2026")["m"]["2026-03"]
    assert (march["died"], march["reg"]) == (1, -1)  # m3 died on 15 March
    for org, period, day in CASES + [("d", "2026-Q1", "2026-03-14"), ("d", "2026-Q1", "2026-03-15")]:
        whole = read(store, org, period, day)
        projected = asyncio.run(figures.org_sums(ProjectingReader(store), org, parse_period(period), day))
        assert (projected.day, projected.died, projected.period) == (whole.day, whole.died, whole.period)


def test_branches_are_counted_by_settings_as_they_change_and_merge():
    from services.reporting.domain.report import subtree_required

    store = Store()
    orgs = {"b1": {"has_committee": True, "party_groups": 2, "ancestors": ["d", "c1"]},
            "b2": {"party_groups": 0, "ancestors": ["d", "c1"]},
            "b3": {"has_committee": True, "ancestors": ["d", "c2"]}}

    def save(b, **change):
        ctx = store.context()
        org = asyncio.run(ctx.get(ORGS, b)) or {"_id": b, "name": b, "kind": "branch", "placed": True}
        org.update(orgs[b] | change)
        orgs[b] = {k: v for k, v in org.items() if k in ("has_committee", "party_groups", "ancestors", "merged_on")}
        figure_store.count_branch(ctx, org)
        ctx.put(ORGS, org)
        store.commit()

    def check():
        for org in ("d", "c1", "c2", "b1", "b2", "b3"):
            below = [o for b, o in orgs.items() if b == org or org in o["ancestors"]]
            for period in ("2026-03", "2026-Q2", "2026", "2027"):
                p = parse_period(period)
                got = asyncio.run(figures.required(figures.ContextReader(store.context()), org, p, DEFAULT_RULES))
                assert got == subtree_required(below, p), (org, period)

    for b in orgs:
        save(b)
    check()
    save("b2", party_groups=3, has_committee=True)  # its settings change
    save("b3", ancestors=["d", "c1"])  # moved to another community
    check()
    save("b1", merged_on="2026-04-01")  # merged away: still required before, not from Q2 on
    check()
    assert store.doc(ORG_TOTALS, "c2")["branches"] == {"c0": 0}
