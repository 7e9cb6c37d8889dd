"""A run against what its scenario intended and against the clean run of the same scenario.

What is compared, and how:
- every command answered (an event caused by it, or a CommandRejected);
- the events of members, activities and notifications by canonical identity: an event's id is
  derived from its cause's and its emitter's (`uuid5(source:cause, n)`), so (the cause's canonical identity, n, type) is the
  same in every run of a scenario. The delivery worker's events are not derived from a message
  (they are named after the deliveries' state and the clock): they are compared as a multiset of
  (type, notice, member). A delivery whose attempt was `sending` when its process was killed has an
  unknown outcome and falls back to the next channel by design: such (notice, member) pairs are
  listed and left out; so are the notices notifications addressed otherwise than in the clean run
  (read from its `deliveries`: a member's fact that reached it after the worker first acted on
  the notice, the residual race of docs/reliability.md), counted in the details;
- an id carried by two different records is a duplicated effect; identical copies (the outbox
  relay publishes at least once) are counted, not failed;
- reporting's own events, and the reminders it causes, are not compared one by one: alerts are
  evaluated as events arrive, and the order across partitions differs from run to run. The open
  alerts as of the year's last day are compared instead;
- every report figure the simulator intended (its expectations), and every report whole against
  the clean run's.
A difference that the clean run shares with the expectations is the scenario's (a defect, but not
the fault's): it is listed apart and not counted against the run.
"""
from collections import Counter
from decimal import Decimal, InvalidOperation

from chaos.observe import Event
from chaos.scenario import Lineage, Run

UNKNOWN_OUTCOME = "发送结果未知"  # the error of an attempt whose process died mid-send
WORKER_PROBLEM = "delivery worker's events as (type, notice, member)"  # how that difference is said
ORDER_DEPENDENT_NOTICES = ("reminder:",)


def lookup_path(report: dict, path: str):
    node = report
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def same(expected, actual) -> bool:
    if isinstance(expected, str):  # money and hours: decimal strings, compared as numbers
        try:
            return Decimal(expected) == Decimal(str(actual))
        except InvalidOperation:
            return False
    return expected == actual


def _number(v):
    try:
        return Decimal(str(v))
    except InvalidOperation:
        return None


