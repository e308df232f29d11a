"""What the review tests share: events as the other services publish them, reviewer
profiles, and waiting for the consumers and the relay."""

import asyncio
import io
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar

import httpx
import nats.js.errors
import pypdf
import sqlalchemy as sa

from pmm_kit.contracts.common import CycleRef, MemberAttributes, ValueState
from pmm_kit.contracts.scoring import ScoresComputed
from pmm_kit.contracts.submission import (
    MemberChanged,
    SubmissionAccepted,
    SubmissionReturned,
    SubmissionSubmitted,
    SubmittedValue,
)
from pmm_kit.events import STREAM_NAME, Contract, Envelope
from pmm_kit.tables import inbox
from pmm_local.testing import RunningService
from pmm_methodology import DataValue, compute, reference_framework

T = TypeVar("T")

CYCLE = CycleRef(
    cycle_id="cycle-2023",
    reporting_year=2022,
    framework_code="PMM",
    framework_version="1.0.0",
)
# As the submission service's member registry names them.
REGIONS = {
    "BRA": "Americas and Caribbean",
    "ARG": "Americas and Caribbean",
    "FRA": "Europe",
    "KEN": "East and Southern Africa",
}
FIRST_VALUES = {
    ("DECL_TOTAL", 2022): "200000",
    ("DECL_ELECTRONIC", 2022): "196200",
    ("AEO_COUNT", 2022): "120",
    ("AEO_COUNT", 2021): "100",
}


def member(code: str) -> MemberAttributes:
    return MemberAttributes(
        code=code,
        name=f"Customs of {code}",
        wco_region=REGIONS[code],
        income_group=None,
        administration_type=None,
        geography=None,
    )


def submitted(
    submission_id: str,
    *,
    member_code: str = "BRA",
    revision: int = 1,
    values: Mapping[tuple[str, int], str | bool] | None = None,
) -> SubmissionSubmitted:
    return SubmissionSubmitted(
        submission_id=submission_id,
        cycle=CYCLE,
        member=member(member_code),
        revision=revision,
        submitted_at=datetime.now(UTC),
        submitted_by=f"ncp-{member_code}",
        values=tuple(
            SubmittedValue(
                data_element=element,
                year=year,
                state=ValueState.PROVIDED,
                value=value,
                reason=None,
            )
            for (element, year), value in sorted((values or FIRST_VALUES).items())
        ),
        kpi_opt_outs=(),
        disclosure={},
        restatements=(),
    )


def scored(
    submission_id: str, *, revision: int, values: Mapping[tuple[str, int], str | bool]
) -> ScoresComputed:
    """What the scoring service emits, computed by the methodology library."""
    assessment = compute(
        reference_framework(),
        CYCLE.reporting_year,
        {key: DataValue.provided(value) for key, value in values.items()},
    )
    return ScoresComputed(
        calculation_id=f"calc-{uuid.uuid4().hex[:8]}",
        submission_id=submission_id,
        cycle=CYCLE,
        member="BRA",
        revision=revision,
        computed_at=datetime.now(UTC),
        trigger="submission.submitted",
        current=True,
        assessment=json.loads(assessment.to_canonical_json()),
    )


def returned(
    submission_id: str,
    *,
    review_id: str | None,
    kpis: tuple[str, ...],
    revision: int = 1,
    reason: str = "correction asked by the review",
) -> SubmissionReturned:
    """A return the review asked for (`review_id`), or the Secretariat's own (None)."""
    return SubmissionReturned(
        submission_id=submission_id,
        cycle=CYCLE,
        member="BRA",
        revision=revision,
        kpis=kpis,
        reason=reason,
        returned_by="secretariat-system",
        review_id=review_id,
    )


def accepted(submission_id: str, *, revision: int = 1) -> SubmissionAccepted:
    return SubmissionAccepted(
        submission_id=submission_id,
        cycle=CYCLE,
        member="BRA",
        revision=revision,
        accepted_by="secretariat-lead",
    )


def member_changed(code: str) -> MemberChanged:
    return MemberChanged(member=member(code), changed_by="secretariat-registry")


