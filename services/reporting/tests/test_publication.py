"""A published report is a frozen snapshot: read back byte for byte after later
corrections, which change the live view (the Secretariat's) and are listed as the
figures they change, with their current figures for the Secretariat alone."""

import hashlib
import json
from typing import Any

import pytest
import sqlalchemy as sa

from pmm_kit.contracts.common import DisclosureLevel
from pmm_kit.contracts.reporting import ReportPublished
from pmm_kit.tables import outbox

from .helpers import (
    ServiceToStart,
    assessment,
    attributes,
    cycle_opened,
    cycle_ref,
    electronic_share,
    publish_and_wait,
    returned,
    scored,
    shares_accepted,
    submitted,
)
from .helpers import accepted as accepted_event

pytestmark = pytest.mark.asyncio(loop_scope="session")

CYCLE = cycle_ref(2024)
MEMBERS = {"FRA": "90.00", "DEU": "80.00", "ITA": "70.00"}


def _seed_events() -> list[Any]:
    public = DisclosureLevel.PUBLIC
    return [cycle_opened(CYCLE), *shares_accepted(CYCLE, MEMBERS, level=public)]


def _correction() -> list[Any]:
    """France's value is corrected by a review: returned, resubmitted, rescored."""
    france = attributes("FRA")
    corrected = assessment(2024, 0, electronic_share("60.00"))
    disclosure = {"TF.1.1": DisclosureLevel.PUBLIC}
    return [
        returned(CYCLE, "FRA", revision=1),
        submitted(CYCLE, france, revision=2, disclosure=disclosure),
        scored(CYCLE, "FRA", corrected, revision=2),
        accepted_event(CYCLE, "FRA", revision=2),
    ]


async def test_a_published_snapshot_stays_as_published_while_the_live_view_moves(
    reporting_service: ServiceToStart,
) -> None:
    async with reporting_service as s:
        await publish_and_wait(s, _seed_events())
        published = await s.client.post(
            "/cycles/cycle-2024/reports", headers=s.token("secretariat")
        )
        report_id = published.json()["report_id"]
        first = await s.client.get(f"/reports/{report_id}")
        await publish_and_wait(s, _correction())
        second = await s.client.get(f"/reports/{report_id}")
        live = await s.client.get(
            "/cycles/cycle-2024/benchmarks?kpi=TF.1.1", headers=s.token("secretariat")
        )
        changes = await s.client.get(
            f"/reports/{report_id}/changes", headers=s.token("secretariat")
        )
        public_changes = await s.client.get(f"/reports/{report_id}/changes")
        ncp_changes = await s.client.get(
            f"/reports/{report_id}/changes", headers=s.token("ncp", "DEU")
        )
        async with s.runtime.sessions() as session:
            event = (
                await session.execute(
                    sa.select(outbox.c.subject, outbox.c.body).where(
                        outbox.c.subject == ReportPublished.event_type()
                    )
                )
            ).one()

    snapshot = json.loads(first.content)
    everyone = snapshot["figures"]["benchmark/TF.1.1/all/all"]
    live_everyone = next(c for c in live.json()["cells"] if c["grouping"] == "all")
    changed = {change["figure"]: change for change in changes.json()["changed"]}
    assert published.status_code == 201
    assert second.content == first.content
    assert (
        hashlib.sha256(first.content).hexdigest() == published.json()["snapshot_sha256"]
    )
    assert first.headers["x-snapshot-sha256"] == published.json()["snapshot_sha256"]
    assert everyone["mean"] == "80.0000"
    assert snapshot["figures"]["value/FRA/TF.1.1"]["value"] == "90.00"
    assert live_everyone["mean"] == "70.0000"
    assert changed["benchmark/TF.1.1/all/all"]["published"]["mean"] == "80.0000"
    assert changed["benchmark/TF.1.1/all/all"]["current"]["mean"] == "70.0000"
    assert changed["value/FRA/TF.1.1"]["current"]["value"] == "60.00"
    assert "value/DEU/TF.1.1" not in changed
    assert changes.json()["current_withheld"] is False
    # Anyone else learns which figures would change, not what they are now.
    for other in (public_changes, ncp_changes):
        assert other.json()["current_withheld"] is True
        assert [c["figure"] for c in other.json()["changed"]] == list(changed)
        assert [c["current"] for c in other.json()["changed"]] == [None] * len(changed)
        assert [c["published"] for c in other.json()["changed"]] == [
            c["published"] for c in changed.values()
        ]
        assert "70.0000" not in other.text
        assert "60.00" not in other.text
    assert json.loads(event.body)["data"]["report_id"] == report_id


async def test_only_the_secretariat_publishes(
    reporting_service: ServiceToStart,
) -> None:
    async with reporting_service as s:
        await publish_and_wait(s, _seed_events())
        refused = await s.client.post(
            "/cycles/cycle-2024/reports", headers=s.token("ncp", "FRA")
        )
        anonymous = await s.client.post("/cycles/cycle-2024/reports")

    assert refused.status_code == 403
    assert anonymous.status_code == 401
    assert refused.json()["type"] == "urn:pmm:problem:forbidden"


async def test_a_cycles_published_reports_are_listed_newest_first(
    reporting_service: ServiceToStart,
) -> None:
    other = cycle_ref(2022)

    async with reporting_service as s:
        await publish_and_wait(s, [*_seed_events(), cycle_opened(other)])
        none_yet = await s.client.get("/cycles/cycle-2024/reports")
        first = await s.client.post(
            "/cycles/cycle-2024/reports", headers=s.token("secretariat")
        )
        await publish_and_wait(s, _correction())
        second = await s.client.post(
            "/cycles/cycle-2024/reports", headers=s.token("secretariat")
        )
        listed = await s.client.get(
            "/cycles/cycle-2024/reports", headers=s.token("secretariat")
        )
        elsewhere = await s.client.get("/cycles/cycle-2022/reports")
        unknown = await s.client.get("/cycles/no-such-cycle/reports")

    assert none_yet.status_code == 200
    assert none_yet.json() == []
    assert listed.status_code == 200
    assert listed.json() == [second.json(), first.json()]
    assert first.json()["snapshot_sha256"] != second.json()["snapshot_sha256"]
    assert elsewhere.json() == []
    assert unknown.status_code == 404
    assert unknown.json()["type"] == "urn:pmm:problem:cycle-not-found"
