"""Submitted revisions become stored calculations and `scores computed` events."""

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from nats.js.errors import NotFoundError

from pmm_kit.auth import Role
from pmm_kit.contracts.scoring import ScoresComputed
from pmm_kit.events import Envelope
from pmm_local.testing import RunningService, ServiceStarter, truncate_schema
from pmm_methodology import Framework, canonical_json, load_framework
from pmm_scoring.frameworks import known_frameworks
from pmm_scoring.main import create_app
from pmm_scoring.settings import ScoringSettings

from .helpers import (
    calculations_stored,
    eventually,
    library_result,
    publish,
    reference_file_text,
    rows,
    scalar,
    scores_computed,
    submitted,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(loop_scope="session")
async def scoring(
    run_service: ServiceStarter, scoring_database: str, isolated_nats: str
) -> AsyncIterator[RunningService]:
    await truncate_schema(scoring_database, "scoring")
    service = run_service(
        create_app,
        ScoringSettings,
        scoring_database,
        isolated_nats,
        run_consumers=True,
    )
    async with service as s:
        yield s


async def test_a_submitted_revision_is_stored_and_emitted_as_the_library_computes_it(
    scoring: RunningService,
) -> None:
    event = submitted(member="BRA", opt_outs={"TF.8.1": "no transit regime"})
    sessions = scoring.runtime.sessions

    published = await publish(scoring.runtime.broker.jetstream, event)
    await calculations_stored(sessions, 1)

    expected = library_result(event)
    stored = await scalar(sessions, "SELECT assessment FROM calculation")
    emitted = await scores_computed(sessions)
    body = await scalar(sessions, "SELECT body FROM outbox")
    envelope = Envelope.model_validate_json(body)
    assert stored == expected
    assert envelope.model_dump_json() == body
    assert envelope.source == "/pmm/scoring"
    assert envelope.type == "pmm.scoring.scores.computed.v1"
    assert envelope.subject == event.submission_id
    assert envelope.correlation_id == published.correlation_id
    assert envelope.payload() == ScoresComputed.model_validate(emitted[0])
    assert len(emitted) == 1
    assert canonical_json(emitted[0]["assessment"]) == expected
    assert emitted[0]["member"] == "BRA"
    assert emitted[0]["revision"] == 1
    assert emitted[0]["current"] is True
    assert emitted[0]["trigger"] == "submitted"
    response = await scoring.client.get(
        "/members/BRA/cycles/cycle-2023/scorecard",
        headers=scoring.token(Role.NCP, "BRA"),
    )
    card = response.json()
    assert card["calculation"]["current"] is True
    assert card["calculation"]["calculation_id"] == emitted[0]["calculation_id"]
    assert canonical_json(card["assessment"]) == expected


async def test_the_same_event_delivered_twice_makes_one_calculation(
    scoring: RunningService,
) -> None:
    jetstream = scoring.runtime.broker.jetstream
    sessions = scoring.runtime.sessions
    event = submitted(member="CAN")

    envelope = await publish(jetstream, event)
    # A second publish under another message id: JetStream cannot drop it.
    await publish(jetstream, event, envelope=envelope, message_id="again")
    # The same revision sent again as a new event (a resend by the producer).
    await publish(jetstream, event)
    await _consumed(scoring, "scoring-submissions")

    count = await scalar(
        sessions, "SELECT count(*) FROM calculation WHERE member = 'CAN'"
    )
    emitted = [e for e in await scores_computed(sessions) if e["member"] == "CAN"]
    assert count == 1
    assert len(emitted) == 1


async def test_revisions_arriving_out_of_order_leave_the_newest_current(
    scoring: RunningService,
) -> None:
    jetstream = scoring.runtime.broker.jetstream
    sessions = scoring.runtime.sessions
    newer = submitted(member="CHL", revision=3, changes={"DECL_ELECTRONIC": "150000"})
    older = submitted(member="CHL", revision=2, changes={"DECL_ELECTRONIC": "90000"})

    await publish(jetstream, newer)
    await _calculations_of(scoring, "CHL", 1)
    await publish(jetstream, older)
    await _calculations_of(scoring, "CHL", 2)

    headers = scoring.token(Role.SECRETARIAT)
    card = await scoring.client.get(
        "/members/CHL/cycles/cycle-2023/scorecard", headers=headers
    )
    history = await scoring.client.get(
        "/members/CHL/cycles/cycle-2023/calculations", headers=headers
    )
    older_card = await scoring.client.get(
        "/members/CHL/cycles/cycle-2023/scorecard?revision=2", headers=headers
    )
    assert card.json()["calculation"]["revision"] == 3
    assert _kpi(card.json(), "TF.1.1")["value"] == "75.00"
    assert [(c["revision"], c["current"]) for c in history.json()["calculations"]] == [
        (2, False),
        (3, True),
    ]
    assert older_card.json()["calculation"]["current"] is False
    assert _kpi(older_card.json(), "TF.1.1")["value"] == "45.00"
    emitted = [e for e in await scores_computed(sessions) if e["member"] == "CHL"]
    assert [(e["revision"], e["current"]) for e in emitted] == [(3, True), (2, False)]


async def test_an_unknown_framework_version_is_a_dead_letter_not_a_score(
    scoring: RunningService,
) -> None:
    sessions = scoring.runtime.sessions
    event = submitted(member="DEU", framework_version="9.9.9")

    envelope = await publish(scoring.runtime.broker.jetstream, event)

    async def dead_lettered() -> bool:
        count = await scalar(
            sessions,
            "SELECT count(*) FROM dead_letter WHERE event_id = :id",
            id=envelope.id,
        )
        return bool(count)

    await eventually(dead_lettered)
    error = await scalar(
        sessions, "SELECT error FROM dead_letter WHERE event_id = :id", id=envelope.id
    )
    count = await scalar(
        sessions, "SELECT count(*) FROM calculation WHERE member = 'DEU'"
    )
    assert "PMM 9.9.9 is not known" in error
    assert count == 0


async def test_a_recalculation_adds_current_calculations_and_keeps_the_old_ones(
    scoring: RunningService,
) -> None:
    jetstream = scoring.runtime.broker.jetstream
    for member in ("ARG", "URY"):
        await publish(jetstream, submitted(member=member, cycle_id="cycle-recalc"))
    await _calculations_of(scoring, "ARG", 1)
    await _calculations_of(scoring, "URY", 1)
    secretariat = scoring.token(Role.SECRETARIAT, subject="wco-secretariat-1")

    refused = await scoring.client.post(
        "/cycles/cycle-recalc/recalculations",
        json={"reason": "framework corrected"},
        headers=scoring.token(Role.NCP, "ARG"),
    )
    unknown = await scoring.client.post(
        "/cycles/cycle-recalc/recalculations",
        json={"reason": "framework corrected", "framework_version": "2.0.0"},
        headers=secretariat,
    )
    done = await scoring.client.post(
        "/cycles/cycle-recalc/recalculations",
        json={"reason": "framework corrected"},
        headers=secretariat,
    )

    assert refused.status_code == 403
    assert unknown.status_code == 422
    assert unknown.json()["type"] == "urn:pmm:problem:unknown-framework"
    assert done.status_code == 201
    body = done.json()
    assert body["requested_by"] == "wco-secretariat-1"
    assert len(body["calculations"]) == 2
    history = await scoring.client.get(
        "/members/ARG/cycles/cycle-recalc/calculations", headers=secretariat
    )
    calculations = history.json()["calculations"]
    assert [(c["trigger"], c["current"]) for c in calculations] == [
        ("recalculation", True),
        ("submitted", False),
    ]
    assert calculations[0]["calculation_id"] in body["calculations"]
    assert calculations[0]["recalculation_id"] == body["recalculation_id"]
    assert calculations[0]["inputs_sha256"] == calculations[1]["inputs_sha256"]
    emitted = [
        e
        for e in await scores_computed(scoring.runtime.sessions)
        if e["member"] == "ARG"
    ]
    assert [e["trigger"] for e in emitted] == ["submitted", "recalculation"]


@pytest.fixture
def framework_1_1() -> Iterator[Framework]:
    """A PMM 1.1.0 the service knows besides 1.0.0: the reference file, renumbered."""
    text = reference_file_text().replace("\nversion: 1.0.0\n", "\nversion: 1.1.0\n")
    framework = load_framework(text)
    known_frameworks()[(framework.code, framework.version)] = framework
    yield framework
    del known_frameworks()[(framework.code, framework.version)]


async def test_a_recalculation_under_another_framework_version_emits_that_version(
    scoring: RunningService, framework_1_1: Framework
) -> None:
    jetstream = scoring.runtime.broker.jetstream
    await publish(jetstream, submitted(member="PRY", cycle_id="cycle-next"))
    await _calculations_of(scoring, "PRY", 1)

    done = await scoring.client.post(
        "/cycles/cycle-next/recalculations",
        json={"reason": "PMM 1.1.0 adopted", "framework_version": "1.1.0"},
        headers=scoring.token(Role.SECRETARIAT),
    )

    assert done.status_code == 201
    emitted = [
        e
        for e in await scores_computed(scoring.runtime.sessions)
        if e["member"] == "PRY"
    ]
    assert [e["trigger"] for e in emitted] == ["submitted", "recalculation"]
    submitted_under, recalculated_under = (e["cycle"] for e in emitted)
    lineage = emitted[1]["assessment"]["lineage"]
    assert submitted_under["framework_version"] == "1.0.0"
    assert recalculated_under["framework_version"] == "1.1.0"
    assert lineage["framework_version"] == "1.1.0"
    assert lineage["framework_sha256"] == framework_1_1.content_hash
    stored = await rows(
        scoring.runtime.sessions,
        "SELECT framework_version FROM calculation WHERE member = 'PRY'"
        " ORDER BY sequence",
    )
    assert stored == [("1.0.0",), ("1.1.0",)]


def _kpi(card: dict[str, Any], code: str) -> dict[str, Any]:
    kpi: dict[str, Any] = next(
        k for k in card["assessment"]["kpis"] if k["code"] == code
    )
    return kpi


async def _calculations_of(scoring: RunningService, member: str, count: int) -> None:
    async def enough() -> bool:
        stored = await scalar(
            scoring.runtime.sessions,
            "SELECT count(*) FROM calculation WHERE member = :member",
            member=member,
        )
        return int(stored) >= count

    await eventually(enough)


async def _consumed(scoring: RunningService, consumer: str) -> None:
    """Every message of the consumer is acknowledged."""
    jetstream = scoring.runtime.broker.jetstream

    async def drained() -> bool:
        try:
            info = await jetstream.consumer_info("PMM", consumer)
        except NotFoundError:
            return False  # its runner has not created it yet
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)

    await eventually(drained)
