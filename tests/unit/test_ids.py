"""Ids that could not be a MongoDB collection or field name are refused by the contract's types."""
import json
import re
import uuid

import pytest
from pydantic import BaseModel, ValidationError

from shared.contracts import REGISTRY
from shared.contracts.activities import RecordActivityHeld, ScheduleActivity
from shared.contracts.members import EstablishOrganization, RecordDuesPayment, TransferMember
from shared.contracts.notifications import SendNotice
from shared.contracts.parsing import Invalid, NotEnvelope, Parsed, parse
from shared.contracts.types import ID_PATTERN, MESSAGE_ID_PATTERN, Id, MessageId

pytestmark = pytest.mark.unit


class One(BaseModel):
    some_id: Id


class Many(BaseModel):
    some_ids: list[Id]


class Msg(BaseModel):
    id: MessageId


GOOD = [str(uuid.uuid4()), "x-district", "tianehu-branch", "m-00012", "a", "x" * 128,
        "d-1f3a5b7c9d0e2f4a", "alert:m-1:2026-03", "天鹅湖支部", "a$b", "under_score"]
REFUSED = {
    "empty": "",
    "too long": "x" * 129,
    "leading dollar": "$where",
    "only dollar": "$",
    "dot": "a.b",
    "leading dot": ".a",
    "trailing dot": "a.",
    "NUL": "a\x00b",
    "tab": "a\tb",
    "newline": "a\nb",
    "escape": "a\x1bb",
    "DEL": "a\x7fb",
    "C1 control": "a\x85b",
    "space": "a b",
    "leading space": " a",
    "no-break space": "a\xa0b",
    "ideographic space": "a\u3000b",
    "line separator": "a\u2028b",
}


@pytest.mark.parametrize("value", GOOD)
def test_usual_ids_pass(value):
    assert One(some_id=value).some_id == value
    assert re.fullmatch(ID_PATTERN, value)


@pytest.mark.parametrize("name", list(REFUSED))
def test_an_id_that_cannot_be_a_mongodb_name_is_refused_naming_the_field(name):
    value = REFUSED[name]
    with pytest.raises(ValidationError) as exc:
        One(some_id=value)
    assert [e["loc"] for e in exc.value.errors()] == [("some_id",)]
    with pytest.raises(ValidationError) as exc:
        Many(some_ids=["ok", value])
    assert [e["loc"] for e in exc.value.errors()] == [("some_ids", 1)]
    # The pattern published in the AsyncAPI document says the same (length aside).
    if 1 <= len(value) <= 128:
        assert not re.fullmatch(ID_PATTERN, value)


def test_messages_say_what_is_wrong():
    def message(v):
        with pytest.raises(ValidationError) as exc:
            One(some_id=v)
        return exc.value.errors()[0]["msg"]

    assert "'$'" in message("$x")
    assert "'.'" in message("a.b")
    assert "control" in message("a\x00b")
    assert "whitespace" in message("a b")


def test_a_number_is_not_an_id():
    with pytest.raises(ValidationError):
        One(some_id=12)


def test_a_message_id_refuses_control_characters_only():
    for v in [str(uuid.uuid4()), "c-1", "a.b", "$x", "a b", "x" * 128]:
        assert Msg(id=v).id == v
        assert re.fullmatch(MESSAGE_ID_PATTERN, v)
    for v in ["", "x" * 129, "a\x00b", "a\nb", "a\x7f", "a\x9f"]:
        with pytest.raises(ValidationError) as exc:
            Msg(id=v)
        assert exc.value.errors()[0]["loc"] == ("id",)


def env(type_, data, **over):
    return json.dumps({"id": "c-1", "type": type_, "occurred_at": "2026-01-05T10:00:00+08:00",
                       "district": "x-district", "source": "t", "data": data, **over}).encode()


def _fields(result) -> list[str]:
    assert isinstance(result, Invalid), result
    return [e["field"] for e in result.errors]


