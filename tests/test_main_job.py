"""The main job on real published figures, against the running services.

`pmm demo --json` runs the whole job on a fresh stack and stops, as `make demo` does;
`pmm up` then starts the same data folder as `make run` does, runs the job again and
keeps serving; and the job is run a third time with `pmm job --json` (as a script
would). Both later runs must find every step done and change nothing: the same
report, the same submissions at the same versions, the same figures. The expected
KPI values are worked out here from the published figures in the job's own data
files, with the framework's formulas written out.
"""

import csv
import io
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from pmm_kit.auth import Role, mint_token
from pmm_local.job.plan import load_plan
from pmm_local.servers import free_port
from pmm_local.services import SERVICES
from pmm_methodology import Direction, reference_framework

from .test_local_stack import PMM, RunningStack, stack_environment

JOB_TIMEOUT_SECONDS = 180
FRAMEWORK = reference_framework()
K = 3  # PMM_REPORTING_MIN_CONTRIBUTORS, unset in these tests
SCALES = {"million": 10**6, "billion": 10**9, "trillion": 10**12}


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


def own_environment(home: Path, **extra: str) -> dict[str, str]:
    """The caller's environment with no service port in it: the job must find
    the stack's ports in the stack's own file."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not (name.startswith("PMM_") and name.endswith("_PORT"))
    }
    return {**environment, "PMM_HOME": str(home), "COLUMNS": "200", **extra}


def run_pmm(
    environment: dict[str, str], *arguments: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PMM, *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=JOB_TIMEOUT_SECONDS,
        check=False,
    )


def start_up(home: Path, ports: dict[str, int], **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PMM, "up"],
        env={**stack_environment(home, ports), **extra},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(tmp_path_factory.mktemp("job"))


@pytest.fixture(scope="module")
def ports() -> dict[str, int]:
    return {service.name: free_port() for service in SERVICES}


@pytest.fixture(scope="module")
def demo(home: Path, ports: dict[str, int]) -> subprocess.CompletedProcess[str]:
    return run_pmm(stack_environment(home, ports), "demo", "--json")


@pytest.fixture(scope="module")
def served(
    home: Path, ports: dict[str, int], demo: subprocess.CompletedProcess[str]
) -> Iterator[tuple[RunningStack, str]]:
    process = start_up(home, ports)
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
    finished = run_pmm(own_environment(stack.home), "job", "--json")
    assert finished.returncode == 0, finished.stderr
    document: dict[str, Any] = json.loads(finished.stdout)
    return document


# The published figures, as the job's data files hold them


def published(member: str, name: str, year: str) -> dict[str, str]:
    text = load_plan().administration(member).figures_text()
    rows = [
        row
        for row in csv.DictReader(io.StringIO(text))
        if (row["data_element"], row["year"]) == (name, year)
    ]
    assert len(rows) == 1, (member, name, year)
    return rows[0]


def amount(member: str, name: str, year: str, *, currency: str) -> Decimal:
    """A published amount in units of its currency: `NGN trillion` is 10^12 NGN."""
    figure = published(member, name, year)
    base, *scale = figure["unit"].split()
    assert base == currency
    return Decimal(figure["value"]) * (SCALES[scale[0]] if scale else 1)


def quantity(member: str, name: str, year: str, *, unit: str) -> Decimal:
    figure = published(member, name, year)
    assert figure["unit"] == unit
    return Decimal(figure["value"])


def rounded(code: str, value: Decimal) -> str:
    """Half away from zero, to the KPI's places in the framework file."""
    places = FRAMEWORK.kpi(code).rounding
    assert places is not None
    step = Decimal(1).scaleb(-places)
    return str(value.quantize(step, rounding=ROUND_HALF_UP))


