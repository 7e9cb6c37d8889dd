"""A tally's difference for one document's change: what it counted for before, taken away; what it
counts for now, added; counters that cancel out are left out."""
from services.notifications.adapters.documents import DELIVERY_TALLY, delivery_counts
from shared.messaging.tally import Tally


def _delivery(state: str, branch: str = "b1", **more) -> dict:
    return {"_id": f"n1|m1", "notice_id": "n1", "member_id": "m1", "branch_id": branch, "state": state,
            "attempts": [], **more}


def test_a_new_document_counts_once():
    diff = DELIVERY_TALLY.difference(None, _delivery("pending"))
    assert diff == {"n1|b1": ({"recipients": 1, "state.pending": 1}, {"notice_id": "n1", "branch_id": "b1"})}


def test_a_change_of_state_moves_one_count_and_keeps_the_recipient():
    before = _delivery("sending", attempts=[{"state": "sending"}])
    after = _delivery("delivered", attempts=[{"state": "delivered"}])
    (counts, _), = DELIVERY_TALLY.difference(before, after).values()
    assert counts == {"state.sending": -1, "state.delivered": 1, "reached": 1}


def test_a_removed_document_is_taken_away():
    (counts, _), = DELIVERY_TALLY.difference(_delivery("pending"), None).values()
    assert counts == {"recipients": -1, "state.pending": -1}


def test_an_unchanged_count_writes_nothing():
    assert DELIVERY_TALLY.difference(_delivery("pending"), _delivery("pending")) == {}


def test_a_move_between_branches_moves_between_tallies():
    diff = DELIVERY_TALLY.difference(_delivery("pending", "b1"), _delivery("pending", "b2"))
    assert diff["n1|b1"][0] == {"recipients": -1, "state.pending": -1}
    assert diff["n1|b2"][0] == {"recipients": 1, "state.pending": 1}


def test_reached_and_acknowledged():
    assert delivery_counts(_delivery("door_done")) == {"n1|b1": {"recipients": 1, "state.door_done": 1, "reached": 1}}
    acked = delivery_counts(_delivery("acknowledged", acknowledged={"on": "2025-01-02"},
                                      attempts=[{"state": "delivered"}]))
    assert acked == {"n1|b1": {"recipients": 1, "state.acknowledged": 1, "reached": 1, "acknowledged": 1}}


def test_a_tally_of_anything():
    t = Tally("things", "totals", lambda d: {d["kind"]: {"n": d["n"]}}, lambda d: {"kind": d["kind"]})
    assert t.difference({"kind": "a", "n": 2}, {"kind": "a", "n": 5}) == {"a": ({"n": 3}, {"kind": "a"})}


def test_a_sharded_tallys_documents_sum_to_one_per_notice_and_branch():
    from shared.messaging.tally import merged

    docs = [{"_id": "n1|b1", "notice_id": "n1", "branch_id": "b1", "recipients": 2, "state": {"pending": 2}, "_v": 3},
            {"_id": "n1|b1~5", "notice_id": "n1", "branch_id": "b1", "recipients": 0,
             "state": {"pending": -1, "delivered": 1}, "reached": 1, "_v": 1},
            {"_id": "n1|b2~2", "notice_id": "n1", "branch_id": "b2", "recipients": 1, "state": {"door_assigned": 1}}]
    assert merged(docs, ("notice_id", "branch_id")) == [
        {"notice_id": "n1", "branch_id": "b1", "recipients": 2, "state": {"pending": 1, "delivered": 1}, "reached": 1},
        {"notice_id": "n1", "branch_id": "b2", "recipients": 1, "state": {"door_assigned": 1}}]
    assert DELIVERY_TALLY.shard_id("n1|b1", 0) == "n1|b1" and DELIVERY_TALLY.shard_id("n1|b1", 5) == "n1|b1~5"
