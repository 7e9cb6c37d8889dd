"""Bad input on every commands topic, and the account of what became of each message.

A fuzz session first builds a small tree of its own (a district down to two branches, two members,
a venue, an activity, a notice), so that well-formed commands name things that exist and are
answered at once (never held for `REFERENCE_WAIT`). Then it sends `n` messages on each commands
topic, drawn from a seed, of these kinds:

- `not_json`      bytes that are not JSON, invalid UTF-8, an empty or null record, JSON that is not
                  an object, JSON nested deeper than a parser will go;
- `wrong_types`   an envelope or data field of the wrong type;
- `dollar_dots`   `$`-operators and dots in ids, field names and values;
- `big`           bodies of about 1 MB (padding, a huge list of specialties or facilities);
- `unknown`       unknown types, another topic's type, an event's type, unknown schema versions;
- `repeated_id`   an id sent again with a different body;
- `dates`         dates and instants out of range (year 0, 9999 with an offset, 2025-02-30…);
- `unicode`       Chinese text with emoji, control characters, bidi marks and lone surrogates.

The account: every message must end either answered (a CommandRejected with a reason, or the
events of its acceptance; a repeated id is answered once, by whichever copy came first) or on
`<topic>.dlq` with `x-dlq-reason` and `x-dlq-error` headers, found by its original partition and
offset. What the service could not even read as an envelope must be on the dead-letter topic.
"""
import asyncio
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from aiokafka.errors import KafkaError

from chaos.observe import Log
from chaos.stream import Publisher
from shared.contracts.parsing import NotEnvelope, parse
from shared.topics import ACTIVITIES_COMMANDS, MEMBERS_COMMANDS, NOTIFICATIONS_COMMANDS

KINDS = {"not_json": 14, "wrong_types": 18, "dollar_dots": 15, "big": 2, "unknown": 10, "repeated_id": 10,
         "dates": 16, "unicode": 15}
BIG = 1_000_000  # bytes: just under the broker's default limit of a record (message.max.bytes)
REASONS = {"invalid", "unknown_reference", "conflict", "duplicate", "not_allowed"}
TEXTS = ["王秀英👵🏻", "\u0000\u0007\u001b[31m红色\u001b[0m", "学习\u202e反转\u202c二十大精神", "\ufeff零宽\u200d连接\u200b",
         "𠀀𪚥𰻞", "党员👨‍👩‍👧‍👦之家🇨🇳", "换行\n回车\r制表\t", "\x7f\x85\x9f", "'; db.dropDatabase(); //", "<script>alert(1)</script>",
         "\\u0000", "%s%n%x", "🀄" * 50, "ً" * 30, "A" * 200]


@dataclass
class Sent:
    topic: str
    kind: str
    id: str | None  # the id the service sees (None: not an envelope: it must be dead-lettered)
    partition: int = -1
    offset: int = -1
    refused: str | None = None  # the broker would not take it (it never reached a service)
    unsent: str | None = None  # the suite's own publisher failed to send it: nothing was tested
    type: str | None = None  # the message type the service sees, if it sees one


@dataclass
class Account:
    sent: int = 0
    by_kind: Counter = field(default_factory=Counter)
    rejected: int = 0
    dead_lettered: int = 0
    accepted: int = 0
    repeated: int = 0  # a repeated id, answered by its first copy
    refused: list = field(default_factory=list)  # by the broker itself: never reached a service
    unsent: list = field(default_factory=list)  # the suite failed to send them (finding 34): a failure
    unanswered: list = field(default_factory=list)
    without_reason: list = field(default_factory=list)
    reasons: Counter = field(default_factory=Counter)
    dlq_reasons: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def table(self) -> dict:
        return {"sent": self.sent, "rejected": self.rejected, "dead_lettered": self.dead_lettered,
                "accepted": self.accepted, "repeated_id": self.repeated, "unanswered": len(self.unanswered),
                "without_reason": len(self.without_reason), "refused_by_broker": len(self.refused),
                "examples_refused": self.refused[:5], "unsent": len(self.unsent),
                "examples_unsent": self.unsent[:5], "reasons": dict(self.reasons),
                "dlq_reasons": dict(self.dlq_reasons), "by_kind": dict(self.by_kind), "seconds": self.seconds,
                "unanswered_by_type": dict(Counter(str(u.get("type")) for u in self.unanswered)),
                "examples_unanswered": self.unanswered[:200], "examples_without_reason": self.without_reason[:10]}


