"""What the scoring tests share: submitted revisions as the submission service sends
them, publishing them, and reading what the service stored."""

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import sqlalchemy as sa
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pmm_kit.contracts.common import CycleRef, MemberAttributes, ValueState
from pmm_kit.contracts.submission import (
    KpiOptOut,
    SubmissionSubmitted,
    SubmittedValue,
)
from pmm_kit.events import CORRELATION_HEADER, Envelope
from pmm_methodology import DataValue, compute, reference_framework

REPORTING_YEAR = 2022


def complete_values() -> list[dict[str, Any]]:
    """The values of the library's hand-checked complete submission."""
    vectors = resources.files("pmm_methodology").joinpath("vectors")
    document = json.loads(vectors.joinpath("complete-submission.json").read_text())
    values: list[dict[str, Any]] = document["cases"][0]["values"]
    return values


def reference_file_text() -> str:
    """The reference framework's file, as shipped."""
    frameworks = resources.files("pmm_methodology").joinpath("frameworks")
    return frameworks.joinpath("pmm-v1.yaml").read_text(encoding="utf-8")


def submitted_values(
    changes: dict[str, str] | None = None,
) -> tuple[SubmittedValue, ...]:
    """The complete submission's values, some T values replaced by `changes`."""
    changes = changes or {}
    result = []
    for entry in complete_values():
        value = entry.get("value")
        if entry["year"] == REPORTING_YEAR and entry["element"] in changes:
            value = changes[entry["element"]]
        result.append(
            SubmittedValue(
                data_element=entry["element"],
                year=entry["year"],
                state=ValueState(entry.get("state", "provided")),
                value=value,
                reason=entry.get("reason"),
            )
        )
    return tuple(result)


def submitted(
    *,
    member: str = "BRA",
    cycle_id: str = "cycle-2023",
    revision: int = 1,
    submission_id: str | None = None,
    changes: dict[str, str] | None = None,
    opt_outs: dict[str, str] | None = None,
    framework_version: str = "1.0.0",
) -> SubmissionSubmitted:
    return SubmissionSubmitted(
        submission_id=submission_id or f"sub-{member}-{cycle_id}",
        cycle=CycleRef(
            cycle_id=cycle_id,
            reporting_year=REPORTING_YEAR,
            framework_code="PMM",
            framework_version=framework_version,
        ),
        member=MemberAttributes(
            code=member,
            name=f"Customs of {member}",
            wco_region="Americas",
            income_group=None,
            administration_type=None,
            geography=None,
        ),
        revision=revision,
        submitted_at=datetime.now(UTC),
        submitted_by="ncp-1",
        values=submitted_values(changes),
        kpi_opt_outs=tuple(
            KpiOptOut(kpi=kpi, reason=reason)
            for kpi, reason in (opt_outs or {}).items()
        ),
        disclosure={},
        restatements=(),
    )


def library_result(event: SubmissionSubmitted) -> str:
    """The methodology library's canonical result for the same inputs."""
    values = {}
    for entry in event.values:
        if entry.state is ValueState.PROVIDED:
            assert entry.value is not None
            value = DataValue.provided(entry.value)
        elif entry.state is ValueState.NOT_APPLICABLE:
            value = DataValue.not_applicable(entry.reason or "")
        else:
            value = DataValue.not_available(entry.reason or "")
        values[(entry.data_element, entry.year)] = value
    opt_outs = {opt_out.kpi: opt_out.reason for opt_out in event.kpi_opt_outs}
    assessment = compute(
        reference_framework(),
        event.cycle.reporting_year,
        values,
        kpi_opt_outs=opt_outs,
    )
    return assessment.to_canonical_json()


async def publish(
    jetstream: JetStreamContext,
    payload: SubmissionSubmitted | Any,
    *,
    envelope: Envelope | None = None,
    message_id: str | None = None,
) -> Envelope:
    """Publish as the submission service's outbox relay does."""
    envelope = envelope or Envelope.wrap(
        payload, correlation_id=f"corr-{uuid.uuid4().hex[:8]}"
    )
    await jetstream.publish(
        envelope.type,
        envelope.model_dump_json().encode(),
        headers={
            "Nats-Msg-Id": message_id or str(envelope.id),
            CORRELATION_HEADER: envelope.correlation_id,
        },
    )
    return envelope


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 20.0
) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within} s")
        await asyncio.sleep(0.05)


async def scalar(
    sessions: async_sessionmaker[AsyncSession], query: str, **params: Any
) -> Any:
    async with sessions() as session:
        return await session.scalar(sa.text(query), params)


async def rows(
    sessions: async_sessionmaker[AsyncSession], query: str, **params: Any
) -> list[Any]:
    async with sessions() as session:
        return list(await session.execute(sa.text(query), params))


async def calculations_stored(
    sessions: async_sessionmaker[AsyncSession], count: int, *, within: float = 20.0
) -> None:
    async def enough() -> bool:
        stored = await scalar(sessions, "SELECT count(*) FROM calculation")
        return int(stored) >= count

    await eventually(enough, within=within)


async def scores_computed(
    sessions: async_sessionmaker[AsyncSession],
) -> list[dict[str, Any]]:
    """The `scores computed` events written to the outbox, oldest first."""
    bodies = await rows(
        sessions,
        "SELECT body FROM outbox WHERE subject = :subject ORDER BY position",
        subject="pmm.scoring.scores.computed.v1",
    )
    return [json.loads(body)["data"] for (body,) in bodies]
