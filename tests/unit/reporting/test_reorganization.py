"""化并转 in reporting (issue 13): a moved branch takes its history to its new community; a
dissolved branch is required nothing after and raises no branch alert; settings changed later."""
import pytest

from services.reporting.adapters.documents import ORGS
from shared.contracts import members as m
from shared.contracts import reorganization as c
from tests.integration.reporting.support import event, quarter_events
from tests.unit.reporting.test_handlers import play, report

pytestmark = pytest.mark.unit


def test_a_moved_branch_takes_its_history_to_its_new_community():
    ids, events = quarter_events()
    before = play(events)
    b1_alone = report(before, ids["b1"])
    b2_alone = report(before, ids["b2"])
    c2 = "c2-new"
    extra = [event(m.OrganizationEstablished, "2025-12-01", org_id=c2, name="怡园社区", kind="community",
                   parent_id=ids["subdistrict"], ancestors=[ids["district"], ids["subdistrict"]]),
             event(c.BranchMoved, "2026-04-01", branch_id=ids["b2"], on="2026-04-01", from_community_id=ids["community"],
                   to_community_id=c2, from_ancestors=[ids["district"], ids["subdistrict"], ids["community"]],
                   ancestors=[ids["district"], ids["subdistrict"], c2])]
    after = play(events + extra)
    district_before = report(before, ids["district"])
    assert report(after, ids["district"]) == district_before  # the sums above both are the same
    assert report(after, ids["community"]) == b1_alone  # the old community: the branch that stayed
    assert report(after, c2) == b2_alone  # the new one: the moved branch, its past included
    assert after.uow.docs[ORGS][ids["b2"]]["parent_id"] == c2


def test_a_dissolved_branch_is_no_longer_required_and_raises_no_branch_alert():
    ids, events = quarter_events()
    extra = [event(c.BranchDissolved, "2026-03-31", branch_id=ids["b2"], on="2026-03-31", reason="撤销",
                   ancestors=[ids["district"], ids["subdistrict"], ids["community"]])]
    store = play(events + extra)
    q2 = __import__("shared.periods", fromlist=["parse_period"]).parse_period("2026-Q2")
    assert report(store, ids["b2"], q2, "2026-06-30")["organisational_life"]["themed_party_day"]["required"] == 0
    org = store.uow.docs[ORGS][ids["b2"]]
    assert (org["dissolved_on"], org["open_alerts"]) == ("2026-03-31", [])


def test_settings_changed_later_change_what_is_required():
    ids, events = quarter_events()
    extra = [event(c.BranchSettingsChanged, "2026-04-01", branch_id=ids["b2"], on="2026-04-01", has_committee=True,
                   party_groups=2, previous_has_committee=False, previous_party_groups=0)]
    store = play(events + extra)
    life = report(store, ids["b2"])["organisational_life"]
    assert (life["committee_meeting"]["required"], life["group_meeting"]["required"]) == (3, 6)
