"""Commands held until what they name arrives (contract: "A reference that has not arrived yet
is waited for, not refused").

Keys give order per aggregate only: a `RegisterMember` may be consumed before the
`EstablishOrganization` of its branch, published a moment earlier under another key. Such a
command is held in the pipeline's `_parked_<name>` collection (in the batch's transaction, with
its id in the inbox), and later commands of the same key are held behind it, so their order
holds. Held commands are tried again after every batch and by a timer, oldest first; one whose
reference is still missing after `REFERENCE_WAIT` is rejected `unknown_reference`, and those
behind it go on.

A held command is tried again at once, then less and less often (`Retries`): trying every one of
them after every batch cost a service more than its own work once thousands were held (a district
publishing a year at once, the fuzz of docs/reliability.md).
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from collections.abc import Callable, Iterable
from typing import Any

from shared.contracts.parsing import Parsed
from shared.messaging.records import Incoming

LIMIT = 2000  # held commands tried per round: the oldest first
MAX_WANTS = 20  # documents kept per held command to wake it by (a command naming more waits its turn)
FIRST_RETRY_S = 0.25  # the pause after a held command's first retry that found it still waiting
# What a pass reads to decide which held commands are due: not their bodies.
OUTLINE = {"_id": 1, "key": 1, "parked_at": 1, "partition": 1, "offset": 1, "wants": 1, "upstream": 1}
# How long the outlines a batch's pass read stay good enough for the passes of the batches after it
# (`Outlines`): what another instance holds or releases meanwhile is seen this much later.
OUTLINES_TRUST_S = 1.0
# …and a read that came back full (`Outlines`): the oldest LIMIT of more held commands.
OUTLINES_FULL_TRUST_S = 5.0


def collection(pipeline: str) -> str:
    return f"_parked_{pipeline}"


def held(record: Incoming, result: Parsed, errors: list[dict] | None = None, behind: bool = False,
         wants: Iterable[tuple[str, str]] = (), upstream: bool = False) -> dict:
    """The held command. `wants`: the documents its handler reads (`Handler.wants`): when this
    process writes one of them, the command's reference may be there, and it is tried again at
    the next pass whatever its pause (`woken`). `upstream`: held until the facts published before
    it have arrived (`NotYet`): tried again as soon as the pipeline's fence says so (`Retries.due`)."""
    return {"_id": result.envelope.id, "key": result.message.key(), "type": result.envelope.type,
            "parked_at": datetime.now(timezone.utc), "topic": record.topic, "partition": record.partition,
            "offset": record.offset, "record_key": record.key, "value": record.value,
            "headers": [{"n": k, "v": v} for k, v in record.headers], "behind": behind, "errors": errors or [],
            "wants": [[c, i] for c, i in wants][:MAX_WANTS], "upstream": upstream}


def woken(outlines: list[dict], written: set[tuple[str, str]]) -> set[str]:
    """The keys of the held commands that want a document among those written."""
    if not written:
        return set()
    return {o["key"] for o in outlines if any((w[0], w[1]) in written for w in o.get("wants") or ())}


def heads(held: Iterable[dict]) -> dict[str, dict]:
    """The first held command of each key (in the order given: the oldest first), which holds the others."""
    out: dict[str, dict] = {}
    for o in held:
        out.setdefault(o["key"], o)
    return out


def behind_fence(held: Iterable[dict], arrived: Callable[[datetime], bool] | None) -> set[str]:
    """The keys of the held commands that wait for the facts published before them (`upstream`)
    and whose first handling the pipeline's fence has not passed yet: the commands of those keys
    can do nothing until it does, whatever is written meanwhile."""
    if arrived is None:
        return set()
    return {o["key"] for o in held if o.get("upstream") and not arrived(_aware(o["parked_at"]))}


def incoming(doc: dict) -> Incoming:
    return Incoming(doc["topic"], doc["partition"], doc["offset"], doc.get("record_key"), doc["value"],
                    tuple((h["n"], h["v"]) for h in doc.get("headers", [])))


def expired(doc: dict, wait_s: float) -> bool:
    return datetime.now(timezone.utc) - _aware(doc["parked_at"]) >= timedelta(seconds=wait_s)


def _aware(at: datetime) -> datetime:
    """A time read back from the database (naive, UTC) as UTC."""
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


async def setup(coll: Any) -> None:
    await coll.create_index("key")
    await coll.create_index([("parked_at", 1), ("partition", 1), ("offset", 1)])


async def keys_waiting(coll: Any, keys: set[str]) -> set[str]:
    return {d["key"] async for d in coll.find({"key": {"$in": list(keys)}}, {"key": 1})}


async def oldest(coll: Any) -> list[dict]:
    """The outlines (`OUTLINE`) of the oldest held commands, in the order they were held."""
    return await (coll.find({}, OUTLINE).sort([("parked_at", 1), ("partition", 1), ("offset", 1)])
                  .limit(LIMIT).to_list(None))


def outline(doc: dict) -> dict:
    """A held command's outline (`OUTLINE`), from its whole document."""
    return {k: doc[k] for k in OUTLINE if k in doc}


def _order(o: dict) -> tuple:
    """The order `oldest` reads held commands in."""
    return _aware(o["parked_at"]), o.get("partition") or 0, o.get("offset") or 0


