"""Events as the other services' outbox relays publish them, and ways to wait for
the reporting service to have applied them."""

import asyncio
import json
import uuid
from collections.abc import Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pmm_kit.contracts.common import (
    CycleRef,
    DisclosureLevel,
    MemberAttributes,
    Window,
)
from pmm_kit.contracts.review import (
    ReviewAssigned,
    ReviewCompleted,
    ReviewOutcome,
    ReviewRequested,
    ReviewWithdrawn,
)
from pmm_kit.contracts.scoring import ScoresComputed
from pmm_kit.contracts.submission import (
    CycleOpened,
    MemberChanged,
    SubmissionAccepted,
    SubmissionReturned,
    SubmissionSubmitted,
)
from pmm_kit.events import Contract, Envelope
from pmm_kit.tables import inbox
from pmm_local.testing import RunningService
from pmm_methodology import DataValue, ElementType, compute, reference_framework

# The reporting service set up but not started: `async with service as s:`.
ServiceToStart = AbstractAsyncContextManager[RunningService]

FRAMEWORK = reference_framework()
APPLY_TIMEOUT_SECONDS = 15.0
# Totals that other elements must not exceed: kept large so that any override fits.
_TOTALS = {
    "DECL_TOTAL",
    "DECL_INSPECTED",
    "SHIPMENTS_TOTAL",
    "TRADE_VALUE_TOTAL",
    "TRANSIT_OPERATIONS",
    "REV_CUSTOMS",
    "REV_FORECAST",
    "REV_TAX_TOTAL",
    "PCA_AUDITS",
    "MAA_REQUESTS",
    "STAFF_TOTAL",
    "PLAN_TARGETS",
    "DRUG_CONTROLS",
}


def cycle_ref(year: int = 2024, cycle_id: str | None = None) -> CycleRef:
    return CycleRef(
        cycle_id=cycle_id or f"cycle-{year}",
        reporting_year=year,
        framework_code=FRAMEWORK.code,
        framework_version=FRAMEWORK.version,
    )


def attributes(
    code: str,
    region: str = "Europe",
    income: str | None = "high",
    administration: str | None = "customs",
) -> MemberAttributes:
    return MemberAttributes(
        code=code,
        name=f"Administration {code}",
        wco_region=region,
        income_group=income,
        administration_type=administration,
        geography=None,
    )


def data_values(
    year: int, seed: int, overrides: Mapping[tuple[str, int], Any] | None = None
) -> dict[tuple[str, int], DataValue]:
    """A full, plausible set of data for T and T-1; `overrides` win."""
    values: dict[tuple[str, int], DataValue] = {}
    for element in FRAMEWORK.data_elements:
        for when in (year, year - 1):
            values[(element.code, when)] = DataValue.provided(
                _plausible(element.code, element.type, element.allowed, seed)
            )
    for key, value in (overrides or {}).items():
        values[key] = DataValue.provided(value)
    return values


def _plausible(
    code: str, kind: ElementType, allowed: tuple[str, ...], seed: int
) -> Any:
    if kind is ElementType.BOOLEAN:
        return True
    if kind is ElementType.ENUM:
        return allowed[-1]
    if kind is ElementType.DURATION:
        return Decimal(10 + seed % 50)
    if kind is ElementType.PERCENT:
        return Decimal(50 + seed % 40)
    if code in _TOTALS:
        return Decimal(1_000_000 + seed * 1_000)
    return Decimal(1_000 + (seed * 37) % 900)


def assessment(
    year: int, seed: int, overrides: Mapping[tuple[str, int], Any] | None = None
) -> dict[str, Any]:
    computed = compute(FRAMEWORK, year, data_values(year, seed, overrides))
    parsed: dict[str, Any] = json.loads(computed.to_canonical_json())
    return parsed


def submission_id(cycle: CycleRef, member: str) -> str:
    return f"sub-{cycle.cycle_id}-{member}"


