"""`/reports/{id}/changes` listed, to anyone, figures the report never had (a
member accepted since, `published: null`) and flagged a published cell as changed
whatever had moved in it, so a public reader learnt that a restricted value was
corrected or that a restricted member had joined. Each audience now gets only
figures of the report as it reads it, and a cell only when values it may see in
the cell changed; the Secretariat gets every change with its current figure."""

from typing import Any

import pytest
from httpx import Response

from pmm_kit.contracts.common import DisclosureLevel

from .helpers import (
    ServiceToStart,
    assessment,
    attributes,
    cycle_opened,
    cycle_ref,
    electronic_share,
    participation,
    publish_and_wait,
    publish_report,
    returned,
    scored,
    submitted,
)
from .helpers import accepted as accepted_event

pytestmark = pytest.mark.asyncio(loop_scope="session")

CYCLE = cycle_ref(2024)
PUBLIC, WCO, RESTRICTED = (
    DisclosureLevel.PUBLIC,
    DisclosureLevel.WCO,
    DisclosureLevel.RESTRICTED,
)
# Every member is Europe, high income, customs: the four cells of TF.1.1 have the
# same seven members. The public sees two values, WCO-level readers four.
MEMBERS = {
    "FRA": ("90.00", PUBLIC),
    "BEL": ("85.00", PUBLIC),
    "DEU": ("80.00", WCO),
    "AUT": ("75.00", WCO),
    "ITA": ("70.00", RESTRICTED),
    "ESP": ("60.00", RESTRICTED),
    "PRT": ("50.00", RESTRICTED),
}
CELLS = [
    "benchmark/TF.1.1/administration_type/customs",
    "benchmark/TF.1.1/all/all",
    "benchmark/TF.1.1/income_group/high",
    "benchmark/TF.1.1/wco_region/Europe",
]
SEEDS = {code: seed for seed, code in enumerate([*MEMBERS, "SWE", "NLD"])}


def _joined(code: str, share: str, level: DisclosureLevel) -> list[Any]:
    return participation(
        CYCLE,
        attributes(code),
        electronic_share(share),
        seed=SEEDS[code],
        disclosure={"TF.1.1": level},
    )


def _corrected(code: str, share: str) -> list[Any]:
    """The member's TF.1.1 corrected: returned, resubmitted, rescored, accepted."""
    disclosure = {"TF.1.1": MEMBERS[code][1]}
    result = assessment(2024, SEEDS[code], electronic_share(share))
    return [
        returned(CYCLE, code, revision=1),
        submitted(CYCLE, attributes(code), revision=2, disclosure=disclosure),
        scored(CYCLE, code, result, revision=2),
        accepted_event(CYCLE, code, revision=2),
    ]


def _figures(response: Response) -> list[str]:
    return [change["figure"] for change in response.json()["changed"]]


def _tf_1_1(response: Response) -> dict[str, Any]:
    """The changes to TF.1.1 cells (for the Secretariat, every member's other
    KPIs, restricted, change as well when a member joins)."""
    return {
        c["figure"]: c
        for c in response.json()["changed"]
        if c["figure"].startswith("benchmark/TF.1.1/")
    }


async def _changes(s: Any, report_id: str) -> dict[str, Response]:
    """The changes as each audience reads them: a WCO-level reader (a reviewer of
    no one), a member (an NCP whose own value is restricted) and the Secretariat."""
    url = f"/reports/{report_id}/changes"
    return {
        "public": await s.client.get(url),
        "wco": await s.client.get(url, headers=s.token("reviewer", subject="r-9")),
        "member": await s.client.get(url, headers=s.token("ncp", "PRT")),
        "secretariat": await s.client.get(url, headers=s.token("secretariat")),
    }


async def test_each_audience_is_told_only_of_changes_to_what_it_may_see(
    reporting_service: ServiceToStart,
) -> None:
    first = [cycle_opened(CYCLE)]
    for code, (share, level) in MEMBERS.items():
        first += _joined(code, share, level)

    async with reporting_service as s:
        await publish_and_wait(s, first)
        report_id = await publish_report(s, CYCLE)
        unchanged = await _changes(s, report_id)
        # Hidden from everyone but the Secretariat: a restricted value corrected
        # and a restricted member accepted.
        await publish_and_wait(
            s, [*_corrected("PRT", "40.00"), *_joined("SWE", "65.00", RESTRICTED)]
        )
        hidden = await _changes(s, report_id)
        # Seen by WCO-level readers, not the public: a WCO-level value corrected.
        await publish_and_wait(s, _corrected("DEU", "82.00"))
        wco_level = await _changes(s, report_id)
        # Seen by everyone: a member accepted with a public value.
        await publish_and_wait(s, _joined("NLD", "55.00", PUBLIC))
        public = await _changes(s, report_id)

    for audience, response in unchanged.items():
        assert response.json()["changed"] == [], audience
    assert {a: r.json()["audience"] for a, r in hidden.items()} == {
        "public": "public",
        "wco": "wco",
        "member": "wco",
        "secretariat": "secretariat",
    }
    assert [_figures(hidden[a]) for a in ("public", "wco", "member")] == [[]] * 3
    assert list(_tf_1_1(hidden["secretariat"])) == CELLS
    everyone = _tf_1_1(hidden["secretariat"])[CELLS[1]]
    assert (everyone["published"]["n"], everyone["published"]["mean"]) == (
        "7",
        "72.8571",
    )
    assert (everyone["current"]["n"], everyone["current"]["mean"]) == ("8", "70.6250")
    assert _figures(wco_level["public"]) == []
    for audience in ("wco", "member"):
        assert _figures(wco_level[audience]) == CELLS, audience
    assert list(_tf_1_1(wco_level["secretariat"])) == CELLS
    for audience, response in public.items():
        assert list(_tf_1_1(response)) == CELLS, audience
        changed = response.json()["changed"]
        assert all(c["published"] is not None for c in changed)
        assert _tf_1_1(response)[CELLS[1]]["published"]["mean"] == "72.8571"
        assert response.json()["current_withheld"] is (audience != "secretariat")
    for audience in ("public", "wco", "member"):
        assert _figures(public[audience]) == CELLS, audience
    assert _tf_1_1(public["secretariat"])[CELLS[1]]["current"]["n"] == "9"
    assert "value/NLD/TF.1.1" not in public["secretariat"].text