def level(code: str, shown: str) -> int:
    """The level the framework's bands give the rounded value (reaching counts)."""
    kpi = FRAMEWORK.kpi(code)
    assert kpi.bands is not None
    value = Decimal(shown)
    thresholds = (kpi.bands.developing, kpi.bands.established, kpi.bands.advanced)
    if kpi.direction is Direction.LOWER_BETTER:
        return 1 + sum(value <= threshold for threshold in thresholds)
    return 1 + sum(value >= threshold for threshold in thresholds)


def variation(current: Decimal, earlier: Decimal) -> Decimal:
    return (current - earlier) / earlier * 100


def revenue_variation(member: str, currency: str) -> str:
    assert FRAMEWORK.kpi("RC.1.2").formula == (
        "(REV_CUSTOMS - REV_CUSTOMS[T-1]) / REV_CUSTOMS[T-1] * 100"
    )
    revenue = amount(member, "customs_revenue_total", "2022", currency=currency)
    earlier = amount(member, "customs_revenue_total", "2021", currency=currency)
    return rounded("RC.1.2", variation(revenue, earlier))


def expected_kpis() -> dict[str, dict[str, str]]:
    """Every KPI value the published figures give, per administration, with the
    framework's formula checked against the one written out here."""
    assert FRAMEWORK.kpi("RC.1.1").formula == "REV_CUSTOMS / REV_FORECAST * 100"
    assert FRAMEWORK.kpi("ES.1.3").formula == "DRUG_SEIZED_KG"
    philippines = amount("PHL", "customs_revenue_total", "2022", currency="PHP")
    target = amount("PHL", "customs_revenue_target", "2022", currency="PHP")
    drugs = quantity("FIN", "narcotics_seized_total", "2022", unit="kg")
    return {
        # Brazil: its one computable KPI, TF.4.1, lost its figure in the review.
        "BRA": {},
        "FIN": {
            "RC.1.2": revenue_variation("FIN", "EUR"),
            "ES.1.3": rounded("ES.1.3", drugs),
        },
        # Kenya publishes by fiscal year only (FY2021/22): nothing is placed.
        "KEN": {},
        # Nigeria's target is published for 2021 only: no RC.1.1.
        "NGA": {"RC.1.2": revenue_variation("NGA", "NGN")},
        "PHL": {
            "RC.1.1": rounded("RC.1.1", philippines / target * 100),
            "RC.1.2": revenue_variation("PHL", "PHP"),
        },
    }


def computed(document: dict[str, Any], member: str) -> dict[str, str]:
    scorecard = document["administrations"][member]["scorecard"]
    return {k["code"]: k["value"] for k in scorecard["kpis"] if k["value"] is not None}


def kpi(document: dict[str, Any], member: str, code: str) -> dict[str, Any]:
    scorecard = document["administrations"][member]["scorecard"]
    line: dict[str, Any] = next(k for k in scorecard["kpis"] if k["code"] == code)
    return line


# The runs


def test_make_demo_runs_the_whole_job_and_exits_0(
    demo: subprocess.CompletedProcess[str], second_run: dict[str, Any]
) -> None:
    first_run = json.loads(demo.stdout)

    assert demo.returncode == 0, demo.stderr
    assert demo.stderr.count("✓") == 17
    assert "✗" not in demo.stderr
    assert "Stopped. The data are kept" in demo.stderr
    for member in expected_kpis():
        assert computed(first_run, member) == computed(second_run, member)
    assert first_run["review"]["kpi_changes"] == second_run["review"]["kpi_changes"]


# Waiting steps may find the services there before them, even in a first run.
WAITS = {
    "Wait for the scores of every submission",
    "Wait for the reporting service to hold the accepted results",
}


