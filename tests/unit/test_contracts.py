"""Contract tests: every message type is defined once, parses strictly and round-trips."""
import json
from decimal import Decimal

import pytest

from shared.contracts import REGISTRY
from shared.contracts.members import RegisterMember
from shared.contracts.parsing import Invalid, NotEnvelope, Parsed, derived_id, parse
from shared.topics import COMMAND_TOPICS, EVENT_TOPICS

pytestmark = pytest.mark.unit

CONTRACT_TYPES = {
    "members.commands": "EstablishOrganization AppointSecretary RegisterMember UpdateMemberProfile TransferMember "
                        "MarkMemberAway MarkMemberReturned ExemptMember RecordMemberDeath RecordDuesPayment "
                        "AssignSpecialist RecordEvaluation RateBranch MergeBranches GrantAward "
                        "AppointCommitteeMember RemoveCommitteeMember RecordElection RecordTrainingSession "
                        "RecordTrainingAttendance RecordSecretaryAssessment SetSecretaryAllowance "
                        "RecordAllowancePayment "
                        "RecordBranchFunds RecordBranchSpending GradeBranch RecordStudyAccount RecordStudyUse "
                        "RecordPartyApplication AdvanceApplicant SetBackApplicant "
                        "DissolveBranch MoveBranch ChangeBranchSettings",
    "activities.commands": "RegisterVenue ScheduleActivity RecordActivityHeld RecordAttendance CancelActivity "
                           "LogVolunteerHours RecordVisit "
                           "RegisterVolunteerTeam JoinVolunteerTeam LeaveVolunteerTeam AppointTeamLeader "
                           "OpenServiceRequest AssignServiceRequest ResolveServiceRequest RecordFacilityDemand",
    "notifications.commands": "SendNotice AcknowledgeNotice RecordFeedback CompleteDoorDelivery",
    "members.events": "OrganizationEstablished SecretaryAppointed MemberRegistered MemberProfileUpdated "
                      "MemberTransferred MemberMarkedAway MemberReturned MemberExempted MemberDied DuesPaid "
                      "SpecialistAssigned EvaluationRecorded BranchRated BranchesMerged AwardGranted "
                      "CommitteeMemberAppointed CommitteeMemberRemoved ElectionRecorded TrainingSessionRecorded "
                      "TrainingAttendanceRecorded SecretaryAssessed SecretaryAllowanceSet AllowancePaid "
                      "BranchFundsReceived BranchSpendingRecorded BranchGraded StudyAccountRecorded "
                      "StudyUseRecorded PartyApplicationRecorded ApplicantAdvanced ApplicantSetBack "
                      "BranchDissolved BranchMoved BranchSettingsChanged",
    "activities.events": "VenueRegistered ActivityScheduled ActivityHeld AttendanceRecorded ActivityCancelled "
                         "VolunteerHoursLogged VisitRecorded "
                         "VolunteerTeamRegistered VolunteerTeamMemberJoined VolunteerTeamMemberLeft TeamLeaderAppointed "
                         "ServiceRequestOpened ServiceRequestAssigned ServiceRequestResolved FacilityDemandRecorded",
    "notifications.events": "NoticeCreated NoticeAddressed NotificationDispatched NotificationDelivered NotificationFailed "
                            "DoorDeliveryAssigned DoorDeliveryCompleted NoticeAcknowledged FeedbackReceived",
    "reporting.events": "AlertRaised AlertCleared PeriodReportPublished",
}


def env(type_, data, **over):
    return json.dumps({"id": "c-1", "type": type_, "occurred_at": "2026-01-05T10:00:00+08:00",
                       "district": "x-district", "source": "t", "data": data, **over}).encode()


def member(**over):
    return {"member_id": "m1", "name": "王秀英", "gender": "female", "birth_date": "1948-03-02",
            "branch_id": "b1", "joined_party_on": "1972-07-01", "monthly_pension": "4800.00", **over}


@pytest.mark.parametrize("topic", list(CONTRACT_TYPES))
def test_every_contract_type_is_defined_on_its_topic(topic):
    for name in CONTRACT_TYPES[topic].split():
        cls = REGISTRY[(name, 1)]
        assert cls.TOPIC == topic, name
        assert cls.KIND == ("command" if topic in COMMAND_TOPICS else "event")
        assert cls.KEY in cls.model_fields, f"{name} keys on {cls.KEY}, which it lacks"
    assert topic in COMMAND_TOPICS + EVENT_TOPICS


def test_every_registered_type_is_in_the_contract_list():
    listed = {name for names in CONTRACT_TYPES.values() for name in names.split()} | {"CommandRejected"}
    assert {t for t, _v in REGISTRY} == listed


def test_command_rejected_has_the_contract_fields():
    assert set(REGISTRY[("CommandRejected", 1)].model_fields) == {"command_id", "command_type", "reason", "errors"}


def test_a_valid_command_parses_with_money_as_decimal():
    result = parse(env("RegisterMember", member()))
    assert isinstance(result, Parsed)
    assert result.message.monthly_pension == Decimal("4800.00")
    assert result.message.to_data()["monthly_pension"] == "4800.00"


