"""A district year drawn once by the simulator, and its renamings: one per run.

Many runs share one stack, so each run's commands must be new to it (the inbox drops an id it has
seen). A run therefore sends the very same scenario with every id renamed by the run's tag: the
message ids (uuid5 of the tag and the original) and every aggregate id the simulator made
(`m-…`, `b-…`, `a-…`: a kind and 16 hex digits) wherever it appears, in the data and inside other
strings (a notice `activity:a-…`). The renaming is a bijection kept in `Names`, so whatever a run
produced (event ids derived from its command ids, report keys, alert subjects) maps back to the
canonical scenario and can be compared with any other run of it.
"""
import copy
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field

from shared.contracts.parsing import derived_id
from shared.contracts.service_requests import visit_request_id
from simulator.commands import Cmd
from simulator.sources import Generated

REQUEST_ID = re.compile(r"(?<![0-9A-Za-z_])rq-[0-9a-f]{24}(?![0-9A-Za-z_])")  # visit_request_id's
AGGREGATE_ID = re.compile(r"(?<![0-9A-Za-z_])([a-z]{1,4})-([0-9a-f]{16})(?![0-9A-Za-z_])")
RENAME_NS = uuid.UUID("0c2a8f6e-3b7d-4f0e-9e1a-7d5c1b2a9f30")


@dataclass
class Scenario:
    seed: int
    members: int
    year: int
    phases: list[tuple[str, list[Cmd]]]
    outcome: dict  # the simulator's summary and expectations (the figures it intended)

    @classmethod
    def draw(cls, seed: int, members: int, year: int, months: int = 12) -> "Scenario":
        """The year, or its first `months` months only (a shorter stream): then the phases end with
        the month after them (what happened in the last month is partly sent in the next one) and
        only the expectations of the month periods within them are kept."""
        source = Generated(seed, members, year)
        phases = []
        for p in source.phases():  # the tally learns what was sent as phases are drawn
            phases.append((p.name, list(p.commands)))
            if months < 12 and p.name == f"{year}-{months + 1:02d}":
                break
        outcome = source.outcome()
        if months < 12:
            # The simulator's figures count a branch moved later in the year (化并转) under its new
            # community in every month: in a stream cut before the move, they are not what was sent.
            sent = {c.type for _, cmds in phases for c in cmds}
            unsent_moves = set() if "MoveBranch" in sent else _moved_between(source.world)
            outcome["expectations"] = [e for e in outcome["expectations"]
                                       if len(e["period"]) == 7 and e["period"] <= f"{year}-{months:02d}"
                                       and e["org_id"] not in unsent_moves]
        return cls(seed, members, year, phases, outcome)

    @property
    def commands(self) -> list[Cmd]:
        return [c for _, cmds in self.phases for c in cmds]

    @property
    def district_id(self) -> str:
        return self.outcome["summary"]["district_id"]

    def renamed(self, tag: str) -> "Run":
        names = Names(tag)
        phases = [(name, [names.cmd(c) for c in cmds]) for name, cmds in self.phases]
        expectations = [{**e, "org_id": names.text(e["org_id"])} for e in self.outcome["expectations"]]
        return Run(tag, self, names, phases, expectations)


def _moved_between(world) -> set[str]:
    """The communities and subdistricts a branch is moved between in the simulated year."""
    from simulator.reorganization import placement

    out = set()
    for b in world.branches:
        if placement(world, b) != (b.community_id, b.subdistrict_id):
            out |= {b.community_id, b.subdistrict_id, *placement(world, b)}
    return out


