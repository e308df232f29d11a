"""Event contracts and the envelope they travel in.

A contract is the payload of one event type at one version: frozen, with no field
beyond those declared. Its subject is `pmm.<producer>.<entity>.<event>.v<N>`, which is
also its CloudEvents `type`. A breaking change is a new version, a new class.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field

STREAM_NAME = "PMM"
STREAM_SUBJECTS = "pmm.>"
SPEC_VERSION = "1.0"
CORRELATION_HEADER = "Pmm-Correlation-Id"


class UnknownEventError(LookupError):
    """No contract is registered for an event type."""


class Contract(BaseModel):
    """Base of every event payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    producer: ClassVar[str]
    entity: ClassVar[str]
    event: ClassVar[str]
    version: ClassVar[int] = 1

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "event" in cls.__dict__:
            register(cls)

    @classmethod
    def event_type(cls) -> str:
        return f"pmm.{cls.producer}.{cls.entity}.{cls.event}.v{cls.version}"


_registry: dict[str, type[Contract]] = {}


def register(contract: type[Contract]) -> None:
    event_type = contract.event_type()
    known = _registry.get(event_type)
    if known is not None and known is not contract:
        raise ValueError(f"two contracts claim the event type {event_type}")
    _registry[event_type] = contract


def contract_for(event_type: str) -> type[Contract]:
    try:
        return _registry[event_type]
    except KeyError:
        raise UnknownEventError(event_type) from None


def registered_contracts() -> list[type[Contract]]:
    return [_registry[event_type] for event_type in sorted(_registry)]


class Envelope(BaseModel):
    """A CloudEvents 1.0 event in structured JSON mode, plus `correlation_id`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: str = SPEC_VERSION
    id: uuid.UUID
    source: str = Field(description="The producing service, e.g. `/pmm/submission`.")
    type: str = Field(description="The event type, equal to the NATS subject.")
    subject: str | None = Field(
        default=None, description="The entity the event is about, e.g. a submission id."
    )
    time: datetime
    datacontenttype: str = "application/json"
    correlation_id: str
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        payload: Contract,
        *,
        correlation_id: str,
        subject: str | None = None,
        event_id: uuid.UUID | None = None,
    ) -> Self:
        return cls(
            id=event_id or uuid.uuid4(),
            source=f"/pmm/{payload.producer}",
            type=payload.event_type(),
            subject=subject,
            time=datetime.now(UTC),
            correlation_id=correlation_id,
            data=payload.model_dump(mode="json"),
        )

    def payload(self) -> Contract:
        """The data parsed into its contract; raises if unknown or invalid."""
        return contract_for(self.type).model_validate(self.data)


@dataclass(frozen=True)
class EncodedEvent:
    """An envelope as the JSON text that is stored in the outbox and published."""

    id: uuid.UUID
    type: str
    correlation_id: str
    body: str

    @classmethod
    def of(cls, envelope: Envelope) -> Self:
        return cls(
            envelope.id,
            envelope.type,
            envelope.correlation_id,
            envelope.model_dump_json(),
        )


def encode_event(
    payload: Contract,
    *,
    correlation_id: str,
    subject: str | None = None,
    documents: Mapping[str, str],
) -> EncodedEvent:
    """The event's envelope as JSON, the payload's fields named in `documents`
    written as the JSON text given there (their values in `payload` are not read).

    A producer that holds a large document as JSON text already (a stored canonical
    document, say) writes it once, instead of parsing it into values that are then
    serialised back into the same text. The documents must be the payload's last
    fields, in their declared order, so that the bytes are those `Envelope.wrap`
    would give for the same values; each must be a JSON object or array.
    """
    _check_documents(type(payload), documents)

    envelope = Envelope(
        id=uuid.uuid4(),
        source=f"/pmm/{payload.producer}",
        type=payload.event_type(),
        subject=subject,
        time=datetime.now(UTC),
        correlation_id=correlation_id,
        data={},
    )
    # `data` is the envelope's last field and the documents the payload's last:
    # each JSON text only needs its closing brace replaced.
    header = envelope.model_dump_json(exclude={"data"})
    values = payload.model_dump_json(exclude=set(documents))
    fields = [values[1:-1]] if values != "{}" else []
    fields += [f'"{name}":{text}' for name, text in documents.items()]
    body = f'{header[:-1]},"data":{{{",".join(fields)}}}}}'
    return EncodedEvent(envelope.id, envelope.type, correlation_id, body)


def _check_documents(contract: type[Contract], documents: Mapping[str, str]) -> None:
    names = list(contract.model_fields)
    if not documents or names[-len(documents) :] != list(documents):
        raise ValueError(
            f"the documents {list(documents)} are not the last fields of "
            f"{contract.__name__} in their declared order"
        )
    for name, text in documents.items():
        if text[:1] not in ("{", "["):
            raise ValueError(f"the document {name} is not a JSON object or array")