@pytest.mark.parametrize("value", ["garbage", b"\xff\xfe", "[1,2]", '{"type": "RegisterMember"}', '{"id": ""}'])
def test_not_an_envelope(value):
    assert isinstance(parse(value if isinstance(value, bytes) else value.encode()), NotEnvelope)


@pytest.mark.parametrize("data,field", [
    (member(monthly_pension=4800.5), "data.monthly_pension"),  # a float is never money
    (member(monthly_pension="48.001"), "data.monthly_pension"),
    (member(birth_date="1948-02-30"), "data.birth_date"),
    (member(birth_date="02/03/1948"), "data.birth_date"),
    (member(gender="m"), "data.gender"),
    (member(nickname="老王"), "data.nickname"),  # unknown fields are refused
    ({k: v for k, v in member().items() if k != "name"}, "data.name"),
])
def test_field_level_errors(data, field):
    result = parse(env("RegisterMember", data))
    assert isinstance(result, Invalid)
    assert field in [e["field"] for e in result.errors]


def test_unknown_type_and_version_and_bad_header():
    assert parse(env("RegisterAlien", {})).errors[0]["field"] == "type"
    assert parse(env("RegisterMember", member(), schema_version=9)).errors[0]["field"] == "schema_version"
    assert parse(env("RegisterMember", member(), occurred_at="2026-01-05T10:00:00")).errors[0]["field"] == "occurred_at"


def test_month_and_alias_fields():
    ok = parse(env("MarkMemberAway", {"member_id": "m1", "from": "2026-11-01", "location": "三亚", "reason": "seasonal"}))
    assert isinstance(ok, Parsed) and ok.message.to_data()["from"] == "2026-11-01"
    bad = parse(env("RecordDuesPayment", {"payment_id": "p", "member_id": "m", "from_month": "2026-13",
                                          "to_month": "2026-01", "amount": "1.00", "paid_on": "2026-01-01"}))
    assert bad.errors[0]["field"] == "data.from_month"


def test_derived_ids_are_stable_and_distinct():
    assert derived_id("c-1", 1) == derived_id("c-1", 1) != derived_id("c-1", 2)
    assert derived_id("c-1", 1, by="sunsetred-a") == derived_id("c-1", 1, by="sunsetred-a") != derived_id(
        "c-1", 1, by="sunsetred-b")


def test_register_member_has_every_contract_field():
    fields = ("member_id name gender birth_date branch_id joined_party_on registered_on retired_on former_unit "
              "former_rank phone wechat_openid email preferred_channel lives_alone health specialties "
              "service_needs monthly_pension dues_paid_through").split()
    assert set(fields) == set(RegisterMember.model_fields)


def test_published_asyncapi_document_matches_the_models():
    """docs/asyncapi.json is generated from the models (`make asyncapi`); it must not drift."""
    from pathlib import Path

    from shared.asyncapi import document

    published = json.loads((Path(__file__).resolve().parents[2] / "docs/asyncapi.json").read_text())
    assert published == json.loads(json.dumps(document(), ensure_ascii=False)), "run `make asyncapi`"


@pytest.mark.parametrize("value", [24, 24.0, True, "24,00", "1e3"])
def test_money_is_only_a_decimal_string(value):
    result = parse(env("RegisterMember", member(monthly_pension=value)))
    assert isinstance(result, Invalid) and result.errors[0]["field"] == "data.monthly_pension"


@pytest.mark.parametrize("text", ["10", "100", "1000", "2.5", "0.25", "0", "680", "10.5"])
def test_round_hours_travel_in_plain_notation_both_ways(text):
    """Decimal("10") once left as "1E+1", which our own consumers refused: the hours were lost."""
    from shared.contracts.activities import LogVolunteerHours

    cmd = LogVolunteerHours.model_validate({"entry_id": "e-1", "member_id": "m-1", "team": "义剪",
                                            "hours": text, "on": "2025-03-01"})
    out = cmd.to_data()["hours"]
    assert "E" not in out and LogVolunteerHours.model_validate({**cmd.to_data()}).hours == cmd.hours
    assert out == text


@pytest.mark.parametrize("amount", ["10.00", "100.00", "1000.00", "24.50", "0.00"])
def test_round_money_travels_with_two_places_both_ways(amount):
    from decimal import Decimal

    from shared.contracts.members import RecordDuesPayment

    cmd = RecordDuesPayment.model_validate({"payment_id": "p-1", "member_id": "m-1", "from_month": "2025-01",
                                            "to_month": "2025-01", "amount": amount, "paid_on": "2025-01-05"})
    assert cmd.to_data()["amount"] == amount
    assert RecordDuesPayment.model_validate(cmd.to_data()).amount == Decimal(amount)


def test_an_allowance_is_money_and_a_month_is_a_month():
    bad = parse(env("RecordAllowancePayment", {"payment_id": "p", "branch_id": "b", "member_id": "m",
                                               "from_month": "2025-1", "to_month": "2025-03", "amount": 900,
                                               "paid_on": "2025-04-08"}))
    assert isinstance(bad, Invalid) and [e["field"] for e in bad.errors] == ["data.from_month", "data.amount"]
    ok = parse(env("SetSecretaryAllowance", {"branch_id": "b", "from_month": "2025-01", "monthly_amount": "300"}))
    assert isinstance(ok, Parsed) and ok.message.to_data()["monthly_amount"] == "300.00"
