"""When held commands are tried again (shared/messaging/parking.py, Retries): pure, no I/O."""
from datetime import datetime, timedelta, timezone

import pytest

from shared.messaging.parking import FIRST_RETRY_S, LIMIT, Outlines, Retries, behind_fence

pytestmark = pytest.mark.unit

def outline(_id: str, key: str, parked_ago_s: float = 1.0) -> dict:
    # Parked a moment ago now, not when the module was imported: a suite that runs this test
    # long after collecting it (the whole suite, end-to-end tests first) would find it expired.
    return {"_id": _id, "key": key, "parked_at": datetime.now(timezone.utc) - timedelta(seconds=parked_ago_s)}


def ids(outlines: list[dict]) -> list[str]:
    return [o["_id"] for o in outlines]


def test_a_held_command_is_tried_at_once_then_less_and_less_often_up_to_the_longest_pause():
    r, held = Retries(max_s=4.0), [outline("a", "k1")]
    assert ids(r.due(held, 0.0, 600)) == ["a"]
    now = 0.0
    for pause in (FIRST_RETRY_S, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0):
        r.waited("a", now)  # tried, still waiting
        assert r.due(held, now + pause - 0.01, 600) == []
        assert ids(r.due(held, now + pause, 600)) == ["a"]
        now += pause


def test_the_commands_behind_a_held_one_go_with_it_in_order_and_never_before_it():
    r = Retries(max_s=4.0)
    held = [outline("a", "k1"), outline("b", "k2"), outline("a2", "k1"), outline("a3", "k1")]
    r.waited("a", 0.0)  # k1's first waits; the others of k1 are behind it
    assert ids(r.due(held, 0.1, 600)) == ["b"]
    r.waited("b", 0.1)
    assert ids(r.due(held, 0.25, 600)) == ["a", "a2", "a3"]


def test_a_command_past_the_wait_is_due_whatever_its_pause_so_it_is_rejected_in_time():
    r = Retries(max_s=4.0)
    held = [outline("old", "k1", parked_ago_s=700), outline("new", "k2")]
    for now in (0.0, 0.1):
        r.waited("old", now)
        r.waited("new", now)
    assert ids(r.due(held, 0.2, 600)) == ["old"]


def test_a_command_no_longer_held_is_forgotten_and_one_held_again_starts_afresh():
    r = Retries(max_s=4.0)
    r.waited("a", 0.0)
    r.waited("a", 0.25)
    assert r.due([], 0.3, 600) == []  # "a" went (handled, or rejected)
    assert ids(r.due([outline("a", "k1")], 0.3, 600)) == ["a"]  # the same id held again: at once


def test_a_held_command_is_woken_by_a_write_of_what_it_wants_and_takes_its_key_along():
    from shared.messaging.parking import woken

    r = Retries(max_s=4.0)
    held = [outline("a", "k1") | {"wants": [["orgs", "b1"]]}, outline("a2", "k1"),
            outline("b", "k2") | {"wants": [["orgs", "b2"]]}, outline("c", "k3")]
    for o in held:
        r.waited(o["_id"], 0.0)
    assert r.due(held, 0.1, 600) == []
    assert woken(held, {("orgs", "b1"), ("members", "x")}) == {"k1"}
    assert ids(r.due(held, 0.1, 600, woken(held, {("orgs", "b1")}))) == ["a", "a2"]
    assert woken(held, set()) == set() and woken([outline("old", "k9")], {("orgs", "b1")}) == set()


def test_a_command_held_until_the_facts_before_it_arrived_is_tried_once_the_fence_says_so_not_at_each_pass():
    """Held for `NotYet` (notifications' SendNotice behind the member facts): its pause may be up to
    `max_s` when the fence passes; it is tried at the next pass instead, with its key, and only once
    (should it then wait for a reference, it takes the pauses like any other)."""
    r = Retries(max_s=4.0)
    held = [outline("n", "k1") | {"upstream": True}, outline("a", "k1"), outline("r", "k2")]
    for o in held:
        r.waited(o["_id"], 0.0)
    fence_at = [datetime.now(timezone.utc) - timedelta(seconds=5)]  # passed for what was first handled before

    def arrived(moment):
        return moment <= fence_at[0]

    assert r.due(held, 0.1, 600, arrived=arrived) == []  # held after the fence's last walk began
    # Its pause over, or a document it wants written: tried, it would only wait again.
    assert ids(r.due(held, 10.0, 600, woken={"k1"}, arrived=arrived)) == ["r"]
    assert behind_fence(held, arrived) == {"k1"} and behind_fence(held, None) == set()
    fence_at[0] = datetime.now(timezone.utc)
    assert ids(r.due(held, 0.1, 600, arrived=arrived)) == ["n", "a"]  # not "r": held for a reference
    r.waited("n", 0.1)  # tried, and now waits for something else
    assert r.due(held, 0.2, 600, arrived=arrived) == []