@dataclass
class Outlines:
    """The outlines of the held commands as this process last read them (`oldest`), kept up with
    what its own commits hold and release: the passes over them (at the end of every batch, and the
    timer's) take them from here for `trust_s` after a read. Read at every batch, the 1,880 notices
    held behind the causal fence in the 300-member year were 2.4 s of the database's time in 91
    reads (docs/benchmarks.md). Another instance's changes are seen at the next read: a command it
    holds is tried up to `trust_s` later, one it released is found gone when read whole (`whole`).

    A read that came back full (LIMIT) is the oldest held commands up to the last it read (its
    `_horizon`), and kept as that for `full_trust_s`: at 100,000 members some 59,000
    acknowledgements waited behind a district notice's addressing, and every batch and every pass
    the addressing woke read the oldest 2,000 again, 0.6-1.1 s each. What this process holds after
    the horizon is left out until the next read, as that read would leave it out: the first of a
    key among the outlines is then always the first held of that key."""

    trust_s: float = OUTLINES_TRUST_S
    full_trust_s: float = OUTLINES_FULL_TRUST_S
    _outlines: list[dict] | None = None
    _read_at: float = 0.0
    _horizon: tuple | None = None  # the order of a full read's last outline (None: the read was whole)
    _held_beyond: dict[str, float] = field(default_factory=dict)  # key: when this process held one past the horizon

    def get(self, now: float) -> list[dict] | None:
        """The outlines, if read less than `trust_s` (a full read: `full_trust_s`) ago (None: read them)."""
        trust = self.trust_s if self._horizon is None else self.full_trust_s
        if self._outlines is None or now - self._read_at > trust:
            return None
        return self._outlines

    def read(self, outlines: list[dict], now: float) -> None:
        self._outlines, self._read_at = list(outlines), now
        self._horizon = _order(outlines[-1]) if len(outlines) >= LIMIT else None

    def committed(self, written: dict[str, dict | None], now: float) -> None:
        """A commit of this process held (a document) or released (None) these held commands."""
        if self._outlines is None or not written:
            return
        kept = [o for o in self._outlines if o["_id"] not in written]
        beyond = []  # held after a full read's horizon: left out, as the next read would leave them
        for d in (d for d in written.values() if d is not None):
            if self._horizon is not None and _order(d) > self._horizon:
                beyond.append(d)
            else:
                kept.append(outline(d))
        kept.sort(key=_order)
        if len(kept) > LIMIT:  # more than a read gives: kept as a full read of them would be
            kept, past = kept[:LIMIT], kept[LIMIT:]
            beyond += past
            self._horizon = _order(kept[-1])
        self._held_beyond.update((d["key"], now) for d in beyond)
        self._outlines = kept

    def held_keys(self, now: float) -> set[str]:
        """The keys of the held commands this process knows of: its last read, and what its own commits
        held since (beyond a full read's horizon: for `full_trust_s`). A command of one of those keys
        waits behind them; if another instance released them meanwhile, it is held a moment for
        nothing, and tried in its turn. The keys of a batch beyond these are asked of the database
        (`keys_waiting`): at 100,000 members, a key of 59,000 held acknowledgements took 0.3-0.8 s a
        batch to say so, all of them read."""
        if self._outlines is None:
            return set()
        self._held_beyond = {k: t for k, t in self._held_beyond.items() if now - t <= self.full_trust_s}
        return {o["key"] for o in self._outlines} | set(self._held_beyond)

    def forget(self) -> None:
        """A commit failed: what it held or released is not known."""
        self._outlines, self._horizon, self._held_beyond = None, None, {}


async def whole(coll: Any, outlines: list[dict]) -> list[dict]:
    """The held commands of these outlines, whole, in the outlines' order (one gone meanwhile is left out)."""
    by_id = {d["_id"]: d async for d in coll.find({"_id": {"$in": [o["_id"] for o in outlines]}})}
    return [by_id[o["_id"]] for o in outlines if o["_id"] in by_id]


@dataclass
class Retries:
    """When this process tries each held command again: at once, then after FIRST_RETRY_S, the
    pause doubling up to `max_s` while the command keeps waiting.

    In memory, per process: it only spares work. Any instance may try any held command at any
    time (the retry is a unit of work like any other), so a restart or a second instance only
    tries some sooner."""

    max_s: float
    _due: dict[str, tuple[float, int]] = field(default_factory=dict)  # id: (when, retries that waited)
    _let_through: set[str] = field(default_factory=set)  # held upstream, made due once the fence passed

    def due(self, outlines: list[dict], now: float, wait_s: float, woken: set[str] = frozenset(),
            arrived: Callable[[datetime], bool] | None = None) -> list[dict]:
        """The outlines to try now, in order: every held command of each key whose first (the one
        that holds the others) is due or has waited out `wait_s`, or that is `woken`. A first held
        until the facts published before it arrive (`upstream`) is not due at all while the
        pipeline's fence (`arrived`) has not passed its first handling (tried, it could only wait
        again), and due once when it has (should it then wait for a reference, it takes the pauses).
        Forgets the commands no longer held."""
        held = {o["_id"] for o in outlines}
        self._due = {i: v for i, v in self._due.items() if i in held}
        self._let_through &= held
        first = heads(outlines)
        fenced = behind_fence(first.values(), arrived)
        passed = {k for k, o in first.items()
                  if o.get("upstream") and k not in fenced and o["_id"] not in self._let_through}
        self._let_through |= {first[k]["_id"] for k in passed}
        keys = {k for k, o in first.items() if k not in fenced and (
                k in woken or k in passed or self._due.get(o["_id"], (0.0, 0))[0] <= now or expired(o, wait_s))}
        return [o for o in outlines if o["key"] in keys]

    def waited(self, _id: str, now: float) -> None:
        """Tried, and still waiting: the next try after a pause twice the last one."""
        _when, n = self._due.get(_id, (0.0, 0))
        self._due[_id] = (now + min(FIRST_RETRY_S * 2 ** n, self.max_s), n + 1)
