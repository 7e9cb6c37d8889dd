"""The handlers over the worked quarter (tests/integration/reporting/support.py), in memory:
the stored documents are plain nested documents, figures are only ever `$inc`ed, and the same
events in another order across aggregates give the same figures."""
import asyncio
import json

import pytest

from services.reporting.adapters import figures
from services.reporting.adapters.documents import FIGURES, MEMBERS, NOTICES, ORG_TOTALS, ORGS, facts_from_doc
from services.reporting.domain.contributions import member_contribution
from services.reporting.domain.report import build, subtree_required
from services.reporting.handlers import build_handlers
from shared.contracts import lookup
from shared.contracts.parsing import parse_object
from shared.periods import parse_period
from shared.rules.org_life import DEFAULT_RULES
from shared.contracts import activities as a
from tests.integration.reporting.support import event, quarter_events, uid
from tests.unit.reporting.memory import Store

pytestmark = pytest.mark.unit
Q1 = parse_period("2026-Q1")


def play(events: list[dict], batch: int = 5, store: Store | None = None) -> Store:
    """The events in batches (the inbox drops a repeated id), each committed, into `store` (by
    default a new one)."""
    store, seen, handlers = store or Store(), set(), build_handlers()
    for k, e in enumerate(events):
        if e["id"] not in seen:
            seen.add(e["id"])
            parsed = parse_object(json.loads(json.dumps(e)))
            asyncio.run(handlers[e["type"]].handle(parsed.message, store.context(parsed.envelope)))
            store.uow.commit_message()
        if k % batch == batch - 1:
            store.commit()
    store.commit()
    return store


def reversed_by_aggregate(events: list[dict]) -> list[dict]:
    groups: dict[tuple[str, str], list[dict]] = {}
    for e in events:
        cls = lookup(e["type"])
        groups.setdefault((cls.TOPIC, str(e["data"][cls.KEY])), []).append(e)
    return [e for g in reversed(list(groups.values())) for e in g]


def report(store: Store, org_id: str, period=Q1, day="2026-03-31") -> dict:
    branches = [d for d in store.uow.docs[ORGS].values() if d.get("kind") == "branch"
                and (d["_id"] == org_id or org_id in d.get("ancestors", []))]
    reader = figures.ContextReader(store.context())
    sums = asyncio.run(figures.org_sums(reader, org_id, period, day))
    required = asyncio.run(figures.required(reader, org_id, period, DEFAULT_RULES))
    assert required == subtree_required(branches, period)  # counted by settings as the tree came in
    return build(sums, required, period, day)


def test_the_quarter_in_memory_in_either_order():
    ids, events = quarter_events()
    store = play(events)
    r = report(store, ids["district"])
    assert r["members"] == {"registered": 6, "resident": 5, "away": 1, "exempt": 1, "deceased": 1}
    assert r["participation"]["active"] == 4 and r["organisational_life"]["compliance"] == 0.4615
    assert r["dues"] == {"member_months_due": 16, "member_months_paid": 8, "rate": 0.5, "amount_paid": "288.00"}
    assert (r["volunteer_hours"], r["notices"]["sent"], r["visits"]) == ("4", 3, {"members_visited": 1, "overdue": 4})
    assert FIGURES not in store.snapshots and ORG_TOTALS not in store.snapshots
    other = play(reversed_by_aggregate(events), batch=7)
    for org in ("district", "community", "b1", "b2"):
        for period, day in (("2026-Q1", "2026-03-31"), ("2026-02", "2026-02-28"), ("2026", "2026-02-16")):
            assert report(store, ids[org], parse_period(period), day) == report(
                other, ids[org], parse_period(period), day), (org, period)


def test_member_documents_are_plain_nested_documents():
    ids, events = quarter_events()
    store = play(events)
    doc = store.doc(MEMBERS, ids["m1"])
    assert doc["facts"]["registered_on"] == "2026-01-05" and doc["branches"] == [ids["b1"]]
    (payment,) = doc["facts"]["payments"].values()
    assert payment == {"months": ["2026-01", "2026-02", "2026-03"], "cents": 7200, "paid_on": "2026-01-10"}
    assert "contribution" not in doc and isinstance(doc["open_alerts"], list)  # worked out from the facts


