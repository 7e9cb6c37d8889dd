"""Stable names for the events this service emits on its own account, so that their ids do not
depend on which message, unit or instance happened to emit them (nor on the order of a set).

- A delivery's events (dispatched, delivered, failed, handed to a specialist) are each said once
  per (type, notice, member, channel, attempt): their ids derive from exactly that, whether the
  delivery worker says them or a command does (a specialist completing a visit the worker has not
  handed over yet).
- A reminder's events derive from the reminder (alert id, level, months), not from the
  AlertRaised that happened to raise it.
The events keep the correlation of the message or unit that emitted them.
"""
import copy
import uuid

from shared.messaging.pipeline import Context

NAMESPACE = uuid.UUID("0b6f3a52-5f0c-4d7e-9a8e-3c2b1d4e5f60")


def as_if(ctx: Context, **envelope) -> Context:
    """The same unit of work, emitting as if its message's envelope had these fields (an id, a
    correlation, an instant)."""
    other = copy.copy(ctx)
    other.envelope = ctx.envelope.model_copy(update=envelope)
    return other


def caused_by(ctx: Context, name: str) -> Context:
    """The same unit of work, emitting as if caused by `name` (a stable id derived from it), in
    the correlation of the message handled."""
    return as_if(ctx, id=str(uuid.uuid5(NAMESPACE, name)), correlation_id=ctx.envelope.correlation_id or ctx.envelope.id)


def emit_for_delivery(ctx: Context, event) -> None:
    """One event of one delivery, its id derived from what it says."""
    name = (f"delivery|{event.TYPE}|{event.notice_id}|{event.member_id}|{getattr(event, 'channel', None)}"
            f"|{getattr(event, 'attempt', 0)}")
    caused_by(ctx, name).emit(event, basis=event.member_id)
