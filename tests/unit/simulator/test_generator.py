"""The simulator's district: deterministic, valid by the contract, and following the rules it plays."""
import json
from collections import Counter, defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from shared.contracts import Envelope, lookup
from shared.periods import parse_period
from shared.rules.org_life import required
from simulator.sources import FromFile, Generated, write
from simulator.tally import figures

pytestmark = pytest.mark.unit


def draw(seed=11, members=120):
    source = Generated(seed, members, 2025)
    phases = [(p.name, p.commands) for p in source.phases()]
    return source, phases


@pytest.fixture(scope="module")
def drawn():
    return draw()


def all_cmds(phases):
    return [c for _, cmds in phases for c in cmds]


def test_same_seed_same_district_other_seed_other_ids():
    _, a = draw(5, 60)
    _, b = draw(5, 60)
    _, c = draw(6, 60)
    envs = lambda phases: [json.dumps(x.envelope, ensure_ascii=False) for x in all_cmds(phases)]
    assert envs(a) == envs(b)
    ids_a = {x.id for x in all_cmds(a)}
    assert not ids_a & {x.id for x in all_cmds(c)}


def test_every_command_is_valid_by_the_contract(drawn):
    _, phases = drawn
    cmds = all_cmds(phases)
    assert len({c.id for c in cmds}) == len(cmds), "message ids must be unique"
    for c in cmds:
        env = Envelope.model_validate(c.envelope)
        cls = lookup(env.type)
        assert cls is not None and cls.KIND == "command", env.type
        msg = cls.model_validate(env.data)
        assert c.topic == cls.TOPIC and c.key == msg.key()


def test_references_are_created_in_an_earlier_phase(drawn):
    _, phases = drawn
    orgs_before, members_before, activities_before = set(), set(), set()
    for _, cmds in phases:
        for c in cmds:
            d = c.envelope["data"]
            if c.type == "EstablishOrganization" and d["parent_id"]:
                assert d["parent_id"] in orgs_before
            if c.type == "RegisterMember":
                assert d["branch_id"] in orgs_before
            if c.type == "AppointSecretary":
                assert d["member_id"] in members_before and d["branch_id"] in orgs_before
            if c.type in ("MarkMemberAway", "RecordDuesPayment", "RecordVisit", "AcknowledgeNotice",
                          "RecordFeedback", "LogVolunteerHours", "RecordMemberDeath"):
                assert d["member_id"] in members_before, c.type
            if c.type == "LogVolunteerHours":
                assert d["activity_id"] in activities_before
        activities_before |= {c.envelope["data"]["activity_id"] for c in cmds if c.type == "ScheduleActivity"}
        orgs_before |= {c.envelope["data"]["org_id"] for c in cmds if c.type == "EstablishOrganization"}
        members_before |= {c.envelope["data"]["member_id"] for c in cmds if c.type == "RegisterMember"}


def test_the_district_of_the_report(drawn):
    source, _ = drawn
    w = source.world
    names = [b.short for b in w.branches[:8]]
    assert names == ["天鹅湖", "怡园", "欧美亚", "军安", "世茂滨江", "世纪花园", "宜和园", "北岸明珠"]
    kinds = {s.kind for s in w.subdistricts}
    assert kinds == {"subdistrict", "town"}
    gaps = {g: b.short for b in w.branches for g in b.gaps}
    assert gaps == {"no_secretary": "欧美亚", "too_small": "北岸明珠", "skips_committee": "世茂滨江"}
    assert w.branches[7].size < 3 and w.branches[2].secretary_id is None
    for m in w.members:
        age = 2025 - m.birth_date.year - ((m.birth_date.month, m.birth_date.day) > (1, 1))
        assert 65 <= age <= 95
        assert m.joined_party_on.year - m.birth_date.year >= 18
    winter = sum(m.winters_away for m in w.members) / len(w.members)
    assert 0.2 <= winter <= 0.45
    assert any(m.lives_alone for m in w.members) and any(m.phone is None for m in w.members)


def test_winter_birds_go_to_sanya_in_november_and_come_back_in_march(drawn):
    _, phases = drawn
    aways = [c.envelope["data"] for c in all_cmds(phases) if c.type == "MarkMemberAway"]
    seasonal = [a for a in aways if a["reason"] == "seasonal"]
    assert seasonal and all(a["location"] == "海南三亚" and a["from"][5:7] == "11" for a in seasonal)
    returns = [c.envelope["data"] for c in all_cmds(phases) if c.type == "MarkMemberReturned"]
    assert {r["on"][5:7] for r in returns} <= {"03", "08"}


def test_organisational_life_meets_the_rules_except_the_planned_gaps(drawn):
    source, _ = drawn
    w, t = source.world, source.tally
    year = parse_period("2025")
    for b in w.branches:
        held = Counter(kind for kind, _ in t.held[b.org_id])
        need = required(year, has_committee=b.has_committee, party_groups=b.party_groups)
        short = {k: n - held[k] for k, n in need.items() if held[k] < n}
        if "no_secretary" in b.gaps:
            assert short.keys() >= {"themed_party_day", "branch_assembly", "democratic_evaluation"}
        elif "skips_committee" in b.gaps:
            assert set(short) == {"committee_meeting"}
        else:
            assert short == {}, b.name