@pytest.mark.parametrize(("type_", "data", "field"), [
    ("EstablishOrganization", {"org_id": "x.district", "name": "X", "kind": "district"}, "data.org_id"),
    ("EstablishOrganization", {"org_id": "c-1", "name": "C", "kind": "community", "parent_id": "$s"},
     "data.parent_id"),
    ("AppointSecretary", {"branch_id": "b 1", "member_id": "m-1"}, "data.branch_id"),
    ("TransferMember", {"member_id": "m-1", "on": "2026-03-01", "to_branch_id": "b\x00"}, "data.to_branch_id"),
    ("RecordDuesPayment", {"payment_id": "p.1", "member_id": "m-1", "from_month": "2026-01",
                           "to_month": "2026-01", "amount": "1.00", "paid_on": "2026-01-05"}, "data.payment_id"),
    ("GrantAward", {"award_id": "aw-1", "year": 2026, "category": "model_branch", "subject_id": "$b"},
     "data.subject_id"),
    ("RegisterVenue", {"venue_id": "v-1", "name": "V", "org_id": "c\t1", "capacity": 3}, "data.org_id"),
    ("ScheduleActivity", {"activity_id": "a-1", "kind": "study", "title": "t", "branch_ids": ["b-1", "b.2"],
                          "starts_at": "2026-03-01T09:00:00+08:00", "ends_at": "2026-03-01T10:00:00+08:00"},
     "data.branch_ids.1"),
    ("RecordActivityHeld", {"activity_id": "a-1", "attendance": [{"member_id": "$m", "status": "present"}]},
     "data.attendance.0.member_id"),
    ("LogVolunteerHours", {"entry_id": "e.1", "member_id": "m-1", "team": "t", "hours": "1",
                           "on": "2026-03-01"}, "data.entry_id"),
    ("RecordVisit", {"visit_id": "v-1", "member_id": "m-1", "specialist_id": "sp 1", "on": "2026-03-01",
                     "kind": "home"}, "data.specialist_id"),
    ("SendNotice", {"notice_id": "n-1", "title": "t", "body": "b", "category": "document",
                    "audience": {"org_ids": ["x.district"]}}, "data.audience.org_ids.0"),
    ("SendNotice", {"notice_id": "n-1", "title": "t", "body": "b", "category": "document",
                    "audience": {"member_ids": ["m-1", "m\n2"]}}, "data.audience.member_ids.1"),
    ("RecordFeedback", {"feedback_id": "$f", "member_id": "m-1", "text": "好"}, "data.feedback_id"),
])
def test_a_command_with_a_bad_id_is_invalid_naming_the_field(type_, data, field):
    assert _fields(parse(env(type_, data))) == [field]


def test_the_same_commands_with_usual_ids_parse():
    for cls, data in [
        (EstablishOrganization, {"org_id": "x-district", "name": "X", "kind": "district"}),
        (TransferMember, {"member_id": "m-00012", "on": "2026-03-01", "to_branch_id": "tianehu-branch"}),
        (RecordDuesPayment, {"payment_id": str(uuid.uuid4()), "member_id": "m-00012", "from_month": "2026-01",
                             "to_month": "2026-01", "amount": "1.00", "paid_on": "2026-01-05"}),
        (ScheduleActivity, {"activity_id": "a-1", "kind": "study", "title": "t",
                            "branch_ids": ["tianehu-branch", "b-2"], "starts_at": "2026-03-01T09:00:00+08:00",
                            "ends_at": "2026-03-01T10:00:00+08:00"}),
        (RecordActivityHeld, {"activity_id": "a-1", "attendance": [{"member_id": "m-00012", "status": "present"}]}),
        (SendNotice, {"notice_id": "n-1", "title": "t", "body": "b", "category": "document",
                      "audience": {"org_ids": ["x-district"], "member_ids": ["m-00012"]}}),
    ]:
        result = parse(env(cls.TYPE, data))
        assert isinstance(result, Parsed), getattr(result, "errors", result)


def test_events_refuse_bad_ids_too():
    cls = REGISTRY[("MemberDied", 1)]
    with pytest.raises(ValidationError) as exc:
        cls.model_validate({"member_id": "m-1", "branch_id": "b.1", "on": "2026-03-01"})
    assert [e["loc"] for e in exc.value.errors()] == [("branch_id",)]


def test_the_envelope_id_allows_dots_but_no_control_characters():
    ok = {"org_id": "x-district", "name": "X", "kind": "district"}
    assert isinstance(parse(env("EstablishOrganization", ok, id="cmd.1")), Parsed)
    result = parse(env("EstablishOrganization", ok, id="c\x001"))
    assert isinstance(result, NotEnvelope) and "id" in result.reason


def test_the_simulator_and_the_test_scenarios_make_valid_ids():
    from simulator.ids import Ids
    from tests.support.scenario import uid

    ids = Ids(7)
    for kind in ["d", "s", "c", "b", "v", "sp", "m", "p", "vis", "a", "vh", "n", "f", "aw"]:
        for name in ["0", "district", "3/2025-01", "team/义务血压站/4"]:
            assert One(some_id=ids.of(kind, name))
    assert One(some_id=uid("m")) and Msg(id=ids.message("RegisterMember/m-1"))
