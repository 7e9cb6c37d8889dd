"""The organisation tree: nesting, ratings, merging."""
import pytest

from services.members.domain.organization import (
    Organization, establish, merge, rate, require_branch, subtree_member_counts,
)
from shared.errors import Rejected

pytestmark = pytest.mark.unit


def org(org_id, kind, ancestors=(), **kw):
    return Organization(org_id=org_id, name=org_id, kind=kind, parent_id=ancestors[-1] if ancestors else None,
                        ancestors=list(ancestors), **kw)


def make(kind, parent, org_id="x"):
    return establish(None, parent, org_id=org_id, name=org_id, kind=kind,
                     parent_id=parent.org_id if parent else None, has_committee=False, party_groups=0)


def reason_field(fn):
    with pytest.raises(Rejected) as exc:
        fn()
    return exc.value.reason, exc.value.errors[0]["field"]


D, S, T, C = org("d", "district"), org("s", "subdistrict", ["d"]), org("t", "town", ["d"]), org("c", "community", ["d", "s"])
B = org("b", "branch", ["d", "s", "c"])


@pytest.mark.parametrize("kind,parent", [("subdistrict", D), ("town", D), ("community", S), ("community", T),
                                         ("branch", C)])
def test_proper_nesting(kind, parent):
    made = make(kind, parent)
    assert made.ancestors == parent.path


@pytest.mark.parametrize("kind,parent", [("branch", D), ("branch", S), ("community", D), ("subdistrict", S),
                                         ("town", C), ("branch", B), ("community", C)])
def test_wrong_nesting_is_invalid(kind, parent):
    assert reason_field(lambda: make(kind, parent)) == ("invalid", "data.parent_id")


def test_unknown_parent_and_duplicate():
    assert reason_field(lambda: establish(None, None, org_id="x", name="x", kind="branch", parent_id="nope",
                                          has_committee=False, party_groups=0)) == ("unknown_reference", "data.parent_id")
    assert reason_field(lambda: establish(B, C, org_id="b", name="b", kind="branch", parent_id="c",
                                          has_committee=False, party_groups=0)) == ("duplicate", "data.org_id")


def test_require_branch():
    assert reason_field(lambda: require_branch(None, "b9", "data.branch_id")) == ("unknown_reference", "data.branch_id")
    assert reason_field(lambda: require_branch(C, "c", "data.branch_id")) == ("invalid", "data.branch_id")
    merged = org("m", "branch", ["d", "s", "c"], merged_into="b")
    assert reason_field(lambda: require_branch(merged, "m", "data.branch_id")) == ("not_allowed", "data.branch_id")


def test_one_rating_per_branch_per_year():
    b = org("b", "branch", ["d", "s", "c"])
    rate(b, year=2025, stars=4, on="2026-01-10")
    rate(b, year=2026, stars=5, on="2026-12-10")
    assert reason_field(lambda: rate(b, year=2025, stars=3, on="2026-02-01")) == ("duplicate", "data.year")
    assert [r["stars"] for r in b.ratings] == [4, 5]


def test_merge_moves_the_roster_and_closes_the_branch():
    src = org("b1", "branch", ["d", "s", "c"], member_ids=["m1", "m2"], secretary_id="m1")
    dst = org("b2", "branch", ["d", "s", "c"], member_ids=["m3"])
    moving, vacated = merge(src, dst, on="2026-06-30")
    assert moving == ["m1", "m2"] and vacated
    assert dst.member_ids == ["m3", "m1", "m2"] and src.member_ids == []
    assert (src.merged_into, src.merged_on, src.secretary_id) == ("b2", "2026-06-30", None)
    # the merged branch takes no more members
    assert reason_field(lambda: require_branch(src, "b1", "data.branch_id")) == ("not_allowed", "data.branch_id")


def test_merge_into_itself_is_invalid():
    b = org("b", "branch", ["d", "s", "c"])
    assert reason_field(lambda: merge(b, b, on="2026-01-01")) == ("invalid", "data.into_branch_id")


def test_release_reports_a_vacated_secretary():
    b = org("b", "branch", ["d", "s", "c"], member_ids=["m1", "m2"], secretary_id="m2")
    assert b.release("m1") is False and b.release("m2") is True
    assert b.member_ids == [] and b.secretary_id is None


def test_member_count_is_the_whole_subtrees():
    b1 = org("b1", "branch", ["d", "s", "c1"], member_ids=["m1", "m2"])
    b2 = org("b2", "branch", ["d", "s", "c2"], member_ids=["m3"])
    counts = subtree_member_counts([b1, b2], ["d", "s", "c1", "c2", "b1"])
    assert counts == {"d": 3, "s": 3, "c1": 2, "c2": 1, "b1": 2}