def test_a_run_on_the_same_data_finds_each_step_done_and_changes_nothing(
    demo: subprocess.CompletedProcess[str],
    served: tuple[RunningStack, str],
    second_run: dict[str, Any],
) -> None:
    stack, printed = served
    first_run = json.loads(demo.stdout)
    cycle_id = first_run["cycle"]["id"]
    titles = [step["title"] for step in first_run["steps"]]
    reports = httpx.get(
        f"http://127.0.0.1:{stack.ports['reporting']}/cycles/PMM-2023/reports"
    ).json()
    shown = " ".join(printed.split())

    assert len(titles) == 17
    assert {s["title"] for s in first_run["steps"] if s["already_done"]} <= WAITS
    # The second run (`pmm up`) prints it, the third (`pmm job --json`) says it.
    for title in titles:
        assert f"✓ {title}: already done," in shown, title
    assert [s["title"] for s in second_run["steps"]] == titles
    assert all(step["already_done"] for step in second_run["steps"])
    # One report, the first run's, and every submission as that run left it.
    assert [r["report_id"] for r in reports] == [first_run["report"]["report_id"]]
    assert [r["cycle_id"] for r in reports] == [cycle_id]
    assert second_run["report"] == first_run["report"]
    assert second_run["review"]["id"] == first_run["review"]["id"]
    for member, first in first_run["administrations"].items():
        again = second_run["administrations"][member]
        current = submission(stack, cycle_id, member)
        assert again["submission"] == first["submission"], member
        assert (current["version"], current["revision"], current["state"]) == (
            first["submission"]["version"],
            first["submission"]["revision"],
            "accepted",
        )
        assert again["declared_not_available"] == first["declared_not_available"]
        # As accepted: Brazil's count holds the value its review took away.
        assert first["declared_not_available"] == sum(
            value["state"] == "not_available" for value in current["values"]
        )
        # Nothing was fed again: what the first import used and refused is shown
        # from its answer.
        assert (again["feed"]["counts"], again["feed"]["earlier"]) == (None, True)
        assert first["feed"]["earlier"] is False
        for shared in ("rows", "used", "not_used", "used_with_qualifier"):
            assert again["feed"][shared] == first["feed"][shared], (member, shared)
    assert (
        "BRA: import its published figures (dry run, then applied): already done, "
        "its submission is accepted: no feed sent"
    ) in shown
    assert "(created" not in shown