class Fuzzer:
    def __init__(self, seed: int, per_topic: int):
        self.rng = random.Random(seed)
        self.per_topic = per_topic
        self.tag = f"fz{seed}"
        r = self.rng
        h = lambda: f"{r.getrandbits(40):010x}"
        self.ids = {"district": f"fzd-{h()}", "sub": f"fzs-{h()}", "community": f"fzc-{h()}",
                    "branch": f"fzb-{h()}", "branch2": f"fzb-{h()}", "m1": f"fzm-{h()}", "m2": f"fzm-{h()}",
                    "venue": f"fzv-{h()}", "activity": f"fza-{h()}", "notice": f"fzn-{h()}",
                    "specialist": f"fzsp-{h()}"}
        self.used_ids: list[tuple[str, str]] = []  # (topic, id) sent so far, for repeated ids

    # ---- envelopes ------------------------------------------------------------------------------

    def env(self, type_: str, data: dict, id: str | None = None, **over) -> dict:
        e = {"id": id or str(uuid.UUID(int=self.rng.getrandbits(128))), "type": type_, "schema_version": 1,
             "occurred_at": "2025-06-01T09:00:00+08:00", "district": "x-district", "source": "chaos-fuzz",
             "correlation_id": f"chaos-{self.tag}", "causation_id": None, "data": data}
        e.update(over)
        return e

    def new(self, prefix: str) -> str:
        return f"{prefix}-{self.rng.getrandbits(48):012x}"

    def tree(self) -> list[tuple[str, list[tuple[str, dict]]]]:
        """The session's own things, in phases: (topic, envelope)."""
        i = self.ids
        org = lambda oid, kind, parent: (MEMBERS_COMMANDS, self.env("EstablishOrganization", {
            "org_id": oid, "name": f"模糊测试{kind}", "kind": kind, "parent_id": parent}))
        member = lambda mid: (MEMBERS_COMMANDS, self.env("RegisterMember", {
            "member_id": mid, "name": "测试党员", "gender": "female", "birth_date": "1950-05-05",
            "branch_id": i["branch"], "joined_party_on": "1975-07-01", "registered_on": "2025-01-02",
            "phone": "13900000000", "monthly_pension": "3000.00"}))
        return [
            ("orgs", [org(i["district"], "district", None), org(i["sub"], "subdistrict", i["district"]),
                      org(i["community"], "community", i["sub"]), org(i["branch"], "branch", i["community"]),
                      org(i["branch2"], "branch", i["community"])]),
            ("members", [member(i["m1"]), member(i["m2"])]),
            ("things", [
                (ACTIVITIES_COMMANDS, self.env("RegisterVenue", {"venue_id": i["venue"], "name": "模糊活动室",
                                                                 "org_id": i["community"], "capacity": 20})),
                (ACTIVITIES_COMMANDS, self.env("ScheduleActivity", {
                    "activity_id": i["activity"], "kind": "study", "title": "模糊学习", "branch_ids": [i["branch"]],
                    "starts_at": "2025-06-06T09:00:00+08:00", "ends_at": "2025-06-06T11:00:00+08:00"})),
                (NOTIFICATIONS_COMMANDS, self.env("SendNotice", {
                    "notice_id": i["notice"], "title": "模糊通知", "body": "请阅", "category": "document",
                    "audience": {"org_ids": [], "member_ids": [i["m1"]]}, "require_ack": True})),
                (MEMBERS_COMMANDS, self.env("AssignSpecialist", {
                    "member_id": i["m1"], "specialist_id": i["specialist"], "specialist_name": "张专员",
                    "specialist_phone": "13800000000"})),
            ]),
        ]

    def valid(self, topic: str) -> tuple[str, dict]:
        """A well-formed command of the topic, naming the session's things: (type, data)."""
        i, r = self.ids, self.rng
        day = f"2025-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
        if topic == MEMBERS_COMMANDS:
            return r.choice([
                ("EstablishOrganization", {"org_id": self.new("fzb"), "name": "新支部", "kind": "branch",
                                           "parent_id": i["community"]}),
                ("AppointSecretary", {"branch_id": i["branch"], "member_id": i["m1"]}),
                ("RegisterMember", {"member_id": self.new("fzm"), "name": "新党员", "gender": "male",
                                    "birth_date": "1948-02-02", "branch_id": i["branch"],
                                    "joined_party_on": "1970-01-01", "monthly_pension": "2000.00",
                                    "specialties": ["书法"], "phone": "13911111111"}),
                ("UpdateMemberProfile", {"member_id": i["m1"], "changes": {"health": "fair"}}),
                ("MarkMemberAway", {"member_id": i["m1"], "from": day, "until": None, "location": "三亚",
                                    "reason": "seasonal"}),
                ("MarkMemberReturned", {"member_id": i["m1"], "on": day}),
                ("ExemptMember", {"member_id": i["m2"], "from": day, "until": None, "reason": "卧床"}),
                ("RecordDuesPayment", {"payment_id": self.new("fzp"), "member_id": i["m1"], "from_month": day[:7],
                                       "to_month": day[:7], "amount": "10.00", "paid_on": day}),
                ("AssignSpecialist", {"member_id": i["m1"], "specialist_id": i["specialist"],
                                      "specialist_name": "张专员"}),
                ("RecordEvaluation", {"member_id": i["m1"], "year": 2025, "result": "qualified"}),
                ("RateBranch", {"branch_id": i["branch"], "year": 2025, "stars": r.randint(1, 5)}),
                ("GrantAward", {"award_id": self.new("fzaw"), "year": 2025, "category": "best_volunteer",
                                "subject_id": i["m1"]}),
                ("TransferMember", {"member_id": i["m2"], "on": day, "to_branch_id": i["branch2"]}),
            ])
        if topic == ACTIVITIES_COMMANDS:
            return r.choice([
                ("RegisterVenue", {"venue_id": self.new("fzv"), "name": "活动室", "org_id": i["community"],
                                   "capacity": 10, "facilities": ["投影"]}),
                ("ScheduleActivity", {"activity_id": self.new("fza"), "kind": "study", "title": "学习",
                                      "branch_ids": [i["branch"]], "starts_at": f"{day}T09:00:00+08:00",
                                      "ends_at": f"{day}T10:00:00+08:00"}),
                ("RecordActivityHeld", {"activity_id": i["activity"], "minutes": "纪要",
                                        "attendance": [{"member_id": i["m1"], "status": "present"}]}),
                ("RecordAttendance", {"activity_id": i["activity"], "member_id": i["m1"], "status": "present",
                                      "mode": "remote"}),
                ("LogVolunteerHours", {"entry_id": self.new("fzvh"), "member_id": i["m1"], "team": "巡逻队",
                                       "hours": "1.5", "on": day}),
                ("RecordVisit", {"visit_id": self.new("fzvis"), "member_id": i["m1"], "specialist_id": i["specialist"],
                                 "on": day, "kind": "home", "needs": [], "notes": "好"}),
            ])
        return r.choice([
            ("SendNotice", {"notice_id": self.new("fzn"), "title": "通知", "body": "内容", "category": "document",
                            "audience": {"org_ids": [], "member_ids": [i["m1"]]}, "require_ack": True}),
            ("AcknowledgeNotice", {"notice_id": i["notice"], "member_id": i["m1"]}),
            ("RecordFeedback", {"feedback_id": self.new("fzf"), "member_id": i["m1"], "notice_id": i["notice"],
                                "text": "收到"}),
            ("CompleteDoorDelivery", {"notice_id": i["notice"], "member_id": i["m1"], "specialist_id": i["specialist"],
                                      "on": day}),
        ])

    # ---- the kinds ------------------------------------------------------------------------------

    def message(self, topic: str, kind: str) -> tuple[bytes | None, bytes | None]:
        """(key, value) of one fuzzed message."""
        r = self.rng
        type_, data = self.valid(topic)
        key = str(next(iter(data.values()))).encode()
        if kind == "not_json":
            choice = r.randrange(9)
            good = json.dumps(self.env(type_, data), ensure_ascii=False).encode()
            value = [
                lambda: r.randbytes(r.randint(1, 300)),
                lambda: good[: r.randint(1, len(good) - 1)],
                lambda: b"",
                lambda: None,
                lambda: b"\xff\xfe" + good,
                lambda: r.choice([b"[]", b"42", b'"text"', b"null", b"true", b"NaN", b"[{}]"]),
                lambda: b"[" * 100_000 + b"]" * 100_000,
                lambda: b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
                lambda: good.replace(b'"', b"'"),
            ][choice]()
            # a record needs a key or a value: a null record (a tombstone) keeps its key
            return (r.choice([key, None, b"", r.randbytes(8)]) if value is not None else key), value
        if kind == "wrong_types":
            e = self.env(type_, data)
            where = r.choice(["id", "type", "schema_version", "occurred_at", "district", "source", "correlation_id",
                              "data", "field"])
            bad = r.choice([123, 1.5, True, None, [], {}, [1, 2], {"$x": 1}, "", "x" * 300])
            if where == "field":
                e["data"][r.choice(list(data))] = bad
            else:
                e[where] = bad
            return key, self._dump(e)
        if kind == "dollar_dots":
            e = self.env(type_, data)
            f = r.choice(list(data))
            trick = r.choice([
                lambda: e["data"].__setitem__(f, r.choice(["$where", "$ne", "a.b", "$inc.x", "..", "$", "x.$y"])),
                lambda: e["data"].__setitem__(f, {"$gt": ""}),
                lambda: e["data"].__setitem__("$set", {f: "x"}),
                lambda: e["data"].__setitem__(f"{f}.sub", 1),
                lambda: e.__setitem__("id", r.choice(["$where", "a.b.c", "$inc", "x.$y"])),
                lambda: e.__setitem__("$where", "sleep(1000)"),
                lambda: e.__setitem__("type", r.choice(["$set", "Register.Member", "$where"])),
                lambda: e["data"].__setitem__("changes", r.choice([{"$set": {"name": "x"}}, {"name.first": "x"},
                                                                    {"specialties": ["$x", "a.b"]},
                                                                    {"$unset": {"phone": ""}}])),
                lambda: e["data"].__setitem__("audience", {"org_ids": {"$in": ["x"]}, "member_ids": ["$where"]}),
            ])
            trick()
            return key, self._dump(e)
        if kind == "big":
            e = self.env(type_, data)
            room = BIG - len(self._dump(e)) - 200
            trick = r.randrange(5)
            if trick == 0:
                e["padding"] = "x" * room  # an unknown envelope field: ignored
            elif trick == 1:
                e = self.env("RegisterMember", {"member_id": self.new("fzm"), "name": "大", "gender": "male",
                                                "birth_date": "1950-01-01", "branch_id": self.ids["branch"],
                                                "joined_party_on": "1970-01-01", "monthly_pension": "1.00",
                                                "specialties": ["书" * (room // 3)]})
                topic_override = MEMBERS_COMMANDS
                return (e["data"]["member_id"].encode(), self._dump(e)) if topic == topic_override else (
                    key, self._dump(self.env(type_, data, padding="x" * room)))
            elif trick == 2:
                if topic == MEMBERS_COMMANDS:
                    e = self.env("UpdateMemberProfile", {"member_id": self.ids["m1"],
                                                         "changes": {"specialties": ["长" * (room // 3)]}})
                else:
                    e["data"]["padding"] = "y" * room  # an unknown data field: invalid
            elif trick == 3:
                if topic == ACTIVITIES_COMMANDS:
                    e = self.env("RegisterVenue", {"venue_id": self.new("fzv"), "name": "大", "org_id":
                                                   self.ids["community"], "capacity": 1,
                                                   "facilities": ["设施"] * (room // 10)})
                else:
                    e["data"][r.choice(list(data))] = "z" * room
            else:
                return key, r.randbytes(BIG)
            return key, self._dump(e)
        if kind == "unknown":
            e = self.env(type_, data)
            e.update(r.choice([
                {"type": "RegisterAlien"}, {"type": type_.lower()}, {"type": "MemberRegistered"},
                {"type": r.choice(["ScheduleActivity", "RegisterMember", "SendNotice"])},
                {"schema_version": r.choice([2, 99, 2**31, 2**63, 10**30, 0, -1])},
                {"type": "CommandRejected"}, {"type": "x" * 129},
            ]))
            return key, self._dump(e)
        if kind == "repeated_id":
            if self.used_ids and r.random() < 0.7:
                t, id_ = r.choice(self.used_ids)
                if t != topic:
                    id_ = str(uuid.UUID(int=r.getrandbits(128)))
            else:
                id_ = str(uuid.UUID(int=r.getrandbits(128)))
            type2, data2 = self.valid(topic)
            return key, self._dump(self.env(type2, data2, id=id_))
        if kind == "dates":
            e = self.env(type_, data)
            bad_day = r.choice(["0000-01-01", "0001-01-01", "9999-12-31", "2025-02-30", "2025-13-01", "99999-01-01",
                                "-001-01-01", "2025-1-1", "1900-02-29", "2024-02-29", "20250101"])
            bad_month = r.choice(["0000-01", "0001-01", "9999-12", "2025-00", "2025-13", "99999-01"])
            bad_instant = r.choice(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
                                    "9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+00:00", "2025-01-01T00:00:00",
                                    "2025-06-01T25:00:00+08:00", "2025-06-01T09:00:00+25:00", "1e10", "now"])
            choice = r.randrange(6)
            if choice == 0:
                e["occurred_at"] = bad_instant
            elif choice == 1:
                fields = [k for k, v in data.items() if isinstance(v, str) and len(v) == 10 and v[4:5] == "-"]
                e["data"][r.choice(fields) if fields else "on"] = bad_day
            elif choice == 2 and topic == MEMBERS_COMMANDS:
                e = self.env("RecordDuesPayment", {"payment_id": self.new("fzp"), "member_id": self.ids["m1"],
                                                   "from_month": r.choice(["0001-01", bad_month]),
                                                   "to_month": r.choice(["9999-12", bad_month]),
                                                   "amount": "1.00", "paid_on": r.choice(["2025-03-03", bad_day])})
            elif choice == 3 and topic == ACTIVITIES_COMMANDS:
                e = self.env("ScheduleActivity", {"activity_id": self.new("fza"), "kind": "study", "title": "远",
                                                  "branch_ids": [self.ids["branch"]], "starts_at": bad_instant,
                                                  "ends_at": r.choice([bad_instant, "9999-12-31T23:59:59-12:00"])})
            elif choice == 3 and topic == NOTIFICATIONS_COMMANDS:
                e = self.env("SendNotice", {"notice_id": self.new("fzn"), "title": "远期", "body": "b",
                                            "category": "reminder", "require_ack": False, "send_at": bad_instant,
                                            "audience": {"org_ids": [], "member_ids": [self.ids["m1"]]}})
            elif choice == 4:
                e = self.env(*self._dated(topic, bad_day))
            else:
                e["data"] = {k: (bad_day if isinstance(v, str) and len(v) == 10 and v[4:5] == "-" else v)
                             for k, v in data.items()}
                e["occurred_at"] = r.choice(["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00"])
            return key, self._dump(e)
        if kind == "unicode":
            e = self.env(type_, data)
            text = "".join(r.choice(TEXTS) for _ in range(r.randint(1, 3)))
            strings = [k for k, v in data.items() if isinstance(v, str) and not k.endswith("_id") and k != "on"]
            trick = r.randrange(5)
            if trick == 0 and strings:
                e["data"][r.choice(strings)] = text[:200]
            elif trick == 1:
                ids = [k for k in data if k.endswith("_id")]
                e["data"][r.choice(ids)] = r.choice(["成员-王", "👵🏻", "m\u200bx", "ｍ－１", "מ-1", "\u0000", "a b"])
            elif trick == 2:
                e["source"] = text[:128]
                e["district"] = r.choice(["区\u0000", "x-district", "🏯"])
            elif trick == 3:
                raw = self._dump(e).decode()
                field_ = r.choice(strings) if strings else "id"
                raw = raw.replace(f'"{field_}":"', f'"{field_}":"\\ud83d\\ude00\\ud800', 1)  # a lone surrogate
                return key, raw.encode()
            else:
                e["correlation_id"] = text[:128]
                key = text.encode("utf-8", "surrogatepass")[:300]
            return key, self._dump(e)
        raise ValueError(kind)

    def _dated(self, topic: str, day: str) -> tuple[str, dict]:
        i = self.ids
        if topic == MEMBERS_COMMANDS:
            return self.rng.choice([
                ("MarkMemberAway", {"member_id": i["m1"], "from": "0001-01-01", "until": "9999-12-31", "location": "远方",
                                    "reason": "other"}),
                ("RegisterMember", {"member_id": self.new("fzm"), "name": "古人", "gender": "male",
                                    "birth_date": "0001-01-01", "branch_id": i["branch"], "joined_party_on": "0001-01-02",
                                    "registered_on": "9999-12-31", "monthly_pension": "1.00"}),
                ("ExemptMember", {"member_id": i["m2"], "from": "9999-12-31", "until": None, "reason": "远"}),
            ])
        if topic == ACTIVITIES_COMMANDS:
            return self.rng.choice([
                ("LogVolunteerHours", {"entry_id": self.new("fzvh"), "member_id": i["m1"], "team": "古队",
                                       "hours": "999999.99", "on": "0001-01-01"}),
                ("RecordVisit", {"visit_id": self.new("fzvis"), "member_id": i["m1"], "specialist_id": i["specialist"],
                                 "on": "9999-12-31", "kind": "phone"}),
            ])
        return ("CompleteDoorDelivery", {"notice_id": i["notice"], "member_id": i["m1"],
                                         "specialist_id": i["specialist"], "on": "0001-01-01"})

    @staticmethod
    def _dump(e: dict) -> bytes:
        return json.dumps(e, ensure_ascii=False).encode("utf-8", "surrogatepass")

    def messages(self) -> list[tuple[str, str, bytes | None, bytes | None]]:
        """(topic, kind, key, value) for every message of the session, interleaved over the topics."""
        out = []
        kinds, weights = list(KINDS), list(KINDS.values())
        for n in range(self.per_topic):
            for topic in (MEMBERS_COMMANDS, ACTIVITIES_COMMANDS, NOTIFICATIONS_COMMANDS):
                kind = self.rng.choices(kinds, weights)[0]
                if kind == "big" and sum(1 for m in out if m[1] == "big") >= max(3, self.per_topic * 3 // 1000):
                    kind = "unknown"
                key, value = self.message(topic, kind)
                seen = _seen_id(value)
                if seen:
                    self.used_ids.append((topic, seen))
                out.append((topic, kind, key, value))
        return out


def _seen(value: bytes | None) -> tuple[str | None, str | None]:
    """(id, type) the service will see for a record, as its own parser reads it (None: not an envelope)."""
    try:
        result = parse(value)
    except Exception:  # a parser that gives up is the service's problem: it must still dead-letter
        return None, None
    if isinstance(result, NotEnvelope):
        return None, None
    if hasattr(result, "envelope"):
        return result.envelope.id, result.envelope.type
    return result.id, result.type


def _seen_id(value: bytes | None) -> str | None:
    return _seen(value)[0]


async def setup(fuzzer: Fuzzer, publisher: Publisher, log: Log, timeout: float = 180) -> list[str]:
    """Build the session's tree; returns the ids not answered in time (empty when all is well)."""
    missing: list[str] = []
    for _, phase in fuzzer.tree():
        ids = [e["id"] for _, e in phase]
        log.watched_ids.update(ids)
        await publisher.send([(t, str(next(iter(e["data"].values()))).encode(),
                               json.dumps(e, ensure_ascii=False).encode()) for t, e in phase])
        deadline = time.monotonic() + timeout
        while set(ids) - log.answered(ids) and time.monotonic() < deadline:
            await log.changed(1.0)
        missing += sorted(set(ids) - log.answered(ids))
    return missing


async def send(fuzzer: Fuzzer, publisher: Publisher, log: Log) -> list[Sent]:
    msgs = fuzzer.messages()
    sent = [Sent(t, kind, *_seen(v)) for t, kind, _, v in msgs]
    log.watched_ids.update(s.id for s in sent if s.id)
    for start in range(0, len(msgs), 500):
        chunk = msgs[start:start + 500]
        positions, _ = await publisher.send([(t, k, v) for t, _, k, v in chunk])
        for s, pos in zip(sent[start:start + 500], positions):
            if isinstance(pos, KafkaError):
                s.refused = f"{type(pos).__name__}: {pos}"[:300]
            elif isinstance(pos, BaseException):  # not the broker's answer: the suite's own fault
                s.unsent = f"{type(pos).__name__}: {pos}"[:300]
            else:
                s.partition, s.offset = pos
    return sent


def account(sent: list[Sent], log: Log) -> Account:
    a = Account(sent=len(sent), by_kind=Counter(s.kind for s in sent))
    dead_ids = set()
    for s in sent:
        d = log.dead.get((s.topic, s.partition, s.offset))
        if d is not None and s.id:
            dead_ids.add(s.id)
    first: dict[str, Sent] = {}
    for s in sent:
        if s.refused or s.unsent:
            (a.refused if s.refused else a.unsent).append({"topic": s.topic, "kind": s.kind,
                                                            "error": s.refused or s.unsent})
            continue
        d = log.dead.get((s.topic, s.partition, s.offset))
        if d is not None:
            if d.headers.get("x-dlq-reason") and d.headers.get("x-dlq-error") is not None:
                a.dead_lettered += 1
                a.dlq_reasons[d.headers["x-dlq-reason"]] += 1
            else:
                a.without_reason.append({"topic": s.topic, "kind": s.kind, "offset": s.offset, "dlq": d.headers})
            continue
        if s.id is None:
            a.unanswered.append({"topic": s.topic, "kind": s.kind, "partition": s.partition, "offset": s.offset,
                                 "why": "not an envelope, and not on the dead-letter topic"})
            continue
        if s.id in first:
            if s.id in log.answers or s.id in dead_ids:
                a.repeated += 1
            else:
                a.unanswered.append({"topic": s.topic, "kind": s.kind, "id": s.id, "offset": s.offset})
            continue
        first[s.id] = s
        answers = log.answers.get(s.id)
        if not answers:
            if s.id in dead_ids:
                a.repeated += 1
            else:
                a.unanswered.append({"topic": s.topic, "kind": s.kind, "type": s.type, "id": s.id,
                                     "partition": s.partition, "offset": s.offset})
            continue
        rejected = [x for x in answers if x.type == "CommandRejected"]
        if rejected:
            if all(x.reason in REASONS for x in rejected):
                a.rejected += 1
                a.reasons[rejected[0].reason] += 1
            else:
                a.without_reason.append({"topic": s.topic, "kind": s.kind, "id": s.id,
                                         "reasons": [x.reason for x in rejected]})
        else:
            a.accepted += 1
    return a


async def wait_accounted(sent: list[Sent], log: Log, timeout: float, say=print) -> Account:
    started = time.monotonic()
    said = started
    while True:
        a = account(sent, log)
        if not a.unanswered or time.monotonic() - started > timeout:
            a.seconds = round(time.monotonic() - started, 1)
            return a
        if time.monotonic() - said > 30:
            said = time.monotonic()
            say(f"fuzz: {len(a.unanswered)} of {len(sent)} messages not answered yet")
        await asyncio.sleep(2)
