"""The members service layer, message by message, against the in-memory unit of work (no I/O)."""
import pytest

from services.members.adapters.documents import AUDIT, MEMBERS, ORGS, PAYMENTS, member_from_doc, org_from_doc
from services.members.handlers import HANDLERS
from shared.topics import MEMBERS_EVENTS
from tests.support.fake_uow import FakeUnitOfWork, handle, refusal
from tests.support.messages import envelope
from tests.support.scenario import register, tree

pytestmark = pytest.mark.unit


async def run(uow: FakeUnitOfWork, env: dict) -> list[dict]:
    return await handle(HANDLERS, env, uow)


async def refused(uow: FakeUnitOfWork, env: dict) -> tuple[str, list[str]]:
    return await refusal(HANDLERS, env, uow)


async def stored_tree(n_branches: int = 1) -> tuple[dict, FakeUnitOfWork]:
    """A tree established and committed: a fresh unit of work over the stored documents (with `_v`)."""
    ids, cmds = tree(n_branches)
    uow = FakeUnitOfWork()
    for cmd in cmds:
        await run(uow, cmd)
    uow.commit()
    return ids, FakeUnitOfWork(uow.docs)


async def test_establishing_a_tree_stages_each_org_with_its_ancestors():
    ids, cmds = tree(1)
    uow = FakeUnitOfWork()
    events = [e for cmd in cmds for e in await run(uow, cmd)]
    assert [e["type"] for e in events] == ["OrganizationEstablished"] * 4
    b = ids["branches"][0]
    branch = org_from_doc(uow.pending(ORGS)[b])
    assert (branch.kind, branch.parent_id) == ("branch", ids["community"])
    assert branch.ancestors == [ids["district"], ids["subdistrict"], ids["community"]]
    assert [r.key for r in uow.outbox] == [i.encode() for i in (ids["district"], ids["subdistrict"],
                                                                 ids["community"], b)]


async def test_register_a_member_into_a_stored_branch():
    ids, uow = await stored_tree()
    b = ids["branches"][0]
    cmd = register(b)
    m = cmd["data"]["member_id"]
    loads = uow.loads
    [ev] = await run(uow, cmd)
    assert uow.loads == loads + 2  # what `wants` declared, one query per collection, nothing more

    member = member_from_doc(uow.pending(MEMBERS)[m])
    assert (member.branch_id, member.registered_on, member.status) == (b, "2026-01-05", "resident")
    assert member.org_path == [ids["district"], ids["subdistrict"], ids["community"], b]
    assert uow.pending(MEMBERS)[m]["name"] == "王秀英"
    assert "_v" not in uow.pending(ORGS)[b]  # the stored version stays with the unit of work
    assert uow.pending(ORGS)[b]["member_ids"] == [m]
    assert set(uow.pending(AUDIT)) == {f"{cmd['id']}/{m}", f"{cmd['id']}/{b}"}

    assert (ev["type"], ev["causation_id"], ev["data"]["member_id"], ev["data"]["branch_id"]) == (
        "MemberRegistered", cmd["id"], m, b)
    assert ev["data"]["ancestors"] == member.org_path
    assert ev["data"]["dues_year"] == 2026
    [record] = uow.outbox
    assert (record.topic, record.key) == (MEMBERS_EVENTS, m.encode())

    uow.commit()
    assert uow.docs[MEMBERS][m]["_v"] == 1 and uow.docs[ORGS][b]["_v"] == 2


async def test_an_opening_balance_is_carried_on_member_registered():
    # contract: RegisterMember's optional dues_paid_through (YYYY-MM) travels on MemberRegistered
    ids, uow = await stored_tree()
    cmd = register(ids["branches"][0])
    cmd["data"]["dues_paid_through"] = "2025-12"
    [ev] = await run(uow, cmd)
    assert ev["data"]["dues_paid_through"] == "2025-12"
    plain = register(ids["branches"][0], member_id="m-plain")
    [ev] = await run(uow, plain)
    assert ev["data"].get("dues_paid_through") is None


async def test_a_member_of_an_unknown_branch_is_an_unknown_reference():
    _ids, uow = await stored_tree()
    assert await refused(uow, register("b-nowhere")) == ("unknown_reference", ["data.branch_id"])
    assert uow.writes == [] and uow.outbox == []