class Outcome:
    """What one run left: its events (canonical), answers, reports and alerts."""

    def __init__(self, run: Run, events: list[Event], answered: set[str], reports: dict, alerts: list | None,
                 errors: dict, deliveries: list[dict] | None = None):
        self.run, self.errors = run, errors
        names = run.names
        # (notice, member) → how notifications addressed it (channels, branch, day, specialist)
        self.addressing = {
            (names.canonical_text(d["notice_id"]), names.canonical_text(d["member_id"])): (
                tuple(d.get("plan") or ()), names.canonical_text(str(d.get("branch_id"))), d.get("addressed_on"),
                names.canonical_text(str(d.get("specialist_id"))))
            for d in deliveries or ()}
        # (notice, member) → whether the member acknowledged before anything was sent, or after
        self.acknowledged = {
            (names.canonical_text(d["notice_id"]), names.canonical_text(d["member_id"])): d.get("state") == "acknowledged"
            for d in deliveries or () if d.get("acknowledged")}
        self.unanswered = [c.id for c in run.commands if c.id not in answered]
        by_id: dict[str, Event] = {}
        records: dict[tuple[str, str], list[str]] = {}  # (topic, id) → digests, in order
        topics_of: dict[str, set[str]] = {}
        for e in events:
            by_id.setdefault(e.id, e)
            records.setdefault((e.topic, e.id), []).append(e.digest)
            topics_of.setdefault(e.id, set()).add(e.topic)
        # identical copies (the relay publishes at least once) and one id for different records
        self.copies = sum(len(d) - len(set(d)) for d in records.values())
        self.differing_records = sorted(f"{t} {i}" for (t, i), d in records.items() if len(set(d)) > 1)
        self.collisions = sorted(f"{i} on {sorted(t)}" for i, t in topics_of.items() if len(t) > 1)
        self.collision_examples = [
            [(e.topic, e.type, e.causation_id) for e in events if e.id == i][:2]
            for i in [i for i, t in topics_of.items() if len(t) > 1][:3]]
        names = run.names
        lineage = Lineage(names, {i: {"causation_id": e.causation_id, "topic": e.topic, "type": e.type,
                                      "data": e.data, "source": e.source} for i, e in by_id.items()})
        # every distinct record: the same id for two different records counts twice among the
        # worker's events (compared by what they say); among events compared by identity, once
        # (the second record is counted as a duplicated effect above)
        by_id = {}
        for e in events:
            by_id.setdefault((e.topic, e.id, e.digest), e)
        firsts = {(e.topic, e.id): digest for (_, _, digest), e in reversed(list(by_id.items()))}
        self.derived: Counter = Counter()
        self.worker: Counter = Counter()
        self.not_compared: Counter = Counter()
        self.unknown_outcome: set[tuple] = set()
        for (_, i, _), e in by_id.items():
            notice = names.canonical_text(str(e.data.get("notice_id") or ""))
            member = names.canonical_text(str(e.data.get("member_id") or ""))
            if e.type == "NotificationFailed" and UNKNOWN_OUTCOME in str(e.data.get("error") or ""):
                self.unknown_outcome.add((notice, member))
            if e.topic == "reporting.events" or notice.startswith(ORDER_DEPENDENT_NOTICES):
                self.not_compared[e.type] += 1
                continue
            if e.type == "NoticeAddressed":
                # By pair: a recipient said with the notice's branch in one run may be said alone in
                # another (a fact that arrived after the notice); the pairs are what counts.
                for m in e.data.get("member_ids") or ():
                    self.worker[(e.type, notice, names.canonical_text(str(m)))] += 1
                continue
            identity = lineage.identity(i)
            kind = e.type if e.type != "CommandRejected" else f"CommandRejected/{e.data.get('reason')}"
            if identity is not None and _through_reporting(identity):
                self.not_compared[e.type] += 1
            elif identity is not None:
                if firsts[(e.topic, i)] == e.digest:
                    self.derived[(e.topic, repr(identity), kind)] += 1
            elif e.topic == "notifications.events":
                self.worker[(e.type, notice, member)] += 1
            else:
                self.not_compared[e.type] += 1
        self.reports = {(names.canonical_text(org), period): names.canonical(r) for (org, period), r in reports.items()}
        self.alerts = None if alerts is None else sorted(
            (names.canonical({k: v for k, v in a.items()}) for a in alerts), key=repr)
        self.expectations = [{**e, "org_id": names.canonical_text(e["org_id"])} for e in run.expectations]

    def figure_mismatches(self) -> dict[str, tuple]:
        out = {}
        for e in self.expectations:
            rep = self.reports.get((e["org_id"], e["period"]))
            for path, want in e["figures"].items():
                got = lookup_path(rep, path) if rep is not None else "<no report>"
                if not same(want, got):
                    out[f"{e['org_id']} {e['period']} {path}"] = (want, got)
        return out


def _through_reporting(identity: tuple) -> bool:
    """Whether an event descends from one of reporting's (whose events are order dependent)."""
    node = identity
    while node[0] == "ev":
        if node[1] == "reporting.events":
            return True
        node = node[2]
    return False


