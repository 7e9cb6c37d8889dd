"""An in-memory unit of work for handler unit tests: the same staging as production, dicts behind it."""
from collections import defaultdict

import bson
from bson.codec_options import CodecOptions

from shared.messaging.unit_of_work import VERSION, Encoded, StagedUnitOfWork, apply_inc, clone

CODEC = CodecOptions(tz_aware=True)  # as the services' client decodes


class FakeUnitOfWork(StagedUnitOfWork):
    def __init__(self, docs: dict[str, dict[str, dict]] | None = None, kept_encoded: frozenset[str] = frozenset(),
                 assume_new: bool = True):
        super().__init__(kept_encoded, assume_new)
        self.docs: dict[str, dict[str, dict]] = defaultdict(dict, {c: dict(d) for c, d in (docs or {}).items()})
        self.loads = 0
        self.published: list = []
        self._as_loaded: dict[tuple[str, str], dict] = {}

    async def _load(self, coll: str, ids: list[str]) -> dict[str, dict]:
        self.loads += 1
        found = {i: clone(self.docs[coll][i]) for i in ids if i in self.docs[coll]}
        self.bytes_by_collection[coll] += sum(len(bson.encode(d)) for d in found.values())  # as the adapter counts
        if coll in self.kept_encoded:
            return {i: Encoded(self._encode(d), d.get(VERSION, 0)) for i, d in found.items()}
        self._as_loaded.update({(coll, i): clone(d) for i, d in found.items()})
        return found

    def _decode(self, data: bytes) -> dict:
        return bson.decode(data, codec_options=CODEC)

    def _encode(self, doc: dict) -> bytes:
        return bson.encode(doc, codec_options=CODEC)

    def assert_untouched(self) -> None:
        """No handler changed a document it only looked at (`read`, `Repository.peek`): the
        cache is shared with every later message of the batch."""
        for key, saved in self._as_loaded.items():
            assert self._cache.get(key) == saved, f"{key} was changed in the unit of work's cache"

    def commit(self) -> None:
        """What the Mongo adapter writes, without its version checks."""
        self.assert_untouched()
        for w in self.writes:
            current = self.docs[w.coll].get(w._id)
            if w.condition is not None:
                if w.condition == "fence" and current is not None:
                    current[VERSION] = current.get(VERSION, 0) + 1
                continue
            if w.inc is not None:
                doc = current or {"_id": w._id, **clone(w.inc.on_insert)}
                self.docs[w.coll][w._id] = apply_inc(doc, {**w.inc.counts, VERSION: 1})
            elif w.doc is None:
                self.docs[w.coll].pop(w._id, None)
            elif w.sets is not None and current is not None:  # `$set` of the paths named, as the adapter
                doc = set_paths(clone(current), w.sets)
                doc[VERSION] = current.get(VERSION, 0) + 1
                assert {k: v for k, v in doc.items() if k != VERSION} == self.decoded(w.doc), (
                    f"{w.coll} {w._id}: the paths put as changed are not all that changed")
                self.docs[w.coll][w._id] = doc
            else:
                self.docs[w.coll][w._id] = {**self.decoded(w.doc), VERSION: (current or {}).get(VERSION, 0) + 1}
        self.published.extend(self.outbox)


def set_paths(doc: dict, sets: dict) -> dict:
    """`$set` of dotted paths in memory (creating the documents they pass through)."""
    for path, value in sets.items():
        *parents, last = path.split(".")
        node = doc
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = clone(value)
    return doc


class _Pipeline:
    """What a Context needs of its pipeline: names for the events it emits."""

    source, district = "sunsetred-test", "x-district"
    arrived = None  # no causal fence: a handler may always act

    def topic_name(self, base: str) -> str:
        return base


async def stage(handlers: dict, envelope: dict, uow: FakeUnitOfWork) -> None:
    """One command or event of a batch into the fake, as the pipeline does (prefetch what the
    handler wants and what that names, then handle it, then keep the message's changes); a
    `Rejected` propagates."""
    from shared.contracts.parsing import Parsed, parse_object
    from shared.messaging.pipeline import Context, read_named

    parsed = parse_object(envelope)
    assert isinstance(parsed, Parsed), parsed
    await uow.prefetch(handlers[parsed.envelope.type].wants(parsed.message))
    await read_named(uow, [(handlers[parsed.envelope.type], parsed.message, parsed.envelope)])
    await handlers[parsed.envelope.type].handle(parsed.message, Context(_Pipeline(), parsed.envelope, uow))
    uow.assert_untouched()
    uow.commit_message()


async def run_deferred(uow: FakeUnitOfWork) -> None:
    """The batch's deferred work, round after round, as the pipeline runs it before the commit."""
    from shared.messaging.pipeline import DEFERRED_ROUNDS

    for _round in range(DEFERRED_ROUNDS):
        due = uow.take_deferred()
        if not due:
            return
        for _key, _cause, run in due:
            await run()
            uow.commit_message()
    raise AssertionError("deferred work still deferring more")


async def handle(handlers: dict, envelope: dict, uow: FakeUnitOfWork) -> list:
    """Run one command or event through a service's handler table against the fake, as a batch of
    its own (`stage`, then `run_deferred`); returns the envelopes it emitted (a `Rejected`
    propagates, as the pipeline would see it)."""
    import json

    before = len(uow._staged_out) + len(uow._batch_out)
    await stage(handlers, envelope, uow)
    await run_deferred(uow)
    uow.assert_untouched()
    return [json.loads(r.value) for r in uow.outbox[before:]]


async def refusal(handlers: dict, envelope: dict, uow: FakeUnitOfWork) -> tuple[str, list[str]]:
    """The refusal of a command: (reason, fields at fault); its staged writes and events are
    dropped, as the pipeline does."""
    import pytest

    from shared.errors import Rejected

    with pytest.raises(Rejected) as r:
        await handle(handlers, envelope, uow)
    uow.rollback_message()
    return r.value.reason, [e["field"] for e in r.value.errors]