async def test_a_member_registers_once():
    ids, uow = await stored_tree()
    cmd = register(ids["branches"][0])
    await run(uow, cmd)
    again = register(ids["branches"][0], member_id=cmd["data"]["member_id"], name="李建国")
    assert await refused(uow, again) == ("duplicate", ["data.member_id"])
    assert uow.pending(MEMBERS)[cmd["data"]["member_id"]]["name"] == "王秀英"
    assert len(uow.outbox) == 1


async def test_a_later_batch_reads_what_an_earlier_one_stored():
    ids, uow = await stored_tree()
    cmd = register(ids["branches"][0])
    await run(uow, cmd)
    uow.commit()
    later = FakeUnitOfWork(uow.docs)
    assert await refused(later, register(ids["branches"][0], member_id=cmd["data"]["member_id"])) == (
        "duplicate", ["data.member_id"])


async def test_dues_payment_is_assessed_and_a_repeated_payment_id_refused():
    ids, uow = await stored_tree()
    m = (reg := register(ids["branches"][0]))["data"]["member_id"]
    await run(uow, reg)
    pay = envelope("RecordDuesPayment", {"payment_id": "p-1", "member_id": m, "from_month": "2026-01",
                                         "to_month": "2026-03", "amount": "72.00", "paid_on": "2026-01-20"})
    [ev] = await run(uow, pay)
    d = ev["data"]
    assert (ev["type"], d["months"], d["expected_amount"], d["comparison"], d["double_payment"]) == (
        "DuesPaid", ["2026-01", "2026-02", "2026-03"], "72.00", "exact", False)
    assert uow.outbox[-1].key == m.encode()
    assert uow.pending(MEMBERS)[m]["paid_months"] == ["2026-01", "2026-02", "2026-03"]
    assert uow.pending(PAYMENTS)["p-1"]["member_id"] == m

    [ev] = await run(uow, envelope("RecordDuesPayment", {
        "payment_id": "p-2", "member_id": m, "from_month": "2026-03", "to_month": "2026-04", "amount": "48.00",
        "paid_on": "2026-04-02"}))
    assert (ev["data"]["already_paid_months"], ev["data"]["double_payment"], ev["data"]["comparison"]) == (
        ["2026-03"], True, "over")
    assert await refused(uow, {**pay, "id": "again"}) == ("duplicate", ["data.payment_id"])
    assert await refused(uow, envelope("RecordDuesPayment", {
        "payment_id": "p-3", "member_id": "m-nobody", "from_month": "2026-01", "to_month": "2026-01",
        "amount": "24.00", "paid_on": "2026-01-20"})) == ("unknown_reference", ["data.member_id"])


async def test_merging_branches_moves_their_members():
    ids, uow = await stored_tree(2)
    source, target = ids["branches"]
    regs = [register(source) for _ in range(2)]
    for r in regs:
        await run(uow, r)
    uow.commit()
    uow = FakeUnitOfWork(uow.docs)
    events = await run(uow, envelope("MergeBranches", {"from_branch_id": source, "into_branch_id": target,
                                                       "on": "2026-06-30"}))
    moved = [r["data"]["member_id"] for r in regs]
    assert [e["type"] for e in events] == ["MemberTransferred", "MemberTransferred", "BranchesMerged"]
    assert {m: uow.pending(MEMBERS)[m]["branch_id"] for m in moved} == {m: target for m in moved}
    assert uow.pending(ORGS)[source]["merged_into"] == target
    assert uow.pending(ORGS)[target]["member_ids"] == moved


@pytest.mark.parametrize("from_doc, doc", [
    (org_from_doc, {"_id": "o1", "_v": 4, "name": "支部", "kind": "branch", "parent_id": "c1"}),
    (member_from_doc, {"_id": "m1", "_v": 4, "name": "王秀英", "branch_id": "b1", "profile": {"name": "王秀英"},
                       "registered_on": "2026-01-05"}),
])
def test_documents_read_from_the_database_load_with_their_version(from_doc, doc):
    assert from_doc(doc) is not None