def diff(a, b, path: str = "", sides: tuple[str, str] = ("clean", "run")) -> list[str]:
    """Where two reports differ, a line per leaf: `path: <side a> … / <side b> …`."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b), key=str)
                for d in diff(a.get(k, "<absent>"), b.get(k, "<absent>"), f"{path}.{k}" if path else str(k), sides)]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in diff(x, y, f"{path}[{i}]", sides)]
    return [] if a == b else [f"{path}: {sides[0]} {a!r} / {sides[1]} {b!r}"]


def compare(clean: Outcome, run: Outcome) -> dict:
    """Counts (lost, duplicated, copies) and the details of every difference."""
    lost = dup = 0
    details: dict = {}
    problems: list[str] = []
    if run.unanswered:
        lost += len(run.unanswered)
        problems.append(f"{len(run.unanswered)} commands never answered, e.g. {run.unanswered[:3]}")
    # events by identity
    missing, extra = clean.derived - run.derived, run.derived - clean.derived
    lost += sum(missing.values())
    dup += sum(extra.values())
    if missing or extra:
        problems.append(f"events: {sum(missing.values())} of the clean run's missing "
                        f"({dict(Counter(k[2] for k in missing.elements()))}), {sum(extra.values())} not in it "
                        f"({dict(Counter(k[2] for k in extra.elements()))})")
        details["events missing"] = [list(k) for k in list(missing)[:20]]
        details["events extra"] = [list(k) for k in list(extra)[:20]]
    unknown = clean.unknown_outcome | run.unknown_outcome
    # A notice addressed otherwise than in the clean run (a member's fact reached notifications
    # after the worker first acted on the notice: the residual race of docs/reliability.md): its
    # deliveries' events follow another plan. Set aside and shown, as unknown outcomes are.
    addressed_otherwise = {k for k in set(clean.addressing) | set(run.addressing)
                           if clean.addressing.get(k) != run.addressing.get(k)
                           and not k[0].startswith(ORDER_DEPENDENT_NOTICES)}  # reminders: not compared
    notices_otherwise = {n for n, _ in addressed_otherwise}
    # A member who acknowledged (heard it at the meeting: their attendance) around the time the
    # delivery fell due: before any send in one run, after the first in the other. Both are right;
    # which one happens is the worker's pace against the facts' (set aside and shown).
    raced = {k for k in set(clean.acknowledged) & set(run.acknowledged) if clean.acknowledged[k] != run.acknowledged[k]}
    unknown = unknown | raced
    unknown = unknown | {k for k in set(clean.addressing) | set(run.addressing) if k[0] in notices_otherwise}
    pick = lambda c: Counter({k: n for k, n in c.items() if (k[1], k[2]) not in unknown
                              and k[1] not in notices_otherwise})
    wc, wr = pick(clean.worker), pick(run.worker)
    wmissing, wextra = wc - wr, wr - wc
    lost += sum(wmissing.values())
    dup += sum(wextra.values())
    worker = {"lost": sum(wmissing.values()), "duplicated": sum(wextra.values())}
    if wmissing or wextra:
        problems.append(f"{WORKER_PROBLEM}: {sum(wmissing.values())} missing "
                        f"({dict(Counter(k[0] for k in wmissing.elements()))}), {sum(wextra.values())} more "
                        f"({dict(Counter(k[0] for k in wextra.elements()))})")
        details["worker missing"] = [list(k) for k in list(wmissing)[:20]]
        details["worker extra"] = [list(k) for k in list(wextra)[:20]]
    details["deliveries with an unknown outcome (left out)"] = sorted(clean.unknown_outcome | run.unknown_outcome)[:50]
    details["deliveries acknowledged before a send in one run only (left out)"] = {
        "count": len(raced), "examples": sorted(raced)[:10]}
    details["notices addressed otherwise than in the clean run (left out)"] = {
        "notices": len(notices_otherwise), "deliveries": len(addressed_otherwise),
        "examples": [(k, clean.addressing.get(k), run.addressing.get(k)) for k in sorted(addressed_otherwise)[:10]]}
    if run.differing_records:
        dup += len(run.differing_records)
        problems.append(f"{len(run.differing_records)} event ids carried by different records on one topic "
                        f"(a consumer drops the second as a repeat), e.g. {run.differing_records[:3]}")
        details["ids carried by different records"] = run.differing_records[:20]
    if run.collisions:
        problems.append(f"{len(run.collisions)} event ids used on two topics for different events (the contract's "
                        f"id is unique), e.g. {run.collision_examples[:2]}")
    # reports against the intended figures; what the clean run gets wrong too is the scenario's
    clean_wrong, run_wrong = clean.figure_mismatches(), run.figure_mismatches()
    for key, (want, got) in run_wrong.items():
        if key in clean_wrong:
            continue
        a, b = _number(want), _number(got)
        if a is not None and b is not None and b > a:
            dup += 1
        else:
            lost += 1
    fault_wrong = {k: v for k, v in run_wrong.items() if k not in clean_wrong}
    if fault_wrong:
        problems.append(f"report figures not as intended: {len(fault_wrong)}, e.g. {next(iter(fault_wrong.items()))}")
        details["figures not as intended"] = {k: list(v) for k, v in list(fault_wrong.items())[:30]}
    if clean_wrong:
        details["figures not as intended in the clean run too (the scenario's)"] = {
            k: list(v) for k, v in list(clean_wrong.items())[:30]}
    # reports whole against the clean run
    differing = {}
    for key, rep in clean.reports.items():
        other = run.reports.get(key)
        if other != rep:
            differing[f"{key[0]} {key[1]}"] = diff(rep, other if other is not None else {})[:8]
    if differing:
        problems.append(f"reports differing from the clean run's: {len(differing)} of {len(clean.reports)}, "
                        f"e.g. {next(iter(differing.items()))}")
        details["reports differing from the clean run"] = dict(list(differing.items())[:20])
        for diffs in differing.values():
            for d in diffs:
                lost += 1 if _lower(d) else 0
                dup += 0 if _lower(d) else 1
    # open alerts
    if clean.alerts is not None and run.alerts is not None:
        ca, ra = Counter(map(repr, clean.alerts)), Counter(map(repr, run.alerts))
        if ca != ra:
            lost += sum((ca - ra).values())
            dup += sum((ra - ca).values())
            problems.append(f"open alerts: {sum((ca - ra).values())} of the clean run's missing, "
                            f"{sum((ra - ca).values())} not in it")
            details["alerts missing"] = list((ca - ra).elements())[:10]
            details["alerts extra"] = list((ra - ca).elements())[:10]
    elif run.alerts is None:
        problems.append("the alerts could not be read")
        lost += 1
    if run.errors:
        problems.append(f"reporting answered errors: {dict(list(run.errors.items())[:3])}")
    details["not compared (order dependent)"] = dict(run.not_compared)
    return {"lost": lost, "duplicated": dup, "worker": worker, "copies": run.copies, "problems": problems,
            "details": details,
            "events": {"compared": sum(run.derived.values()), "worker": sum(run.worker.values())}}


def _lower(diff: str) -> bool:
    """Whether a report difference 'path: clean A / run B' is a number that went down (or vanished)."""
    try:
        left, right = diff.split(": clean ", 1)[1].split(" / run ", 1)
        a, b = _number(left.strip("'")), _number(right.strip("'"))
    except (IndexError, ValueError):
        return True
    return a is None or b is None or b < a


def self_check(clean: Outcome) -> list[str]:
    """What the clean run itself gets wrong against the scenario's intent (no fault involved)."""
    problems = []
    if clean.unanswered:
        problems.append(f"clean run: {len(clean.unanswered)} commands unanswered")
    if clean.differing_records:
        problems.append(f"clean run: {len(clean.differing_records)} event ids carried by different records on one "
                        f"topic (a consumer drops the second as a repeat), e.g. {clean.differing_records[:3]}")
    if clean.collisions:
        problems.append(f"clean run: {len(clean.collisions)} event ids used on two topics for different events "
                        f"(the contract's id is unique), e.g. {clean.collision_examples[:2]}")
    wrong = clean.figure_mismatches()
    if wrong:
        problems.append(f"clean run: {len(wrong)} report figures not as intended, e.g. {list(wrong.items())[:3]}")
    if clean.errors:
        problems.append(f"clean run: reporting answered errors {dict(list(clean.errors.items())[:3])}")
    return problems
