"""Each audience sees a member's value exactly when its disclosure level allows:
public < WCO level (any NCP or reviewer) < restricted (the member and the Secretariat;
assigned reviewers are in test_assigned_reviewers). Aggregates use every accepted
value whatever its level, and reach a reader only when the values it may not see
cannot be worked out from them (test_undisclosed_values)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pmm_kit.contracts.common import DisclosureLevel
from pmm_kit.contracts.submission import DisclosureChanged
from pmm_kit.events import Envelope

from .helpers import (
    ServiceToStart,
    accepted,
    assessment,
    attributes,
    cycle_ref,
    electronic_share,
    participation,
    publish_and_wait,
    publish_envelopes,
    publish_report,
    scored,
    submission_id,
    submitted,
    wait_applied,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

CYCLE = cycle_ref(2024)
PAPERLESS_TRADE = ("TF.1.1", "TF.1.2", "TF.1.3")
SCORECARD = "/cycles/cycle-2024/members/BRA/scorecard"

# (role, member) of each audience; None is the anonymous public.
AUDIENCES: dict[str, tuple[str, str | None] | None] = {
    "public": None,
    "preparer of another member": ("preparer", "ARG"),
    "ncp of another member": ("ncp", "ARG"),
    "reviewer": ("reviewer", None),
    "the member itself": ("ncp", "BRA"),
    "secretariat": ("secretariat", None),
}
SEES = {
    DisclosureLevel.PUBLIC: set(AUDIENCES),
    DisclosureLevel.WCO: {
        "ncp of another member",
        "reviewer",
        "the member itself",
        "secretariat",
    },
    DisclosureLevel.RESTRICTED: {"the member itself", "secretariat"},
}


async def _seed(s: Any, level: DisclosureLevel) -> None:
    events = []
    for seed, (code, share) in enumerate(
        (("BRA", "98.10"), ("ARG", "90.00"), ("CHL", "80.00"))
    ):
        disclosure = dict.fromkeys(PAPERLESS_TRADE, level) if code == "BRA" else {}
        events += participation(
            CYCLE,
            attributes(code, region="South America"),
            electronic_share(share),
            seed=seed,
            disclosure=disclosure,
        )
    await publish_and_wait(s, events)
    await publish_report(s)


def _headers(s: Any, audience: str) -> dict[str, str]:
    caller = AUDIENCES[audience]
    if caller is None:
        return {}
    role, member = caller
    headers: dict[str, str] = s.token(role, member)
    return headers


@pytest.mark.parametrize("audience", list(AUDIENCES))
@pytest.mark.parametrize("level", list(DisclosureLevel))
async def test_a_value_reaches_an_audience_only_as_disclosed(
    reporting_service: ServiceToStart,
    level: DisclosureLevel,
    audience: str,
) -> None:
    async with reporting_service as s:
        await _seed(s, level)
        response = await s.client.get(SCORECARD, headers=_headers(s, audience))

    scorecard = response.json()
    line = next(k for k in scorecard["kpis"] if k["code"] == "TF.1.1")
    outcome = next(o for o in scorecard["outcomes"] if o["code"] == "TF.1")
    everyone = next(p for p in line["peers"] if p["grouping"] == "all")
    expected_visible = audience in SEES[level]
    # ARG and CHL keep their values restricted: unless BRA's is too, a reader other
    # than the Secretariat would see one value and could subtract it from the mean.
    with_figures = audience == "secretariat" or level is DisclosureLevel.RESTRICTED
    assert response.status_code == 200
    assert line["disclosure"] == level
    assert line["withheld"] is not expected_visible
    assert line["value"] == ("98.10" if expected_visible else None)
    assert line["level"] == ("4" if expected_visible else None)
    assert outcome["withheld"] is not expected_visible
    assert everyone["n"] == (3 if with_figures else None)
    assert everyone["mean"] == ("89.3667" if with_figures else None)
    assert everyone["suppression_reason"] == (
        None if level is DisclosureLevel.RESTRICTED else "undisclosed_values"
    )
    assert everyone["minimum"] == ("80.00" if audience == "secretariat" else None)


async def test_a_changed_disclosure_level_applies_to_the_next_read(
    reporting_service: ServiceToStart,
) -> None:
    opened_up = DisclosureChanged(
        submission_id=submission_id(CYCLE, "BRA"),
        cycle=CYCLE,
        member="BRA",
        disclosure={"TF.1.1": DisclosureLevel.PUBLIC},
        changed_by="ncp-BRA",
    )

    async with reporting_service as s:
        await _seed(s, DisclosureLevel.RESTRICTED)
        before = await s.client.get(SCORECARD)
        await publish_and_wait(s, [opened_up])
        after = await s.client.get(SCORECARD)

    def tf_1_1(response: Any) -> Any:
        return next(k for k in response.json()["kpis"] if k["code"] == "TF.1.1")

    assert tf_1_1(before)["value"] is None
    assert tf_1_1(after)["value"] == "98.10"


@pytest.mark.parametrize("change_first", [True, False], ids=["change", "submit"])
@pytest.mark.parametrize("newer", ["change", "submit"])
async def test_the_newest_disclosure_wins_whatever_order_events_arrive_in(
    reporting_service: ServiceToStart,
    newer: str,
    change_first: bool,
) -> None:
    # Both after revision 1 (submitted as the test runs, with TF.1.1 public).
    now = datetime.now(UTC) + timedelta(minutes=10)
    earlier = now - timedelta(minutes=5)
    # The newer event narrows TF.1.1 to restricted; the older one had it public.
    narrowed = {"TF.1.1": DisclosureLevel.RESTRICTED}
    opened = {"TF.1.1": DisclosureLevel.PUBLIC}
    submit_levels, change_levels = (
        (opened, narrowed) if newer == "change" else (narrowed, opened)
    )
    brazil = attributes("BRA", region="South America")
    revision_2 = [
        Envelope.wrap(event, correlation_id="test")
        for event in (
            submitted(
                CYCLE,
                brazil,
                revision=2,
                disclosure=submit_levels,
                at=earlier if newer == "change" else now,
            ),
            scored(
                CYCLE, "BRA", assessment(2024, 0, electronic_share("98.10")), revision=2
            ),
            accepted(CYCLE, "BRA", revision=2),
        )
    ]
    change = Envelope.wrap(
        DisclosureChanged(
            submission_id=submission_id(CYCLE, "BRA"),
            cycle=CYCLE,
            member="BRA",
            disclosure=change_levels,
            changed_by="ncp-BRA",
        ),
        correlation_id="test",
    ).model_copy(update={"time": now if newer == "change" else earlier})
    late = [change, *revision_2] if change_first else [*revision_2, change]

    async with reporting_service as s:
        await _seed(s, DisclosureLevel.PUBLIC)
        await publish_envelopes(s.runtime.broker.jetstream, late)
        await wait_applied(s.runtime.sessions, late)
        public = await s.client.get(SCORECARD)
        own = await s.client.get(SCORECARD, headers=s.token("ncp", "BRA"))

    line = next(k for k in public.json()["kpis"] if k["code"] == "TF.1.1")
    own_line = next(k for k in own.json()["kpis"] if k["code"] == "TF.1.1")
    assert public.json()["revision"] == 2
    assert line["disclosure"] == DisclosureLevel.RESTRICTED
    assert (line["withheld"], line["value"]) == (True, None)
    assert own_line["value"] == "98.10"


async def test_a_disclosure_change_before_any_submission_is_kept(
    reporting_service: ServiceToStart,
) -> None:
    brazil = attributes("BRA", region="South America")
    submitted_at = datetime.now(UTC) - timedelta(minutes=5)
    opened_up = DisclosureChanged(
        submission_id=submission_id(CYCLE, "BRA"),
        cycle=CYCLE,
        member="BRA",
        disclosure={"TF.1.1": DisclosureLevel.PUBLIC},
        changed_by="ncp-BRA",
    )

    async with reporting_service as s:
        await publish_and_wait(s, [opened_up])
        await publish_and_wait(
            s,
            [
                submitted(CYCLE, brazil, at=submitted_at),
                scored(CYCLE, "BRA", assessment(2024, 0, electronic_share("98.10"))),
                accepted(CYCLE, "BRA"),
            ],
        )
        public = await s.client.get(SCORECARD)

    line = next(k for k in public.json()["kpis"] if k["code"] == "TF.1.1")
    assert line["disclosure"] == DisclosureLevel.PUBLIC
    assert line["value"] == "98.10"