@dataclass
class Names:
    """The bijection between a run's ids and the canonical scenario's."""

    tag: str
    messages: dict[str, str] = field(default_factory=dict)  # run's message id → canonical
    aggregates: dict[str, str] = field(default_factory=dict)  # run's aggregate id → canonical
    # Ids the platform derives from another id (a visit's need → its request, `visit_request_id`):
    # canonical → the run's, and back. Renamed by hashing, they would name nothing the run has.
    derived: dict[str, str] = field(default_factory=dict)
    derived_back: dict[str, str] = field(default_factory=dict)

    @property
    def correlation_id(self) -> str:
        return f"chaos-{self.tag}"

    def aggregate(self, canonical: str) -> str:
        m = AGGREGATE_ID.fullmatch(canonical)
        digest = hashlib.blake2b(f"{self.tag}/{canonical}".encode(), digest_size=8).hexdigest()
        renamed = f"{m.group(1)}-{digest}"
        self.aggregates[renamed] = canonical
        return renamed

    def text(self, value: str) -> str:
        if value in self.derived:
            return self.derived[value]
        return AGGREGATE_ID.sub(lambda m: self.aggregate(m.group(0)), value)

    def message(self, canonical: str) -> str:
        renamed = str(uuid.uuid5(RENAME_NS, f"{self.tag}/{canonical}"))
        self.messages[renamed] = canonical
        return renamed

    def cmd(self, c: Cmd) -> Cmd:
        env = copy.deepcopy(c.envelope)
        data = env["data"]
        if isinstance(data.get("visit_id"), str) and isinstance(data.get("needs"), list):
            ours = self.text(data["visit_id"])
            for i in range(len(data["needs"])):
                canonical, renamed = visit_request_id(data["visit_id"], i), visit_request_id(ours, i)
                self.derived[canonical], self.derived_back[renamed] = renamed, canonical
        env["data"] = self._walk(data)
        env["id"] = self.message(env["id"])
        env["correlation_id"] = self.correlation_id
        return Cmd(c.topic, self.text(c.key), env)

    def _walk(self, value):
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self._walk(v) for v in value]
        if isinstance(value, dict):
            return {self.text(k): self._walk(v) for k, v in value.items()}
        return value

    def canonical_text(self, value: str) -> str:
        if "rq-" in value:  # a request's id, alone or in another (an alert's id names its subject)
            value = REQUEST_ID.sub(lambda m: self.derived_back.get(m.group(0), m.group(0)), value)
        return AGGREGATE_ID.sub(lambda m: self.aggregates.get(m.group(0), m.group(0)), value)

    def canonical(self, value):
        """Any JSON value with the run's ids mapped back to the scenario's."""
        if isinstance(value, str):
            return self.messages.get(value) or self.canonical_text(value)
        if isinstance(value, list):
            return [self.canonical(v) for v in value]
        if isinstance(value, dict):
            return {self.canonical_text(k): self.canonical(v) for k, v in value.items()}
        return value


@dataclass
class Run:
    tag: str
    scenario: Scenario
    names: Names
    phases: list[tuple[str, list[Cmd]]]
    expectations: list[dict]

    @property
    def commands(self) -> list[Cmd]:
        return [c for _, cmds in self.phases for c in cmds]

    @property
    def district_id(self) -> str:
        return self.names.text(self.scenario.district_id)

    @property
    def org_ids(self) -> list[str]:
        return sorted({e["org_id"] for e in self.expectations})


class Lineage:
    """Canonical identities of a run's events.

    An event caused by a command or by another event has the id `derived_id(cause, n, by=its
    source)`: its identity is ("cmd", the command's canonical id, n) or ("ev", the cause's topic, the cause's
    identity, n). An event whose id is not derived from its
    causation id (the delivery worker's, named after the deliveries' state and the clock; the
    reporting's daily pass) has none: `identity` answers None and it is compared otherwise."""

    MAX_N = 20_000  # events one message may cause (a notice to a large audience)

    def __init__(self, names: Names, events_by_id: dict[str, dict]):
        self.names, self.events = names, events_by_id
        self._n: dict[str, dict[str, int]] = {}  # emitter:cause id → {derived id: n}, grown as needed
        self._memo: dict[str, tuple | None] = {}

    def n_of(self, cause: str, event_id: str) -> int | str | None:
        """The place of an event among its cause's: a number, or the basis it was derived from
        (`Context.emit(basis=...)`, tried with the strings of the event's data), canonical."""
        e = self.events.get(event_id) or {}
        by = e.get("source")  # the emitting service, which the id names
        known = self._n.setdefault(f"{by}:{cause}", {})
        if event_id not in known:
            for value in _strings(e.get("data") or {}):
                for basis in (value, f"{value}/{e.get('type')}"):
                    if derived_id(cause, f"k:{basis}", by=by) == event_id:
                        known[event_id] = "k:" + self.names.canonical_text(basis)
                        return known[event_id]
        n = sum(1 for v in known.values() if isinstance(v, int))
        while event_id not in known and n < self.MAX_N:
            known[derived_id(cause, n, by=by)] = n
            n += 1
        return known.get(event_id)

    def identity(self, event_id: str) -> tuple | None:
        if event_id in self._memo:
            return self._memo[event_id]
        self._memo[event_id] = None  # a cycle cannot be derived
        e = self.events.get(event_id)
        cause = e.get("causation_id") if e else None
        result = None
        if cause in self.names.messages:
            n = self.n_of(cause, event_id)
            result = None if n is None else ("cmd", self.names.messages[cause], n)
        elif cause in self.events:
            parent = self.identity(cause)
            n = self.n_of(cause, event_id) if parent is not None else None
            result = None if n is None else ("ev", self.events[cause].get("topic"), parent, n)
        self._memo[event_id] = result
        return result


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def key_of(identity: tuple) -> str:
    return json.dumps(identity, separators=(",", ":"))