async def publish(service: RunningService, payload: Contract) -> Envelope:
    """As another service's outbox relay does: the envelope, with its message id."""
    envelope = Envelope.wrap(payload, correlation_id=f"test-{uuid.uuid4().hex[:8]}")
    await service.runtime.broker.jetstream.publish(
        payload.event_type(),
        envelope.model_dump_json().encode(),
        headers={"Nats-Msg-Id": str(envelope.id)},
    )
    return envelope


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, within: float = 10.0
) -> T:
    """The probe's first answer that is not None, polled until the timeout."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await probe()
        if found is not None:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the expected state was not reached in time")
        await asyncio.sleep(0.05)


async def consumed(service: RunningService, envelope: Envelope) -> None:
    """Wait until one of the service's consumers has taken the event in."""

    async def probe() -> bool | None:
        async with service.runtime.sessions() as session:
            found = await session.scalar(
                sa.select(sa.func.count()).where(inbox.c.event_id == envelope.id)
            )
        return True if found else None

    await eventually(probe)


async def last_event(
    service: RunningService, contract: type[Contract], **expected: Any
) -> Envelope:
    """The last event of this type on the stream, once its fields match `expected`."""

    async def probe() -> Envelope | None:
        try:
            stored = await service.runtime.broker.jetstream.get_last_msg(
                STREAM_NAME, contract.event_type()
            )
        except nats.js.errors.NotFoundError:
            return None
        envelope = Envelope.model_validate_json(stored.data or b"{}")
        matches = all(envelope.data.get(k) == v for k, v in expected.items())
        return envelope if matches else None

    return await eventually(probe)


async def register_reviewer(
    service: RunningService,
    *,
    home_member: str,
    name: str,
    languages: list[str],
    expertise: list[str],
) -> dict[str, Any]:
    response = await service.client.post(
        "/reviewers",
        json={
            "subject": f"reviewer-{home_member.lower()}-{uuid.uuid4().hex[:6]}",
            "name": name,
            "home_member": home_member,
            "languages": languages,
            "expertise": expertise,
            "accreditation": "wco_expert",
        },
        headers=service.token("secretariat"),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def as_reviewer(service: RunningService, reviewer: dict[str, Any]) -> dict[str, str]:
    return service.token("reviewer", subject=reviewer["subject"])


def pdf_text(pdf: bytes) -> str:
    """The text drawn on a PDF's pages, read back through each embedded font's map to
    Unicode. Lines are joined by a space, so a paragraph wrapped between words reads
    whole."""
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    return " ".join(line for page in pages for line in page.extract_text().splitlines())


def if_match(response: httpx.Response) -> dict[str, str]:
    return {"If-Match": response.headers["ETag"]}


async def request_review(
    service: RunningService, submission_id: str, member_code: str = "BRA"
) -> httpx.Response:
    """The NCP's request, once the submission's event has reached the service."""
    ncp = service.token("ncp", member_code)

    async def probe() -> httpx.Response | None:
        response = await service.client.post(
            "/reviews",
            json={
                "submission_id": submission_id,
                "languages": ["en", "pt"],
                "focus_dimensions": ["TF"],
                "reason": "An outside view before the cycle report.",
            },
            headers=ncp,
        )
        return None if response.status_code == 404 else response

    return await eventually(probe)


async def review_in_progress(
    service: RunningService, submission_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A review of BRA assigned to two reviewers (from FRA and KEN)."""
    await publish(service, submitted(submission_id))
    requested = await request_review(service, submission_id)
    assert requested.status_code == 201, requested.text
    reviewers = [
        await register_reviewer(
            service,
            home_member=code,
            name=f"Expert {code}",
            languages=["en"],
            expertise=["TF"],
        )
        for code in ("FRA", "KEN")
    ]
    assigned = await service.client.put(
        f"/reviews/{requested.json()['id']}/reviewers",
        json={
            "reviewer_ids": [r["id"] for r in reviewers],
            "reason": "Trade facilitation experts.",
        },
        headers={**service.token("secretariat"), **if_match(requested)},
    )
    assert assigned.status_code == 200, assigned.text
    review: dict[str, Any] = assigned.json()
    return review, reviewers


class ReviewerView(NamedTuple):
    """A review in progress and what its first reviewer read of it."""

    review: dict[str, Any]
    url: str
    headers: dict[str, str]
    seen: httpx.Response


async def seen_by_its_reviewer(service: RunningService) -> ReviewerView:
    """A fresh review in progress (as `review_in_progress`), read by the first of its
    reviewers: the response carries the version a change must name in If-Match."""
    review, (reviewer, _) = await review_in_progress(service, f"sub-{uuid.uuid4().hex}")
    url = f"/reviews/{review['id']}"
    headers = as_reviewer(service, reviewer)
    seen = await service.client.get(url, headers=headers)
    return ReviewerView(review, url, headers, seen)