def submission(stack: RunningStack, cycle_id: str, member: str) -> dict[str, Any]:
    response = httpx.get(
        f"http://127.0.0.1:{stack.ports['submission']}/cycles/{cycle_id}"
        f"/submissions/{member}",
        headers=bearer(stack, Role.SECRETARIAT),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_make_run_runs_the_job_again_and_keeps_serving(
    served: tuple[RunningStack, str],
) -> None:
    stack, printed = served

    assert "The main job stopped" not in printed
    assert "✗" not in printed
    assert printed.count("✓") == 17
    for heading in ("Brazil (BRA)", "Finland (FIN)", "Kenya (KEN)", "Nigeria (NGA)"):
        assert heading in printed
    assert "Peer review of BRA: completed_with_reservations" in printed
    assert "TF.4.1: 22.3, level 4 in revision 1 → not computed in revision 2" in (
        " ".join(printed.split())
    )
    assert stack.process.poll() is None


def test_kpis_are_computed_from_the_published_figures(
    second_run: dict[str, Any],
) -> None:
    expected = expected_kpis()

    for member, values in expected.items():
        assert computed(second_run, member) == values, member
    # Worked out by hand once, so that a wrong helper above cannot agree with a
    # wrong service: 429 / 294, 2.64e12 / 2,240,880,308,195.77, 862.929 / 645.765.
    assert expected["FIN"]["RC.1.2"] == "45.92"
    assert expected["NGA"]["RC.1.2"] == "17.81"
    assert expected["PHL"]["RC.1.2"] == "33.63"
    assert expected["PHL"]["RC.1.1"] == "119.60"
    assert expected["FIN"]["ES.1.3"] == "1382.0"
    assert kpi(second_run, "PHL", "RC.1.1")["level"] == str(level("RC.1.1", "119.60"))


def test_the_correction_changes_the_kpi_its_figure_feeds(
    served: tuple[RunningStack, str], second_run: dict[str, Any]
) -> None:
    stack, _ = served
    review = second_run["review"]
    (change,) = review["kpi_changes"]
    # TF.4.1 = RELEASE_TIME_AVG, the 2022 figure in hours, to one decimal.
    assert FRAMEWORK.kpi("TF.4.1").formula == "RELEASE_TIME_AVG"
    hours = quantity("BRA", "import_release_time_avg", "2022", unit="hours")
    correction = load_plan().peer_review.correction.value
    cycle_id = second_run["cycle"]["id"]
    current = httpx.get(
        f"http://127.0.0.1:{stack.ports['scoring']}/members/BRA/cycles/{cycle_id}"
        "/scorecard",
        headers=bearer(stack, Role.NCP, "BRA"),
    ).json()["assessment"]
    release = next(k for k in current["kpis"] if k["code"] == "TF.4.1")

    assert [(c["data_element"], c["year"]) for c in review["changes"]] == [
        ("RELEASE_TIME_AVG", 2022)
    ]
    assert review["changes"][0]["before"]["value"] == str(hours) == "22.25"
    assert change["kpi"] == "TF.4.1"
    assert (change["before"]["revision"], change["after"]["revision"]) == (1, 2)
    assert change["before"]["value"] == rounded("TF.4.1", hours) == "22.3"
    assert change["before"]["level"] == level("TF.4.1", "22.3") == 4
    # The corrected figure is "not available": the KPI has no value any more, and
    # the scorecard says which input took it away.
    assert (change["after"]["value"], change["after"]["status"]) == (
        None,
        "not_computable",
    )
    assert release["inputs"] == [
        {
            "element": "RELEASE_TIME_AVG",
            "year": 2022,
            "reference": "T",
            "state": "not_available",
            "value": None,
            "reason": correction.reason,
        }
    ]
    assert (release["status"], release["value"]) == ("not_computable", None)
    assert kpi(second_run, "BRA", "TF.4.1")["value"] is None
    assert kpi(second_run, "BRA", "TF.4.1")["level"] == "insufficient"


def test_coverage_is_what_each_administrations_data_allow(
    second_run: dict[str, Any],
) -> None:
    # An outcome is applicable when some KPI of it is scored (direction not none;
    # the job opts out of nothing) and scored when every such KPI has a level.
    # What each administration computes (test_kpis_… above):
    # - BRA nothing after the review: TF.4 would need TF.4.2 and TF.4.3 anyway;
    # - FIN RC.1.2 and ES.1.3, both reported but not scored: RC.1 lacks RC.1.1
    #   (no forecast published), ES.1 lacks ES.1.1 (no drug controls published);
    # - KEN nothing; NGA RC.1.2 only (no 2022 forecast);
    # - PHL RC.1.1 and RC.1.2: RC.1's one scored KPI, RC.1.1, has its level, so
    #   RC.1 is scored (weakest link of one level) and RC scores 1 of 5 outcomes.
    expected = expected_kpis()

    for member, values in expected.items():
        scorecard = second_run["administrations"][member]["scorecard"]
        for dimension in scorecard["dimensions"]:
            scored, applicable = coverage(dimension["code"], set(values))
            assert dimension["coverage"]["scored"] == scored, (member, dimension)
            assert dimension["coverage"]["applicable"] == applicable
            assert (dimension["score"] is None) == (scored == 0)
    revenue = dimension_of(second_run, "PHL", "RC")
    assert revenue["coverage"] == {"scored": 1, "applicable": 5, "ratio": "0.2000"}
    assert revenue["score"] == f"{level('RC.1.1', expected['PHL']['RC.1.1'])}.00"


def coverage(dimension: str, computed_kpis: set[str]) -> tuple[int, int]:
    scored = applicable = 0
    for outcome in FRAMEWORK.outcomes:
        directional = {
            k.code
            for k in FRAMEWORK.kpis
            if k.outcome == outcome.code and k.direction is not Direction.NONE
        }
        if outcome.dimension != dimension or not directional:
            continue
        applicable += 1
        scored += directional <= computed_kpis
    return scored, applicable


def dimension_of(document: dict[str, Any], member: str, code: str) -> dict[str, Any]:
    scorecard = document["administrations"][member]["scorecard"]
    line: dict[str, Any] = next(d for d in scorecard["dimensions"] if d["code"] == code)
    return line


def test_cells_of_fewer_than_k_administrations_are_suppressed(
    served: tuple[RunningStack, str], second_run: dict[str, Any]
) -> None:
    stack, _ = served
    expected = expected_kpis()
    contributors = cell_contributors(second_run, expected)
    public = {
        (c["kpi"], c["grouping"], c["group"]): c for c in second_run["benchmarks"]
    }
    secretariat = benchmarks(stack, second_run, bearer(stack, Role.SECRETARIAT))

    assert second_run["min_contributors"] == K
    assert set(public) == set(contributors)
    for key, members in contributors.items():
        cell = public[key]
        assert secretariat[key]["n"] == len(members), key
        if len(members) < K:
            assert cell["suppressed"] is True, key
            assert cell["suppression_reason"] == "fewer_than_k_contributors"
            assert [cell[f] for f in ("n", "mean", "median", "minimum")] == [None] * 4
        else:
            values = sorted(Decimal(expected[m][key[0]]) for m in members)
            mean = sum(values, Decimal(0)) / len(values)
            assert cell["suppressed"] is False, key
            assert cell["n"] == len(members)
            assert Decimal(cell["mean"]) == Decimal(rounded_to(mean, 4))
            assert Decimal(cell["median"]) == values[len(values) // 2]
            assert (Decimal(cell["minimum"]), Decimal(cell["maximum"])) == (
                values[0],
                values[-1],
            )
    # Of the RC.1.2 cells, only the total has three administrations.
    assert [k for k in contributors if len(contributors[k]) >= K] == [
        ("RC.1.2", "all", "all")
    ]
    assert contributors[("RC.1.2", "income_group", "Lower middle income")] == {
        "NGA",
        "PHL",
    }


def cell_contributors(
    document: dict[str, Any], expected: dict[str, dict[str, str]]
) -> dict[tuple[str, str, str], set[str]]:
    """Who contributes to which cell: every administration that computed the KPI,
    in the total and in each of its peer groups."""
    cells: dict[tuple[str, str, str], set[str]] = {}
    for member, values in expected.items():
        info = document["administrations"][member]["scorecard"]["member"]
        groups = [("all", "all")] + [
            (grouping, info[grouping])
            for grouping in ("wco_region", "income_group", "administration_type")
            if info[grouping] is not None
        ]
        for code in values:
            for grouping, group in groups:
                cells.setdefault((code, grouping, group), set()).add(member)
    return cells


def rounded_to(value: Decimal, places: int) -> str:
    step = Decimal(1).scaleb(-places)
    return str(value.quantize(step, rounding=ROUND_HALF_UP))


def benchmarks(
    stack: RunningStack, document: dict[str, Any], headers: dict[str, str]
) -> dict[tuple[str, str, str], dict[str, Any]]:
    base = f"http://127.0.0.1:{stack.ports['reporting']}"
    response = httpx.get(
        f"{base}/cycles/{document['cycle']['id']}/benchmarks", headers=headers
    )
    assert response.status_code == 200, response.text
    return {(c["kpi"], c["grouping"], c["group"]): c for c in response.json()["cells"]}


def test_the_benchmarks_printed_are_what_the_public_is_served(
    served: tuple[RunningStack, str], second_run: dict[str, Any]
) -> None:
    stack, printed = served

    served_publicly = benchmarks(stack, second_run, {})
    publication = httpx.get(
        f"http://127.0.0.1:{stack.ports['reporting']}"
        f"/cycles/{second_run['cycle']['id']}/benchmarks"
    ).json()["publication"]

    assert second_run["benchmarks"] == list(served_publicly.values())
    # The public reads the cells as the job's report froze them, not the live table.
    assert publication["state"] == "published"
    assert publication["report_id"] == second_run["report"]["report_id"]
    (row,) = [
        [column.strip() for column in line.split("│")[1:-1]]
        for line in printed.splitlines()
        if "RC.1.2" in line and "Lower middle income" in line
    ]
    # Two administrations contribute (the Secretariat's view says so); the public
    # is told neither how many nor any figure.
    assert row[2:] == ["-", "suppressed (fewer_than_k_contributors)", "", ""]


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


def test_a_qualifier_of_a_figure_used_is_reported_with_its_note(
    served: tuple[RunningStack, str], second_run: dict[str, Any]
) -> None:
    _, printed = served

    def qualified(member: str) -> dict[tuple[str, str], list[str]]:
        feed = second_run["administrations"][member]["feed"]
        return {
            (row["name"], row["year"]): row["qualifiers"]
            for row in feed["used_with_qualifier"]
        }

    assert qualified("FIN") == {("customs_revenue_total", "2022"): ["approximately"]}
    assert qualified("PHL") == {
        ("customs_revenue_total", "2021"): ["preliminary"],
        ("customs_revenue_total", "2022"): ["preliminary"],
    }
    assert qualified("BRA") == {("aeo_distinct_companies", "2022"): ["as at"]}
    assert qualified("NGA") == qualified("KEN") == {}
    note = published("FIN", "customs_revenue_total", "2022")["note"]
    assert note in printed
    assert "'approximately'" not in printed  # FIN's 2023 figure was not used


def test_the_review_completed_and_the_report_is_published(
    second_run: dict[str, Any],
) -> None:
    review = second_run["review"]
    brazil = second_run["administrations"]["BRA"]
    files = second_run["files"]

    assert review["state"] == "completed_with_reservations"
    assert [(q["data_element"], q["year"], q["state"]) for q in review["queries"]] == [
        ("RELEASE_TIME_AVG", 2022, "resolved")
    ]
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
    expected = expected_kpis()

    def seen(member: str, headers: dict[str, str]) -> dict[str, Any]:
        response = httpx.get(
            f"{base}/cycles/{cycle_id}/members/{member}/scorecard", headers=headers
        )
        assert response.status_code == 200, response.text
        return {k["code"]: k["value"] for k in response.json()["kpis"]}

    other_ncp = bearer(stack, Role.NCP, "BRA")
    public_phl, public_fin = seen("PHL", {}), seen("FIN", {})
    wco_phl, wco_fin = seen("PHL", other_ncp), seen("FIN", other_ncp)

    # PHL: RC.1.2 public, RC.1.1 restricted; FIN: RC.1.2 public, ES.1.3 wco.
    phl_variation, fin_variation = expected["PHL"]["RC.1.2"], expected["FIN"]["RC.1.2"]
    assert (public_phl["RC.1.2"], public_phl["RC.1.1"]) == (phl_variation, None)
    assert (wco_phl["RC.1.2"], wco_phl["RC.1.1"]) == (phl_variation, None)
    assert (public_fin["RC.1.2"], public_fin["ES.1.3"]) == (fin_variation, None)
    assert wco_fin["ES.1.3"] == expected["FIN"]["ES.1.3"]


def bearer(
    stack: RunningStack, role: Role, member: str | None = None
) -> dict[str, str]:
    key = (stack.home / "keys" / "jwt-private.pem").read_text()
    return {"Authorization": "Bearer " + mint_token(key, role=role, member=member)}


# Failures: a clear message naming the service, a non-zero exit, a stack that stays


def pointing(
    stack: RunningStack, tmp_path: Path, service: str, url: str
) -> dict[str, str]:
    """A data folder like the running stack's, but whose stack file sends the
    job's calls to `service` to `url`; the logs named are the stack's own."""
    described = json.loads((stack.home / "stack.json").read_text())
    described["service_urls"][service] = url
    (tmp_path / "stack.json").write_text(json.dumps(described))
    shutil.copytree(stack.home / "keys", tmp_path / "keys")
    return own_environment(tmp_path)


def test_a_service_the_job_cannot_reach_is_named_with_its_log(
    served: tuple[RunningStack, str], tmp_path: Path
) -> None:
    stack, _ = served
    closed = f"http://127.0.0.1:{free_port()}"

    failed = run_pmm(pointing(stack, tmp_path, "submission", closed), "job")

    message = " ".join(failed.stderr.split())
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert "The main job stopped at the submission service" in message
    assert f"did not reach the submission service at {closed}" in message
    assert str(stack.home / "logs" / "submission.log") in message
    assert "Traceback" not in failed.stderr


class GarbledService(ThreadingHTTPServer):
    """A service gone wrong: 200 to every request, with a body the job cannot use."""

    reply: tuple[bytes, str] = (b"{}", "application/json")


class _Garbled(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        assert isinstance(self.server, GarbledService)
        body, content_type = self.server.reply
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def garbled() -> Iterator[GarbledService]:
    server = GarbledService(("127.0.0.1", 0), _Garbled)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        (
            (b"{}", "application/json"),
            "unexpected KeyError: 'calculation' after GET /members/BRA/cycles/",
        ),
        (
            (b"<html>busy</html>", "text/html"),
            "unexpected answer, a body that is not JSON: '<html>busy</html>' after GET",
        ),
    ],
)
def test_a_reply_the_job_cannot_use_stops_it_naming_the_service(
    served: tuple[RunningStack, str],
    second_run: dict[str, Any],
    garbled: GarbledService,
    tmp_path: Path,
    reply: tuple[bytes, str],
    said: str,
) -> None:
    stack, _ = served
    garbled.reply = reply
    url = f"http://127.0.0.1:{garbled.server_address[1]}"
    trace = tmp_path / "logs" / "main-job.log"

    failed = run_pmm(pointing(stack, tmp_path, "scoring", url), "job")

    message = " ".join(failed.stderr.split())
    assert failed.returncode == 1
    assert "The main job stopped at the scoring service" in message
    assert said in message
    assert str(stack.home / "logs" / "scoring.log") in message
    assert "Traceback" not in failed.stderr
    # An error the job has no name for leaves its traceback for whoever fixes it.
    assert f"the job's traceback is in {trace}" in message
    assert "Traceback (most recent call last)" in trace.read_text()


def test_make_demo_exits_non_zero_when_a_step_fails(tmp_path: Path) -> None:
    ports = {service.name: free_port() for service in SERVICES}
    # A submission service that takes feeds of at most 5 rows refuses Brazil's 20.
    environment = {**stack_environment(tmp_path, ports), "PMM_FEED_MAX_ROWS": "5"}

    failed = run_pmm(environment, "demo")

    message = " ".join(failed.stderr.split())
    assert failed.returncode == 1
    assert "The main job stopped at the submission service: POST /feeds" in message
    assert "answered 413" in message
    assert str(tmp_path / "logs" / "submission.log") in message
    assert "Stopped. The data are kept" in message


def test_make_run_keeps_serving_after_its_job_failed(tmp_path: Path) -> None:
    ports = {service.name: free_port() for service in SERVICES}
    process = start_up(tmp_path, ports, PMM_FEED_MAX_ROWS="5")
    stack = RunningStack(tmp_path, ports, process)
    try:
        printed = Output(process).wait_for(
            "The services keep running", "Stopped", timeout=JOB_TIMEOUT_SECONDS
        )

        alive = process.poll() is None
        ready = {
            name: httpx.get(f"http://127.0.0.1:{port}/readyz").status_code
            for name, port in ports.items()
        }
    finally:
        returncode, _ = stack.stop() if process.poll() is None else (None, "")

    assert "The main job stopped at the submission service" in printed
    assert alive
    assert ready == dict.fromkeys(ports, 200)
    assert returncode == 0
