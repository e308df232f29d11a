"""The main job on real published figures, against the running services.

`pmm up` starts the stack as `make run` does, runs the job and keeps serving; the job
is then run a second time with `--json` (as a script would), which must find the
work done and answer the same figures. The expected KPI values are worked out here
from the published figures, by hand.
"""

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from pmm_kit.auth import Role, mint_token
from pmm_local.servers import free_port
from pmm_local.services import SERVICES

from .test_local_stack import PMM, RunningStack, stack_environment

JOB_TIMEOUT_SECONDS = 180


class Output:
    """What a process prints, read as it comes."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stdout is not None
        stream = process.stdout
        self._reader = threading.Thread(
            target=lambda: self.lines.extend(iter(stream.readline, "")), daemon=True
        )
        self._reader.start()

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, *markers: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while not any(marker in self.text for marker in markers):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"none of {markers} within {timeout} s:\n{self.text}"
                )
            time.sleep(0.2)
        return self.text


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RunningStack, str]]:
    home = Path(tmp_path_factory.mktemp("job"))
    ports = {service.name: free_port() for service in SERVICES}
    process = subprocess.Popen(
        [PMM, "up"],
        env=stack_environment(home, ports),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = Output(process)
    stack = RunningStack(home, ports, process)
    try:
        printed = output.wait_for(
            "Published report page", "The main job stopped", timeout=JOB_TIMEOUT_SECONDS
        )
        yield stack, printed
    finally:
        if process.poll() is None:
            stack.stop()


@pytest.fixture(scope="module")
def second_run(served: tuple[RunningStack, str]) -> dict[str, Any]:
    stack, _ = served
    finished = subprocess.run(
        [PMM, "job", "--json"],
        env=stack.environment,
        capture_output=True,
        text=True,
        timeout=JOB_TIMEOUT_SECONDS,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    document: dict[str, Any] = json.loads(finished.stdout)
    return document


def rounded(value: Decimal, places: int) -> str:
    """Half away from zero, as the framework rounds."""
    return str(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def kpi(document: dict[str, Any], member: str, code: str) -> dict[str, Any]:
    scorecard = document["administrations"][member]["scorecard"]
    line: dict[str, Any] = next(k for k in scorecard["kpis"] if k["code"] == code)
    return line


def dimension(document: dict[str, Any], member: str, code: str) -> dict[str, Any]:
    scorecard = document["administrations"][member]["scorecard"]
    line: dict[str, Any] = next(d for d in scorecard["dimensions"] if d["code"] == code)
    return line


def cell(document: dict[str, Any], code: str, grouping: str, group: str) -> Any:
    return next(
        c
        for c in document["benchmarks"]
        if (c["kpi"], c["grouping"], c["group"]) == (code, grouping, group)
    )


def test_make_run_runs_the_job_and_keeps_serving(
    served: tuple[RunningStack, str],
) -> None:
    stack, printed = served

    assert "The main job stopped" not in printed
    assert "✗" not in printed
    assert printed.count("✓") == 17
    for heading in ("Brazil (BRA)", "Finland (FIN)", "Kenya (KEN)", "Nigeria (NGA)"):
        assert heading in printed
    assert "Peer review of BRA: completed_with_reservations" in printed
    assert stack.process.poll() is None


def test_kpis_are_computed_from_the_published_figures(
    second_run: dict[str, Any],
) -> None:
    # Finland: customs revenue EUR 294 million (2021) and 429 million (2022).
    finland = (Decimal(429) - Decimal(294)) / Decimal(294) * 100
    # Nigeria: NGN 2,240,880,308,195.77 (2021) and NGN 2.64 trillion (2022).
    nigeria_2021 = Decimal("2240880308195.77")
    nigeria = (Decimal("2.64") * 10**12 - nigeria_2021) / nigeria_2021 * 100
    # Philippines: PHP 645.765 billion (2021), 862.929 billion (2022) against a
    # target of 721.5 billion.
    philippines = (Decimal("862.929") - Decimal("645.765")) / Decimal("645.765") * 100
    against_target = Decimal("862.929") / Decimal("721.5") * 100

    assert kpi(second_run, "FIN", "RC.1.2")["value"] == rounded(finland, 2) == "45.92"
    assert kpi(second_run, "NGA", "RC.1.2")["value"] == rounded(nigeria, 2) == "17.81"
    assert kpi(second_run, "PHL", "RC.1.2")["value"] == rounded(philippines, 2)
    assert kpi(second_run, "PHL", "RC.1.1")["value"] == rounded(against_target, 2)
    assert kpi(second_run, "PHL", "RC.1.1")["level"] == "4"
    # Brazil's 22.25 hours, to one decimal; Finland's 1,382 kg of narcotics.
    assert kpi(second_run, "BRA", "TF.4.1")["value"] == "22.3"
    assert kpi(second_run, "FIN", "ES.1.3")["value"] == "1382.0"
    # Kenya publishes by fiscal year only: nothing can be computed.
    kenya = second_run["administrations"]["KEN"]["scorecard"]["kpis"]
    assert [k["code"] for k in kenya if k["value"] is not None] == []


def test_coverage_is_what_each_administrations_data_allow(
    second_run: dict[str, Any],
) -> None:
    revenue = dimension(second_run, "PHL", "RC")

    # Only the Philippines reach a scored outcome: revenue against its forecast,
    # whose other KPI (the variation) is reported but not scored.
    assert (revenue["score"], revenue["coverage"]["scored"]) == ("4.00", 1)
    assert revenue["coverage"]["applicable"] == 5
    for member in ("BRA", "FIN", "KEN", "NGA"):
        for code in ("TF", "RC", "ES", "OD"):
            assert dimension(second_run, member, code)["coverage"]["scored"] == 0


def test_cells_of_fewer_than_k_administrations_are_suppressed(
    second_run: dict[str, Any],
) -> None:
    variation = cell(second_run, "RC.1.2", "all", "all")
    forecast = cell(second_run, "RC.1.1", "all", "all")
    europe = cell(second_run, "RC.1.2", "wco_region", "Europe")
    lower_middle = cell(second_run, "RC.1.2", "income_group", "Lower middle income")
    values = [Decimal("45.92"), Decimal("17.81"), Decimal("33.63")]

    assert second_run["min_contributors"] == 3
    assert (variation["suppressed"], variation["contributors"]) == (False, 3)
    assert Decimal(variation["median"]) == Decimal("33.63")
    assert Decimal(variation["mean"]) == Decimal(
        rounded(sum(values, Decimal(0)) / 3, 4)
    )
    for suppressed in (forecast, europe, lower_middle):
        assert suppressed["suppressed"] is True
        assert suppressed["suppression_reason"] == "fewer_than_k_contributors"
        assert (suppressed["n"], suppressed["median"], suppressed["mean"]) == (
            None,
            None,
            None,
        )
    assert lower_middle["contributors"] == 2


def test_what_could_not_be_used_is_reported_with_its_reason(
    second_run: dict[str, Any],
) -> None:
    def why(member: str) -> dict[tuple[str, str], str]:
        feed = second_run["administrations"][member]["feed"]
        return {(row["name"], row["year"]): row["why"] for row in feed["not_used"]}

    kenya = second_run["administrations"]["KEN"]["feed"]

    assert kenya["used"] == 0
    assert why("KEN")[("customs_revenue_total", "FY2021/22")] == "not a calendar year"
    assert why("BRA")[("import_declarations_cleared_within_24h", "2022")] == (
        "unit not convertible"
    )
    assert why("BRA")[("import_declarations_count", "2022")] == "not in the framework"
    assert why("NGA")[("customs_revenue_total", "2020")] == "outside the cycle's years"
    assert ("customs_revenue_total", "2022") not in why("NGA")


def test_the_review_corrected_a_value_and_the_report_is_published(
    second_run: dict[str, Any],
) -> None:
    review = second_run["review"]
    brazil = second_run["administrations"]["BRA"]
    files = second_run["files"]

    assert review["state"] == "completed_with_reservations"
    assert [(c["data_element"], c["year"]) for c in review["changes"]] == [
        ("AEO_COUNT", 2022)
    ]
    assert review["changes"][0]["before"]["value"] == "491"
    assert review["changes"][0]["after"]["state"] == "not_available"
    assert brazil["submission"] == {**brazil["submission"], "revision": 2}
    assert brazil["scorecard"]["peer_reviewed"] is True
    assert Path(files["report.pdf"]).read_bytes().startswith(b"%PDF")
    assert "RC.1.2" in Path(files["report.html"]).read_text()
    assert Path(files["RC.1.2-by-region.svg"]).read_text().lstrip().startswith("<")


def test_each_audience_sees_what_each_administration_disclosed(
    served: tuple[RunningStack, str], second_run: dict[str, Any]
) -> None:
    stack, _ = served
    base = f"http://127.0.0.1:{stack.ports['reporting']}"
    cycle_id = second_run["cycle"]["id"]
    key = (stack.home / "keys" / "jwt-private.pem").read_text()
    other_ncp = {
        "Authorization": "Bearer " + mint_token(key, role=Role.NCP, member="BRA")
    }

    def seen(member: str, headers: dict[str, str]) -> dict[str, Any]:
        response = httpx.get(
            f"{base}/cycles/{cycle_id}/members/{member}/scorecard", headers=headers
        )
        assert response.status_code == 200, response.text
        return {k["code"]: k["value"] for k in response.json()["kpis"]}

    public_phl, public_fin = seen("PHL", {}), seen("FIN", {})
    wco_phl, wco_fin = seen("PHL", other_ncp), seen("FIN", other_ncp)

    # PHL: RC.1.2 public, RC.1.1 restricted; FIN: RC.1.2 public, ES.1.3 wco.
    assert (public_phl["RC.1.2"], public_phl["RC.1.1"]) == ("33.63", None)
    assert (wco_phl["RC.1.2"], wco_phl["RC.1.1"]) == ("33.63", None)
    assert (public_fin["RC.1.2"], public_fin["ES.1.3"]) == ("45.92", None)
    assert wco_fin["ES.1.3"] == "1382.0"
