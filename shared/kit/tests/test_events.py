"""Contracts, the envelope and the AsyncAPI document generated from them."""

import pytest
from pydantic import ValidationError

from pmm_kit.asyncapi import asyncapi_document
from pmm_kit.events import Contract, Envelope, UnknownEventError, contract_for

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
