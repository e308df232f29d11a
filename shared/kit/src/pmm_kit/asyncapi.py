"""An AsyncAPI 3.0 document of every event subject and payload, from the contracts."""

from typing import Any
from urllib.parse import urlsplit

from pydantic import TypeAdapter

from pmm_kit.events import STREAM_NAME, Contract, Envelope, registered_contracts


def asyncapi_document(
    contracts: list[type[Contract]] | None = None,
    *,
    nats_url: str = "nats://localhost:4222",
) -> dict[str, Any]:
    contracts = registered_contracts() if contracts is None else contracts
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Envelope": _envelope_schema()}
    for contract in contracts:
        key = contract.event_type().replace(".", "_")
        schemas[contract.__name__] = TypeAdapter(contract).json_schema(
            ref_template="#/components/schemas/{model}"
        )
        messages[key] = _message(contract)
        channels[key] = {
            "address": contract.event_type(),
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
        }
        operations[f"{contract.producer}_sends_{key}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{key}"},
            "summary": f"Published by the {contract.producer} service.",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "PMM platform events",
            "version": "1.0.0",
            "description": (
                f"Every event of the PMM platform, on the JetStream stream "
                f"{STREAM_NAME}. Each message is a CloudEvents 1.0 envelope in "
                "structured JSON mode; its `data` is the payload below, its `type` "
                "equals the subject."
            ),
        },
        "servers": {"nats": {"host": _host(nats_url), "protocol": "nats"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": _flatten_defs(schemas)},
    }


def _host(url: str) -> str:
    """Host and port only: credentials in a URL are nobody's business here."""
    parsed = urlsplit(url)
    return f"{parsed.hostname}:{parsed.port or 4222}"


def _message(contract: type[Contract]) -> dict[str, Any]:
    return {
        "name": contract.event_type(),
        "title": contract.__name__,
        "summary": (contract.__doc__ or "").strip().split("\n")[0],
        "contentType": "application/cloudevents+json",
        "headers": {
            "type": "object",
            "properties": {
                "Nats-Msg-Id": {"type": "string", "description": "Deduplication id."},
                "Pmm-Correlation-Id": {"type": "string"},
            },
        },
        "payload": {
            "allOf": [
                {"$ref": "#/components/schemas/Envelope"},
                {
                    "type": "object",
                    "properties": {
                        "type": {"const": contract.event_type()},
                        "data": {"$ref": f"#/components/schemas/{contract.__name__}"},
                    },
                },
            ]
        },
    }


def _envelope_schema() -> dict[str, Any]:
    return Envelope.model_json_schema(ref_template="#/components/schemas/{model}")


def _flatten_defs(schemas: dict[str, Any]) -> dict[str, Any]:
    """Lift nested `$defs` to components, where the `$ref`s point."""
    flat: dict[str, Any] = {}
    for name, schema in schemas.items():
        for nested_name, nested in schema.pop("$defs", {}).items():
            flat[nested_name] = nested
        flat[name] = schema
    return flat