def test_the_outlines_read_serve_the_passes_of_a_moment_and_follow_what_this_process_commits():
    naive = datetime(2026, 12, 5, 18, 0, 0)  # as read back from the database: naive UTC
    a = {"_id": "a", "key": "k1", "parked_at": naive, "partition": 0, "offset": 5, "value": b"..."}
    b = {"_id": "b", "key": "k2", "parked_at": naive, "partition": 1, "offset": 2}
    c = Outlines(trust_s=1.0)
    assert c.get(0.0) is None  # never read
    c.read([a, b], 10.0)
    assert ids(c.get(10.9)) == ["a", "b"] and c.get(11.1) is None  # read again after a second
    held_now = {"_id": "c", "key": "k3", "parked_at": datetime.now(timezone.utc), "partition": 0, "offset": 9,
                "value": b"the command", "headers": []}
    earlier = {**held_now, "_id": "d", "parked_at": datetime(2026, 12, 5, 17, 0, tzinfo=timezone.utc)}
    c.committed({"a": None, "c": held_now, "d": earlier}, 10.5)  # released a; held c and d
    assert ids(c.get(10.5)) == ["d", "b", "c"]  # in the order they were held, as `oldest` reads them
    assert "value" not in c.get(10.5)[2]  # outlines only
    c.forget()  # a commit failed: unknown what it held
    assert c.get(10.5) is None


def test_a_full_read_of_outlines_is_kept_as_the_oldest_held_up_to_its_last():
    """More are held than a read gives (LIMIT): the read is what it is, the oldest up to its last
    (the horizon), kept for `full_trust_s`. This process's later holds lie beyond the horizon and
    are left out, as the next read would leave them out: else a key's command held now could be
    taken for the first of its key while an older one of that key lies beyond the read."""
    c = Outlines(trust_s=1.0, full_trust_s=5.0)
    full = [outline(str(i), f"k{i}", parked_ago_s=LIMIT - i) for i in range(LIMIT)]
    c.read(full, 0.0)
    assert len(c.get(4.9)) == LIMIT and c.get(5.1) is None
    held_now = outline("new", "k-beyond", parked_ago_s=0) | {"partition": 0, "offset": 1}
    again = full[5] | {"partition": 0, "offset": 2}  # held still (tried, and waiting): within the horizon
    c.committed({"0": None, "1": None, "new": held_now, "5": again}, 1.0)
    assert ids(c.get(1.1)) == [str(i) for i in range(2, LIMIT)]
    # Its key is known held all the same, for `full_trust_s`: a command of that key waits behind it.
    assert {"k-beyond", "k2", "k5"} <= c.held_keys(1.1) and "k0" not in c.held_keys(1.1)
    assert "k-beyond" not in c.held_keys(6.1)


def test_outlines_grown_past_a_read_by_this_process_are_kept_as_a_full_read_of_them():
    c = Outlines(trust_s=1.0, full_trust_s=5.0)
    c.read([outline(str(i), f"k{i}", parked_ago_s=LIMIT - i) for i in range(LIMIT - 1)], 0.0)
    assert c.get(1.1) is None  # whole: trusted for `trust_s` only
    c.read([outline(str(i), f"k{i}", parked_ago_s=LIMIT - i) for i in range(LIMIT - 1)], 0.0)
    mine = {f"n{i}": outline(f"n{i}", "kn", parked_ago_s=0) | {"partition": 0, "offset": i} for i in range(2)}
    c.committed(mine, 0.1)
    assert len(c.get(0.1)) == LIMIT and ids(c.get(0.1))[-1] == "n0"  # n1 beyond: as a read would give
    assert c.get(4.9) is not None  # now a full read's outlines


def test_the_keys_known_held_outlast_the_trust_and_are_forgotten_with_a_failed_commit():
    c = Outlines(trust_s=1.0)
    assert c.held_keys(0.0) == set()
    c.read([outline("a", "k1"), outline("b", "k2")], 0.0)
    assert c.get(60.0) is None and c.held_keys(60.0) == {"k1", "k2"}  # known held: the batch's keys wait behind
    c.committed({"a": None}, 60.0)
    assert c.held_keys(60.0) == {"k2"}
    c.forget()
    assert c.held_keys(60.0) == set()
