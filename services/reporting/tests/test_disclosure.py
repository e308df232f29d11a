"""Each audience sees a member's value exactly when its disclosure level allows:
public < WCO level (any NCP or reviewer) < restricted (the member and the Secretariat;
assigned reviewers are in test_assigned_reviewers). Aggregates use every accepted
value whatever its level, and reach a reader only when the values it may not see
cannot be worked out from them (test_undisclosed_values)."""

from typing import Any

import pytest

from pmm_kit.contracts.common import DisclosureLevel
from pmm_kit.contracts.submission import DisclosureChanged
from pmm_local.testing import ServiceStarter, truncate_schema
from pmm_reporting.main import create_app
from pmm_reporting.settings import ReportingSettings

from .helpers import (
    attributes,
    cycle_ref,
    electronic_share,
    participation,
    publish_and_wait,
    submission_id,
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
    run_service: ServiceStarter,
    service_databases: dict[str, str],
    isolated_nats: str,
    level: DisclosureLevel,
    audience: str,
) -> None:
    url = service_databases["reporting"]
    await truncate_schema(url, "reporting")

    async with run_service(create_app, ReportingSettings, url, isolated_nats) as s:
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
    run_service: ServiceStarter, service_databases: dict[str, str], isolated_nats: str
) -> None:
    url = service_databases["reporting"]
    await truncate_schema(url, "reporting")
    opened_up = DisclosureChanged(
        submission_id=submission_id(CYCLE, "BRA"),
        cycle=CYCLE,
        member="BRA",
        disclosure={"TF.1.1": DisclosureLevel.PUBLIC},
        changed_by="ncp-BRA",
    )

    async with run_service(create_app, ReportingSettings, url, isolated_nats) as s:
        await _seed(s, DisclosureLevel.RESTRICTED)
        before = await s.client.get(SCORECARD)
        await publish_and_wait(s, [opened_up])
        after = await s.client.get(SCORECARD)

    def tf_1_1(response: Any) -> Any:
        return next(k for k in response.json()["kpis"] if k["code"] == "TF.1.1")

    assert tf_1_1(before)["value"] is None
    assert tf_1_1(after)["value"] == "98.10"
