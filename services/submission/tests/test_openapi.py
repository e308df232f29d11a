"""The OpenAPI document gives an example for every request body and every error."""

import json

from pmm_submission.main import create_app
from pmm_submission.settings import SubmissionSettings

OPERATIONS = {"/healthz", "/readyz"}


def test_every_endpoint_documents_its_body_and_errors_with_examples() -> None:
    schema = create_app(SubmissionSettings()).openapi()
    missing = []

    for path, operations in schema["paths"].items():
        if path in OPERATIONS:
            continue
        for method, operation in operations.items():
            if not operation.get("description"):
                missing.append(f"{method} {path}: no docstring")
            for status, response in operation["responses"].items():
                if status.startswith("4") and "example" not in json.dumps(response):
                    missing.append(f"{method} {path}: {status} has no example")
            body = operation.get("requestBody")
            if body is not None and not _has_example(schema, body):
                missing.append(f"{method} {path}: body has no example")

    assert missing == []


def _has_example(schema: dict[str, object], body: dict[str, object]) -> bool:
    text = json.dumps(body)
    if "example" in text:
        return True
    name = text.split("#/components/schemas/")[1].split('"')[0]
    components = schema["components"]
    assert isinstance(components, dict)
    return "examples" in json.dumps(components["schemas"][name])