def submitted(
    cycle: CycleRef,
    member: MemberAttributes,
    *,
    revision: int = 1,
    disclosure: Mapping[str, DisclosureLevel] | None = None,
    at: datetime | None = None,
) -> SubmissionSubmitted:
    return SubmissionSubmitted(
        submission_id=submission_id(cycle, member.code),
        cycle=cycle,
        member=member,
        revision=revision,
        submitted_at=at or datetime.now(UTC),
        submitted_by=f"ncp-{member.code}",
        values=(),
        kpi_opt_outs=(),
        disclosure=dict(disclosure or {}),
        restatements=(),
    )


def scored(
    cycle: CycleRef,
    member: str,
    result: dict[str, Any],
    *,
    revision: int = 1,
    at: datetime | None = None,
) -> ScoresComputed:
    return ScoresComputed(
        calculation_id=str(uuid.uuid4()),
        submission_id=submission_id(cycle, member),
        cycle=cycle,
        member=member,
        revision=revision,
        computed_at=at or datetime.now(UTC),
        trigger="submission.submitted",
        current=True,
        assessment=result,
    )


def accepted(cycle: CycleRef, member: str, *, revision: int = 1) -> SubmissionAccepted:
    return SubmissionAccepted(
        submission_id=submission_id(cycle, member),
        cycle=cycle,
        member=member,
        revision=revision,
        accepted_by="secretariat",
    )


def returned(cycle: CycleRef, member: str, *, revision: int = 1) -> SubmissionReturned:
    return SubmissionReturned(
        submission_id=submission_id(cycle, member),
        cycle=cycle,
        member=member,
        revision=revision,
        kpis=("TF.1.1",),
        reason="a reviewer found an error",
        returned_by="secretariat",
        review_id="review-1",
    )


def review_id(cycle: CycleRef, member: str) -> str:
    return f"review-{cycle.cycle_id}-{member}"


def review_requested(cycle: CycleRef, member: str) -> ReviewRequested:
    return ReviewRequested(
        review_id=review_id(cycle, member),
        submission_id=submission_id(cycle, member),
        cycle=cycle,
        member=member,
        revision=1,
        requested_by=f"ncp-{member}",
    )


def review_assigned(
    cycle: CycleRef, member: str, reviewers: Mapping[str, str]
) -> ReviewAssigned:
    """`reviewers` maps the review service's reviewer ids to their token subjects."""
    return ReviewAssigned(
        review_id=review_id(cycle, member),
        submission_id=submission_id(cycle, member),
        member=member,
        reviewer_ids=tuple(reviewers),
        reviewer_subjects=tuple(reviewers.values()),
        assigned_by="secretariat",
    )


def review_withdrawn(cycle: CycleRef, member: str) -> ReviewWithdrawn:
    return ReviewWithdrawn(
        review_id=review_id(cycle, member),
        submission_id=submission_id(cycle, member),
        member=member,
        reason="no longer needed",
        withdrawn_by=f"ncp-{member}",
    )


def review_completed(cycle: CycleRef, member: str) -> ReviewCompleted:
    return ReviewCompleted(
        review_id=review_id(cycle, member),
        submission_id=submission_id(cycle, member),
        cycle=cycle,
        member=member,
        revision=1,
        outcome=ReviewOutcome.COMPLETED,
        verdicts=(),
        completed_by="reviewer-1",
    )


def cycle_opened(cycle: CycleRef) -> CycleOpened:
    today = datetime.now(UTC).date()
    return CycleOpened(
        cycle=cycle,
        code=f"PMM-{cycle.reporting_year}",
        window=Window(opens=today, closes=today + timedelta(days=90)),
        opened_by="secretariat",
    )


def member_changed(member: MemberAttributes) -> MemberChanged:
    return MemberChanged(member=member, changed_by="secretariat")