def test_a_member_stored_with_its_contribution_is_counted_by_it_once_then_by_its_facts():
    """A member document written before the contribution was worked out from the facts holds the
    one it was counted with: its next refresh takes that one away (here a registration counted in
    another branch), and the document it writes holds none."""
    from services.reporting.handlers import counted_contribution

    ids, events = quarter_events()
    store = play(events)
    doc = store.doc(MEMBERS, ids["m1"])
    facts = facts_from_doc(doc, ids["m1"])
    assert counted_contribution(doc, facts) == member_contribution(facts)
    stale = {"*": {ids["b2"]: {"2026-01-05": {"reg": 1}}}}
    assert counted_contribution(doc | {"contribution": stale}, facts) == {("*", ids["b2"], "2026-01-05"): {"reg": 1}}
    assert counted_contribution(None, facts) == {}

    before = report(store, ids["b2"])["members"]["registered"]
    store.uow.docs[MEMBERS][ids["m1"]] = store.uow.docs[MEMBERS][ids["m1"]] | {"contribution": stale}
    play([event(a.VisitRecorded, "2026-03-20", visit_id=uid("v"), member_id=ids["m1"], specialist_id="s-1",
                on="2026-03-20", kind="phone")], store=store)
    assert report(store, ids["b2"])["members"]["registered"] == before - 1
    assert "contribution" not in store.doc(MEMBERS, ids["m1"])


def test_every_handler_names_what_it_will_read():
    ids, events = quarter_events()
    handlers = build_handlers()
    for e in events:
        wants = list(handlers[e["type"]].wants(parse_object(e).message))
        assert wants, e["type"]
        if e["type"] in ("NotificationDispatched", "DoorDeliveryAssigned"):
            # Only the notice: the member and its orgs are read by the batch's deferred refresh,
            # and only for the few dispatches that change the member.
            assert wants == [(NOTICES, e["data"]["notice_id"])], e["type"]
        elif "branch_id" in e["data"] and e["type"] != "OrganizationEstablished":
            assert (ORGS, e["data"]["branch_id"]) in wants, e["type"]


def refreshes(monkeypatch) -> list[str]:
    """The members refreshed from now on, in order, once per refresh."""
    from services.reporting import handlers as h

    calls: list[str] = []
    real = h.MemberUpdater.refresh

    async def refresh(self, ctx, loaded, *args):
        calls.append(loaded.facts.member_id)
        await real(self, ctx, loaded, *args)
    monkeypatch.setattr(h.MemberUpdater, "refresh", refresh)
    return calls


def test_a_member_is_refreshed_once_per_batch_and_alert_ids_follow_the_alert(monkeypatch):
    from services.reporting import handlers as h
    from shared.contracts.parsing import derived_id

    ids, events = quarter_events()
    calls = refreshes(monkeypatch)
    whole = play(events, batch=len(events))
    assert len(calls) == len(set(calls))  # one batch: each member once, whatever its number of events
    by_event = play(events, batch=1)
    assert len(calls) > 2 * len(set(calls))
    for member in ("m1", "m7"):  # the same document, written once or many times (its version `_v`)
        a, b = whole.doc(MEMBERS, ids[member]), by_event.doc(MEMBERS, ids[member])
        assert {k: v for k, v in a.items() if k != "_v"} == {k: v for k, v in b.items() if k != "_v"}
    raised = [e for e in (json.loads(o.value) for o in whole.events) if e["type"] == "AlertRaised"]
    assert raised
    for ev in raised:
        x = ev["data"]
        assert ev["id"] == derived_id("alert", f"{x['alert_id']}|{x['level']}|{x['months']}|{x['as_of']}")
    assert report(whole, ids["district"]) == report(by_event, ids["district"])


def test_a_batch_loads_its_members_a_slice_at_a_time_with_the_same_result(monkeypatch):
    """Members are loaded for their refresh LOAD_SLICE at a time (their decoded facts are what a
    batch holds): slices of two give each member, their study roll and the report as one slice
    does, each member refreshed once."""
    from services.reporting import handlers as h
    from services.reporting.adapters.documents import STUDY_ROLL

    ids, events = quarter_events()
    whole = play(events, batch=len(events))
    calls = refreshes(monkeypatch)
    monkeypatch.setattr(h, "LOAD_SLICE", 2)
    sliced = play(events, batch=len(events))
    assert len(calls) == len(set(calls)) > 4
    for coll in (MEMBERS, STUDY_ROLL):
        assert sliced.uow.docs[coll] == whole.uow.docs[coll]
    assert report(sliced, ids["district"]) == report(whole, ids["district"])