def test_dues_follow_the_2008_rule_and_cover_at_most_six_months(drawn):
    source, phases = drawn
    for c in all_cmds(phases):
        if c.type != "RecordDuesPayment":
            continue
        d = c.envelope["data"]
        m = source.world.member(d["member_id"])
        y1, m1 = map(int, d["from_month"].split("-"))
        y2, m2 = map(int, d["to_month"].split("-"))
        n = (y2 - y1) * 12 + m2 - m1 + 1
        assert 1 <= n <= 6
        rate = Decimal("0.005") if m.monthly_pension <= 5000 else Decimal("0.01")
        monthly = (m.monthly_pension * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert Decimal(d["amount"]) == monthly * n
    s = source.outcome()["summary"]["dues"]
    assert 0 < s["member_months_paid"] < s["member_months_due"], "some arrears, most paid"


def test_nothing_is_sent_about_a_member_after_death_or_transfer(drawn):
    source, phases = drawn
    gone = {m.member_id: (m.died_on or m.transferred_on) for m in source.world.members
            if m.died_on or m.transferred_on}
    assert gone
    for c in all_cmds(phases):
        mid = c.envelope["data"].get("member_id")
        if mid in gone and c.type not in ("RecordMemberDeath", "TransferMember"):
            assert date.fromisoformat(c.occurred_at[:10]) < gone[mid], c.type


def test_intended_figures_agree_with_the_commands_sent(drawn):
    """Recount members per branch and away members from the commands alone, as a service would."""
    source, phases = drawn
    jan31, dec31 = date(2025, 1, 31), date(2025, 12, 31)
    branch_of, registered_on, gone_on, spells = {}, {}, {}, defaultdict(list)
    for c in all_cmds(phases):
        d = c.envelope["data"]
        if c.type == "RegisterMember":
            branch_of[d["member_id"]], registered_on[d["member_id"]] = d["branch_id"], d["registered_on"]
        elif c.type in ("RecordMemberDeath", "TransferMember"):
            gone_on[d["member_id"]] = d["on"]
        elif c.type == "MarkMemberAway":
            spells[d["member_id"]].append([d["from"], None])
        elif c.type == "MarkMemberReturned":
            spells[d["member_id"]][-1][1] = d["on"]

    def registered(mid, day):
        return registered_on[mid] <= day.isoformat() and (mid not in gone_on or day.isoformat() < gone_on[mid])

    def away(mid, day):
        return any(f <= day.isoformat() and (r is None or day.isoformat() < r) for f, r in spells[mid])

    w = source.world
    for b in w.branches:
        expected = figures(w, source.tally, [b.org_id], parse_period("2025"))
        mids = [m for m, bid in branch_of.items() if bid == b.org_id]
        assert expected["members.registered"] == sum(registered(m, dec31) for m in mids)
        jan = figures(w, source.tally, [b.org_id], parse_period("2025-01"))
        assert jan["members.away"] == sum(registered(m, jan31) and away(m, jan31) for m in mids)
    s = source.outcome()["summary"]["members"]
    assert s["away_end_of_january"] == sum(registered(m, jan31) and away(m, jan31) for m in branch_of) > 0


def test_the_district_rolls_up_its_branches(drawn):
    source, _ = drawn
    exp = source.outcome()["expectations"]
    year = [e for e in exp if e["period"] == "2025"]
    district = next(e for e in year if e["kind"] == "district")["figures"]
    branches = [e["figures"] for e in year if e["kind"] == "branch"]
    for key in ("members.registered", "members.away", "dues.member_months_paid", "participation.active",
                "notices.sent", "notices.acknowledged"):
        assert district[key] == sum(b[key] for b in branches)
    pairs = source.tally.notice_pairs
    assert district["notices.sent"] == len(pairs) > district["notices.acknowledged"] == sum(p[2] for p in pairs) > 0


@pytest.mark.parametrize("name", ["district.jsonl", "district.jsonl.gz"])
def test_a_written_file_replays_the_same_commands(tmp_path, name):
    source = Generated(9, 40, 2025)
    path = tmp_path / name
    n = write(source, path)
    again = FromFile(path)
    replayed = [c for p in again.phases() for c in p.commands]
    assert len(replayed) == n
    _, phases = draw(9, 40)
    assert [c.envelope for c in replayed] == [c.envelope for c in all_cmds(phases)]
    assert again.outcome() == json.loads(json.dumps(source.outcome(), ensure_ascii=False))


def test_members_registered_before_the_year_bring_an_opening_balance(drawn):
    # contract: RegisterMember.dues_paid_through; the paper ledger's members have paid up to the
    # end of the year before, members who join during the year have no opening balance
    _, phases = drawn
    regs = [c.envelope["data"] for c in all_cmds(phases) if c.type == "RegisterMember"]
    before = [d for d in regs if d["registered_on"] < "2025-01-01"]
    assert before and all(d["dues_paid_through"] == "2024-12" for d in before)
    assert all("dues_paid_through" not in d for d in regs if d["registered_on"] >= "2025-01-01")
    for c in all_cmds(phases):
        if c.type == "RegisterMember":
            lookup(c.type).model_validate(c.envelope["data"])
