"""Turning raw Kafka values into typed messages, and typed events into envelopes.

Three outcomes, as the contract requires:
- not even an envelope (no JSON object with a usable `id` and `type`) → dead-letter;
- an envelope whose header or data breaks the schema → field-level errors, for `CommandRejected`;
- a valid message of a known type and version.
"""
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from shared.contracts.base import Message, lookup, versions_of
from shared.contracts.envelope import Envelope, EnvelopeHead


@dataclass
class NotEnvelope:
    reason: str


@dataclass
class Invalid:
    id: str
    type: str
    errors: list[dict[str, str]]
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def correlation_id(self) -> str | None:
        c = self.raw.get("correlation_id")
        return c if isinstance(c, str) else None


@dataclass
class Parsed:
    envelope: Envelope
    message: Message


def field_errors(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    out = []
    for e in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in e["loc"] if p != "__root__")
        name = f"{prefix}{loc}" if loc else prefix.rstrip(".") or "data"
        msg = e["msg"].removeprefix("Value error, ")
        out.append({"field": name, "message": msg})
    return out


def parse_json_object(value: bytes | None) -> dict[str, Any] | NotEnvelope:
    if value is None:
        return NotEnvelope("empty record")
    try:
        obj = json.loads(value)
    except (UnicodeDecodeError, ValueError) as exc:
        return NotEnvelope(f"not JSON: {exc}")
    except RecursionError:
        return NotEnvelope("JSON nested too deep")
    if not isinstance(obj, dict):
        return NotEnvelope("not a JSON object")
    return obj


def parse(value: bytes | None) -> NotEnvelope | Invalid | Parsed:
    obj = parse_json_object(value)
    if isinstance(obj, NotEnvelope):
        return obj
    return parse_object(obj)


def parse_object(obj: dict[str, Any]) -> NotEnvelope | Invalid | Parsed:
    try:
        head = EnvelopeHead.model_validate(obj)
    except ValidationError as exc:
        fields = ", ".join(e["field"] for e in field_errors(exc))
        return NotEnvelope(f"no usable envelope ({fields})")
    try:
        env = Envelope.model_validate(obj)
    except ValidationError as exc:
        return Invalid(head.id, head.type, field_errors(exc), obj)
    cls = lookup(env.type, env.schema_version)
    if cls is None:
        known = versions_of(env.type)
        if known:
            msg = f"schema_version {env.schema_version} of {env.type} is not supported (known: {known})"
            return Invalid(env.id, env.type, [{"field": "schema_version", "message": msg}], obj)
        return Invalid(env.id, env.type, [{"field": "type", "message": f"unknown message type {env.type!r}"}], obj)
    try:
        message = cls.model_validate(env.data)
    except ValidationError as exc:
        return Invalid(env.id, env.type, field_errors(exc, "data."), obj)
    return Parsed(env, message)


EVENT_NAMESPACE = uuid.UUID("5b0c4f7e-9d1a-4c33-9a57-5e7a1c0d2f11")


def derived_id(cause_id: str, n: int | str, by: str | None = None) -> str:
    """The id of the n-th message caused by `cause_id`: the same on every replay. `by` names the
    emitter (its envelopes' `source`): several services react to one event, and the first event
    each emits for it must not share an id (a consumer of both would drop one as a repeat). Without
    `by`, an id named after something other than a message (e.g. `derived_id("alert", ...)`)."""
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{cause_id}/{n}" if by is None else f"{by}:{cause_id}/{n}"))


def envelope_for(event: Message, *, id: str, cause: Envelope | None, source: str, district: str,
                 occurred_at=None) -> Envelope:
    return Envelope(
        id=id,
        type=event.TYPE,
        schema_version=event.VERSION,
        occurred_at=occurred_at or cause.occurred_at,
        district=cause.district if cause else district,
        source=source,
        correlation_id=(cause.correlation_id or cause.id) if cause else None,
        causation_id=cause.id if cause else None,
        data=event.to_data(),
    )


def encode(env: Envelope) -> bytes:
    body = env.model_dump(mode="json", exclude={"actor"} if env.actor is None else None)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