def participation(
    cycle: CycleRef,
    member: MemberAttributes,
    overrides: Mapping[tuple[str, int], Any] | None = None,
    *,
    seed: int = 1,
    disclosure: Mapping[str, DisclosureLevel] | None = None,
    revision: int = 1,
) -> list[Contract]:
    """A member's submitted, scored and accepted revision."""
    result = assessment(cycle.reporting_year, seed, overrides)
    return [
        submitted(cycle, member, revision=revision, disclosure=disclosure),
        scored(cycle, member.code, result, revision=revision),
        accepted(cycle, member.code, revision=revision),
    ]


async def publish(
    jetstream: JetStreamContext, payloads: Iterable[Contract]
) -> list[Envelope]:
    """Publish as an outbox relay does: one message per event, `Nats-Msg-Id` set."""
    envelopes = [
        Envelope.wrap(payload, correlation_id="test-correlation")
        for payload in payloads
    ]
    await publish_envelopes(jetstream, envelopes)
    return envelopes


async def publish_envelopes(
    jetstream: JetStreamContext, envelopes: Iterable[Envelope]
) -> None:
    """Publish events already wrapped, in this order (whatever their times say)."""
    for envelope in envelopes:
        await jetstream.publish(
            envelope.type,
            envelope.model_dump_json().encode(),
            headers={"Nats-Msg-Id": str(envelope.id)},
        )


async def wait_applied(
    sessions: async_sessionmaker[AsyncSession],
    envelopes: list[Envelope],
) -> None:
    """Until the service's consumer has committed every one of the events."""
    wanted = {envelope.id for envelope in envelopes}
    deadline = asyncio.get_running_loop().time() + APPLY_TIMEOUT_SECONDS
    while True:
        async with sessions() as session:
            seen = set(
                await session.scalars(
                    sa.select(inbox.c.event_id).where(inbox.c.event_id.in_(wanted))
                )
            )
        if seen == wanted:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{len(wanted - seen)} events were not applied")
        await asyncio.sleep(0.05)


async def publish_and_wait(running: Any, payloads: Iterable[Contract]) -> None:
    runtime = running.runtime
    envelopes = await publish(runtime.broker.jetstream, payloads)
    await wait_applied(runtime.sessions, envelopes)


def electronic_share(value: str) -> dict[tuple[str, int], Any]:
    """Data giving TF.1.1 (rate of electronic declarations) exactly `value` %."""
    return {
        ("DECL_TOTAL", 2024): Decimal(10_000),
        ("DECL_ELECTRONIC", 2024): Decimal(value) * 100,
    }


def shares_accepted(
    cycle: CycleRef,
    shares: Mapping[str, str],
    *,
    level: DisclosureLevel | None = None,
    first_seed: int = 0,
) -> list[Contract]:
    """Members of Europe, high income, customs (every cell has the same members),
    each accepted with its TF.1.1 share disclosed at `level` (restricted when None)."""
    disclosure = None if level is None else {"TF.1.1": level}
    events: list[Contract] = []
    for seed, (code, share) in enumerate(shares.items(), first_seed):
        events += participation(
            cycle,
            attributes(code),
            electronic_share(share),
            seed=seed,
            disclosure=disclosure,
        )
    return events


def revenue_variation(value: str) -> dict[tuple[str, int], Any]:
    """Data giving RC.1.2 (annual variation in customs revenue) exactly `value` %."""
    return {
        ("REV_CUSTOMS", 2023): Decimal(10_000_000),
        ("REV_CUSTOMS", 2024): Decimal(10_000_000) + Decimal(value) * 100_000,
    }


async def publish_report(running: Any, cycle: CycleRef | None = None) -> str:
    """Publish the cycle's report as the Secretariat; its id. Readers other than
    the Secretariat get benchmark cells only as a report froze them."""
    cycle_id = (cycle or cycle_ref(2024)).cycle_id
    response = await running.client.post(
        f"/cycles/{cycle_id}/reports", headers=running.token("secretariat")
    )
    assert response.status_code == 201, response.text
    report_id: str = response.json()["report_id"]
    return report_id
