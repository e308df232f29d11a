"""The OpenAPI document gives an example for every request body, every answer and
every problem a route can answer, each problem under its own type."""

import json
import re
from typing import Any

import pytest
from pydantic import BaseModel

from pmm_kit import errors as kit_errors
from pmm_submission import errors, schemas
from pmm_submission.main import create_app
from pmm_submission.settings import SubmissionSettings

OPERATIONS = {"/healthz", "/readyz"}
PROBLEM = "application/problem+json"
SUBMISSION = "/cycles/{cycle_id}/submissions/{member}"
BODY = {
    (422, "validation"),
    (413, "payload-too-large"),
    (415, "unsupported-media-type"),
}

# What the routes can answer, read from their code: the statuses and problem
# types that the feed and workflow routes may really produce, and no others.
EXPECTED: dict[tuple[str, str], set[tuple[int, str]]] = {
    ("post", "/feeds"): {
        (401, "unauthorized"),
        (409, "invalid-state"),
        (409, "idempotency-key-reused"),
        (409, "feed-failed"),
        (413, "payload-too-large"),
        (415, "unsupported-feed"),
        (400, "unreadable-feed"),
        (422, "invalid-input"),
        (422, "feed-rejected"),
        (422, "validation"),
    },
    ("get", "/feeds/{feed_id}"): {
        (401, "unauthorized"),
        (404, "not-found"),
        (422, "validation"),
    },
    ("post", f"{SUBMISSION}/submit"): {
        (401, "unauthorized"),
        (403, "forbidden"),
        (404, "not-found"),
        (409, "invalid-state"),
        (412, "precondition-failed"),
        (422, "submission-incomplete"),
        *BODY,
    },
    ("post", f"{SUBMISSION}/return"): {
        (401, "unauthorized"),
        (403, "forbidden"),
        (404, "not-found"),
        (409, "invalid-state"),
        (412, "precondition-failed"),
        (422, "invalid-input"),
        *BODY,
    },
    ("post", f"{SUBMISSION}/accept"): {
        (401, "unauthorized"),
        (403, "forbidden"),
        (404, "not-found"),
        (409, "invalid-state"),
        (412, "precondition-failed"),
        *BODY,
    },
    ("put", f"{SUBMISSION}/values/{{data_element}}/{{year}}"): {
        (401, "unauthorized"),
        (404, "not-found"),
        (409, "invalid-state"),
        (412, "precondition-failed"),
        (422, "invalid-input"),
        *BODY,
    },
    ("put", f"{SUBMISSION}/disclosure"): {
        (401, "unauthorized"),
        (403, "forbidden"),
        (404, "not-found"),
        (409, "invalid-state"),
        (412, "precondition-failed"),
        (422, "invalid-input"),
        *BODY,
    },
}


def _schema() -> dict[str, Any]:
    return create_app(SubmissionSettings()).openapi()


def _known_types() -> set[str]:
    """Every problem type the service can answer: its errors' and the kit's."""
    classes: list[type[kit_errors.ProblemError]] = [
        value
        for module in (errors, kit_errors)
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, kit_errors.ProblemError)
    ]
    return {c.slug for c in classes} | {"validation"}


def _problem_examples(response: dict[str, Any]) -> list[dict[str, Any]]:
    content = response.get("content", {}).get(PROBLEM, {})
    shown = [e["value"] for e in content.get("examples", {}).values()]
    return shown + ([content["example"]] if "example" in content else [])


def _documented(operation: dict[str, Any]) -> set[tuple[int, str]]:
    return {
        (int(status), example["type"].removeprefix("urn:pmm:problem:"))
        for status, response in operation["responses"].items()
        if status.startswith("4")
        for example in _problem_examples(response)
    }


def test_every_error_status_has_examples_of_types_the_service_answers() -> None:
    known = _known_types()
    wrong = []

    for path, operations in _schema()["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if not status.startswith("4"):
                    continue
                shown = _problem_examples(response)
                if not shown:
                    wrong.append(f"{method} {path}: {status} has no example")
                for example in shown:
                    kind = example["type"].removeprefix("urn:pmm:problem:")
                    if example["status"] != int(status) or kind not in known:
                        wrong.append(f"{method} {path}: {status} shows {kind}")
                    if not {"title", "detail", "instance"} <= set(example):
                        wrong.append(f"{method} {path}: {kind} is not a problem")

    assert wrong == []


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
def test_a_route_documents_exactly_the_problems_it_can_answer(
    method: str, path: str
) -> None:
    operation = _schema()["paths"][path][method]

    assert _documented(operation) == EXPECTED[(method, path)]


def test_every_endpoint_documents_its_body_and_answer_with_examples() -> None:
    schema = _schema()
    missing = []

    for path, operations in schema["paths"].items():
        if path in OPERATIONS:
            continue
        for method, operation in operations.items():
            if not operation.get("description"):
                missing.append(f"{method} {path}: no docstring")
            body = operation.get("requestBody")
            if body is not None and not _has_example(schema, body):
                missing.append(f"{method} {path}: body has no example")
            for status, response in operation["responses"].items():
                answers = status.startswith("2") and status != "204"
                if answers and not _has_example(schema, response):
                    missing.append(f"{method} {path}: {status} has no example")

    assert missing == []


def _has_example(schema: dict[str, Any], part: dict[str, Any]) -> bool:
    """An example in each of the part's media types, or in a schema it refers to
    (the items' of a list, the body's of an optional body); a binary workbook has
    none to show."""
    components = schema["components"]["schemas"]
    for content in part.get("content", {}).values():
        binary = content.get("schema", {}).get("format") == "binary"
        if binary or "example" in content or "examples" in content:
            continue
        names = re.findall(r"#/components/schemas/([^\"]+)", json.dumps(content))
        if not any(components[name].get("examples") for name in names):
            return False
    return bool(part.get("content"))


@pytest.mark.parametrize(
    "model",
    [
        value
        for value in vars(schemas).values()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.model_config.get("json_schema_extra")
    ],
    ids=lambda model: model.__name__,
)
def test_every_example_is_a_valid_instance_of_its_model(
    model: type[BaseModel],
) -> None:
    extra = model.model_config.get("json_schema_extra")
    assert isinstance(extra, dict)
    shown = extra["examples"]
    assert isinstance(shown, list)

    for example in shown:
        read = model.model_validate_json(json.dumps(example))
        if issubclass(model, schemas.Answer):
            assert read.model_dump(mode="json") == example