def test_a_pair_of_a_notice_that_asks_for_no_acknowledgement_is_not_kept():
    """Counted nowhere, so not recorded on the member: most pairs are automatic meeting notices."""
    from shared.contracts import notifications as n
    from tests.integration.reporting.support import dispatched, event

    ids, events = quarter_events()
    m1, b1 = ids["m1"], ids["b1"]
    audience = {"org_ids": [b1], "member_ids": []}
    extra = [event(n.NoticeCreated, "2026-02-01", notice_id="greeting", title="新春问候", body="…", category="greeting",
                   audience=audience, require_ack=False, recipient_count=1),
             event(n.NoticeCreated, "2026-02-01", notice_id="doc", title="学习材料", body="…", category="study",
                   audience=audience, require_ack=True, recipient_count=1),
             dispatched("greeting", m1, b1, "2026-02-02"), dispatched("doc", m1, b1, "2026-02-02"),
             dispatched("activity:a9", m1, b1, "2026-02-03")]
    store = play(events + extra)
    assert set(store.doc(MEMBERS, m1)["facts"]["notices"]) >= {"doc"}
    assert not {"greeting", "activity:a9"} & set(store.doc(MEMBERS, m1)["facts"]["notices"])


def test_sent_counts_the_pairs_addressed_whatever_the_delivery_worker_did():
    """Finding 11 of docs/reliability.md: `notices.sent` counted a pair when the delivery worker
    dispatched it, so whether and when it did changed the report. Now NoticeAddressed, said when
    the notice is addressed, counts; dispatches before, after or never give the same figures, and a
    member whose stint (reporting's own facts) does not cover the day is not counted."""
    from shared.contracts import notifications as n
    from tests.integration.reporting.support import dispatched, event

    ids, events = quarter_events()
    m1, m2, b1 = ids["m1"], ids["m2"], ids["b1"]
    created = event(n.NoticeCreated, "2026-02-01", notice_id="doc", title="学习材料", body="…", category="study",
                    audience={"org_ids": [b1], "member_ids": []}, require_ack=True, recipient_count=2)
    addressed = event(n.NoticeAddressed, "2026-02-01", notice_id="doc", branch_id=b1, addressed_on="2026-02-01",
                      member_ids=[m1, m2, "m-never-registered"])
    worker = [dispatched("doc", m1, b1, "2026-02-01")]  # m2: not dispatched (yet), or acknowledged first
    base = report(play(events), ids["b1"], parse_period("2026-02"), "2026-02-28")["notices"]["sent"]
    runs = [events + [created, addressed], events + [created, *worker, addressed],
            events + [addressed, *worker, created], reversed_by_aggregate(events + [created, addressed, *worker])]
    sent = [report(play(r), ids["b1"], parse_period("2026-02"), "2026-02-28")["notices"]["sent"] for r in runs]
    assert sent == [base + 2] * len(runs), (base, sent)


def test_pairs_that_reach_reporting_before_their_notice_wait_for_it():
    """Finding 27 of docs/reliability.md: two instances of notifications each publish what they
    commit, so a dispatch (or an acknowledgement) can reach the topic before its NoticeCreated.
    Such a pair was counted as if the notice asked for acknowledgement; it now waits for the
    notice, then counts only if the notice asks for one, on the day it was first addressed."""
    from shared.contracts import notifications as n
    from tests.integration.reporting.support import dispatched, event

    ids, events = quarter_events()
    m1, m2, b1 = ids["m1"], ids["m2"], ids["b1"]
    month = parse_period("2026-02")

    def created(notice_id: str, require_ack: bool) -> dict:
        return event(n.NoticeCreated, "2026-02-01", notice_id=notice_id, title="学习材料", body="…",
                     category="study", audience={"org_ids": [b1], "member_ids": []}, require_ack=require_ack,
                     recipient_count=2)

    acked = event(n.NoticeAcknowledged, "2026-02-04", notice_id="doc", member_id=m1, branch_id=b1, channel="sms")
    early = [dispatched("greeting", m1, b1, "2026-02-02"), dispatched("doc", m1, b1, "2026-02-02"),
             dispatched("doc", m2, b1, "2026-02-03"), acked]
    base = report(play(events), b1, month, "2026-02-28")["notices"]
    in_order = report(play(events + [created("greeting", False), created("doc", True), *early]),
                      b1, month, "2026-02-28")["notices"]
    first = report(play(events + early + [created("greeting", False), created("doc", True)], batch=1),
                   b1, month, "2026-02-28")["notices"]
    assert (in_order["sent"], in_order["acknowledged"]) == (base["sent"] + 2, base["acknowledged"] + 1)
    assert first == in_order


