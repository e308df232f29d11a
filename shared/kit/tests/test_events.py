"""Contracts, the envelope and the AsyncAPI document generated from them."""

import json
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_core import to_json

from pmm_kit.asyncapi import asyncapi_document
from pmm_kit.events import (
    Contract,
    Envelope,
    UnknownEventError,
    contract_for,
    encode_event,
)

from .probe import ProbeRecorded


def test_a_contract_is_frozen_and_refuses_unknown_fields() -> None:
    probe = ProbeRecorded(value=1)

    with pytest.raises(ValidationError, match="frozen"):
        probe.value = 2  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        ProbeRecorded.model_validate({"value": 1, "extra": True})


def test_the_subject_names_producer_entity_event_and_version() -> None:
    assert ProbeRecorded.event_type() == "pmm.kittest.probe.recorded.v1"
    assert contract_for("pmm.kittest.probe.recorded.v1") is ProbeRecorded


def test_a_second_version_is_a_contract_of_its_own() -> None:
    class ProbeRecordedV2(Contract):
        producer = "kittest"
        entity = "probe"
        event = "recorded"
        version = 2

        value: int
        unit: str

    assert contract_for("pmm.kittest.probe.recorded.v2") is ProbeRecordedV2
    assert contract_for("pmm.kittest.probe.recorded.v1") is ProbeRecorded


def test_two_contracts_may_not_claim_one_event_type() -> None:
    with pytest.raises(ValueError, match="two contracts claim"):

        class Impostor(Contract):
            producer = "kittest"
            entity = "probe"
            event = "recorded"

            value: str


def test_the_envelope_carries_the_cloudevents_attributes() -> None:
    envelope = Envelope.wrap(
        ProbeRecorded(value=3), correlation_id="corr-1", subject="probe-9"
    )
    document = envelope.model_dump(mode="json")

    assert document["specversion"] == "1.0"
    assert document["source"] == "/pmm/kittest"
    assert document["type"] == "pmm.kittest.probe.recorded.v1"
    assert document["subject"] == "probe-9"
    assert document["datacontenttype"] == "application/json"
    assert document["correlation_id"] == "corr-1"
    assert document["data"] == {"value": 3}
    assert Envelope.model_validate_json(envelope.model_dump_json()) == envelope


class ReportFiled(Contract):
    """A report with its documents (test contract)."""

    producer = "kittest"
    entity = "report"
    event = "filed"

    title: str
    pages: int
    summary: dict[str, Any]
    annexes: list[Any]


SUMMARY = {"région": "Afrique", "levels": [1, 2, None], "nested": {"ok": True}}
ANNEXES = [{"name": "Tableau 1"}, "€ 1,5"]


def _documents() -> dict[str, str]:
    return {
        "summary": to_json(SUMMARY).decode(),
        "annexes": json.dumps(ANNEXES, ensure_ascii=False, separators=(",", ":")),
    }


def test_an_encoded_event_is_byte_for_byte_the_envelope_of_its_values() -> None:
    payload = ReportFiled(title="Année 2022", pages=3, summary={}, annexes=[])

    encoded = encode_event(
        payload, correlation_id="corr-7", subject="report-1", documents=_documents()
    )

    decoded = Envelope.model_validate_json(encoded.body)
    assert decoded.model_dump_json() == encoded.body
    assert decoded.payload() == ReportFiled(
        title="Année 2022", pages=3, summary=SUMMARY, annexes=ANNEXES
    )
    assert decoded.id == encoded.id
    assert decoded.type == encoded.type == "pmm.kittest.report.filed.v1"
    assert decoded.subject == "report-1"
    assert decoded.correlation_id == encoded.correlation_id == "corr-7"
    assert decoded.source == "/pmm/kittest"


def test_a_payload_made_only_of_documents_is_encoded_too() -> None:
    class Attached(Contract):
        producer = "kittest"
        entity = "attachment"
        event = "added"

        content: dict[str, Any]

    encoded = encode_event(
        Attached(content={}), correlation_id="c", documents={"content": '{"a":1}'}
    )

    decoded = Envelope.model_validate_json(encoded.body)
    assert decoded.model_dump_json() == encoded.body
    assert decoded.data == {"content": {"a": 1}}


@pytest.mark.parametrize(
    ("documents", "refusal"),
    [
        ({"summary": "{}"}, "not the last fields"),
        ({"annexes": "[]", "summary": "{}"}, "not the last fields"),
        ({"title": '"x"'}, "not the last fields"),
        ({}, "not the last fields"),
        ({"annexes": "1"}, "not a JSON object or array"),
    ],
)
def test_documents_that_would_change_the_bytes_are_refused(
    documents: dict[str, str], refusal: str
) -> None:
    payload = ReportFiled(title="t", pages=1, summary={}, annexes=[])

    with pytest.raises(ValueError, match=refusal):
        encode_event(payload, correlation_id="c", documents=documents)


def test_an_envelope_of_an_unknown_type_cannot_be_decoded() -> None:
    envelope = Envelope.wrap(ProbeRecorded(value=3), correlation_id="c")
    stranger = envelope.model_copy(update={"type": "pmm.nobody.thing.happened.v1"})

    with pytest.raises(UnknownEventError):
        stranger.payload()


def test_the_asyncapi_document_describes_each_subject_and_payload() -> None:
    document = asyncapi_document([ProbeRecorded])

    assert document["asyncapi"] == "3.0.0"
    channel = document["channels"]["pmm_kittest_probe_recorded_v1"]
    assert channel["address"] == "pmm.kittest.probe.recorded.v1"
    schema = document["components"]["schemas"]["ProbeRecorded"]
    assert schema["properties"]["value"]["type"] == "integer"
    assert schema["additionalProperties"] is False
    envelope = document["components"]["schemas"]["Envelope"]
    assert set(envelope["required"]) >= {
        "id",
        "source",
        "type",
        "time",
        "correlation_id",
    }
    operation = document["operations"]["kittest_sends_pmm_kittest_probe_recorded_v1"]
    assert operation["action"] == "send"


def test_the_platform_contracts_are_all_in_the_asyncapi_document() -> None:
    import pmm_kit.contracts  # noqa: F401  registers the platform's contracts

    channels = asyncapi_document()["channels"]
    addresses = {channel["address"] for channel in channels.values()}

    assert {
        "pmm.submission.submission.submitted.v1",
        "pmm.submission.member.changed.v1",
        "pmm.scoring.scores.computed.v1",
        "pmm.review.correction.requested.v1",
        "pmm.reporting.report.published.v1",
    } <= addresses
