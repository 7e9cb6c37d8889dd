"""The envelope every message travels in (contract: "Messages on Kafka")."""
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.types import MessageId, Timestamp


class Envelope(BaseModel):
    # Unknown top-level fields are ignored: a producer may add tracing without breaking us.
    model_config = ConfigDict(extra="ignore")

    id: MessageId
    type: str = Field(min_length=1, max_length=128)
    schema_version: int = Field(default=1, ge=1)
    occurred_at: Timestamp
    district: str = Field(min_length=1, max_length=128)
    source: str = Field(min_length=1, max_length=128)
    correlation_id: str | None = Field(default=None, max_length=128)
    causation_id: str | None = Field(default=None, max_length=128)
    # Added: the person on whose behalf the source sends the message (a token's subject). The HTTP
    # ingress sets it from the caller's token, whatever the body said; the audit trail records it
    # beside `source`. Left out of the encoded envelope when there is none.
    actor: str | None = Field(default=None, max_length=256)
    data: dict[str, Any]


class EnvelopeHead(BaseModel):
    """The least a record must have to be answered rather than dead-lettered."""

    model_config = ConfigDict(extra="ignore")

    id: MessageId
    type: str = Field(min_length=1, max_length=128)