def test_dispatches_after_their_notice_is_said_addressed_count_without_waiting_for_its_creation():
    """A notice to more than a page of members says NoticeCreated with its last page, after the
    dispatches of the pages before. NoticeAddressed is said only of a notice that asks for
    acknowledgement, so the dispatches after it count at once: nothing waits in the notice's
    document (which grew with each dispatch and was copied at each), and the figures are those of
    the notice created first, and stay so once it is."""
    from shared.contracts import notifications as n
    from tests.integration.reporting.support import dispatched, event

    ids, events = quarter_events()
    m1, m2, b1 = ids["m1"], ids["m2"], ids["b1"]
    month = parse_period("2026-02")
    created = event(n.NoticeCreated, "2026-02-01", notice_id="big", title="学习材料", body="…", category="study",
                    audience={"org_ids": [b1], "member_ids": []}, require_ack=True, recipient_count=2)
    addressed = event(n.NoticeAddressed, "2026-02-01", notice_id="big", branch_id=b1, addressed_on="2026-02-01",
                      member_ids=[m1])
    later = [dispatched("big", m1, b1, "2026-02-01"), dispatched("big", m2, b1, "2026-02-02")]
    store = play(events + [addressed, *later], batch=1)
    assert store.doc(NOTICES, "big")["require_ack"] is True and "waiting" not in store.doc(NOTICES, "big")
    base = report(play(events), b1, month, "2026-02-28")["notices"]
    first = report(play(events + [created, addressed, *later]), b1, month, "2026-02-28")["notices"]
    assert first["sent"] == base["sent"] + 2
    assert report(store, b1, month, "2026-02-28")["notices"] == first
    last = play(events + [addressed, *later, created], batch=1)
    assert report(last, b1, month, "2026-02-28")["notices"] == first
    assert last.doc(NOTICES, "big")["category"] == "study"


def test_a_members_open_alerts_are_copied_for_the_alert_list_and_the_copy_goes_with_them():
    """`member_alerts` holds, for each member with an open alert, what `listed_alerts` makes of its
    document in `members`, and nothing for the others, whatever the batches (queries.member_alerts
    reads the copies)."""
    from services.reporting.adapters.documents import MEMBER_ALERTS, listed_alerts

    ids, events = quarter_events()
    for batch in (1, 5, len(events)):
        store = play(events, batch=batch)
        members = store.uow.docs[MEMBERS]
        copies = {i: d for i, d in store.uow.docs[MEMBER_ALERTS].items() if d is not None}
        expected = {i: listed_alerts(d) for i, d in members.items() if listed_alerts(d)}
        assert expected and len(expected) < len(members)  # some members with an alert, some without
        assert {i: {k: v for k, v in d.items() if k != "_v"} for i, d in copies.items()} == expected, batch
    # m3's alert (not visited since February) clears with a visit: its copy is deleted
    assert any(x["kind"] == "not_visited" for x in copies[ids["m3"]]["open_alerts"])
    visit = event(a.VisitRecorded, "2026-03-06", visit_id="v-late", member_id=ids["m3"], specialist_id="s-1",
                  on="2026-03-06", kind="home")
    store = play([*events, visit], batch=len(events))
    assert listed_alerts(store.doc(MEMBERS, ids["m3"])) is None and store.doc(MEMBER_ALERTS, ids["m3"]) is None


def test_a_members_study_roll_is_written_with_them_and_only_when_what_it_keeps_changed():
    """`study_roll` holds, for every member, what `study_roll` makes of their facts, and their
    document says so (`study_roll`: the version); a change remote study does not weigh (a payment)
    writes no roll, an attendance does (study_queries reads the rolls)."""
    from services.reporting.adapters.documents import STUDY_ROLL, STUDY_ROLL_VERSION, facts_from_doc, study_roll
    from tests.integration.reporting.support import held, paid
    from tests.support.fake_uow import run_deferred

    ids, events = quarter_events()
    store = play(events, batch=5)
    members = store.uow.docs[MEMBERS]
    rolls = {i: {k: v for k, v in d.items() if k != "_v"} for i, d in store.uow.docs[STUDY_ROLL].items()}
    assert rolls == {i: study_roll(facts_from_doc(d, i)) for i, d in members.items()}
    assert {d["study_roll"] for d in members.values()} == {STUDY_ROLL_VERSION}
    assert any(r["present"] for r in rolls.values())

    def written(e: dict) -> set[str]:
        handlers, parsed = build_handlers(), parse_object(json.loads(json.dumps(e)))
        asyncio.run(handlers[e["type"]].handle(parsed.message, store.context(parsed.envelope)))
        store.uow.commit_message()
        asyncio.run(run_deferred(store.uow))
        out = {w.coll for w in store.uow.writes}
        store.commit()
        return out

    member, branch = ids["m1"], members[ids["m1"]]["facts"]["branch_id"]
    assert STUDY_ROLL not in written(paid(member, branch, ["2026-04"], "24.00", "2026-03-20"))
    assert STUDY_ROLL in written(held("act-late", "themed_party_day", [branch], "2026-03-25", [(member, "present")]))
    assert store.doc(STUDY_ROLL, member)["present"]["2026-03-25"] == {"in_person": 1}
