"""A NUL in a path or query reached PostgreSQL and answered 500 on every route of
this service that names a cycle, member, KPI or report: it is now a 400 problem
naming where it is, before any route runs."""

import pytest

from pmm_local.testing import ServiceStarter
from pmm_reporting.main import create_app
from pmm_reporting.settings import ReportingSettings

pytestmark = pytest.mark.asyncio(loop_scope="session")

NUL_URLS = [
    ("get", "/cycles/x%00/benchmarks", "path"),
    ("get", "/cycles/PMM-2023/benchmarks?kpi=TF%001", "query.kpi"),
    ("get", "/cycles/x%00/members/BRA/scorecard", "path"),
    ("get", "/cycles/PMM-2023/members/BR%00/scorecard", "path"),
    ("get", "/cycles/x%00/instruments", "path"),
    ("get", "/cycles/x%00/sdg-targets", "path"),
    ("get", "/cycles/x%00/benchmarks.csv", "path"),
    ("get", "/cycles/x%00/benchmarks.xlsx", "path"),
    ("get", "/cycles/x/kpis/TF%00/distribution.svg", "path"),
    ("get", "/cycles/x/members/BRA/kpis/TF%00/peers.png", "path"),
    ("post", "/cycles/x%00/reports", "path"),
    ("get", "/cycles/x%00/reports", "path"),
    ("get", "/reports/r%00", "path"),
    ("get", "/reports/r%00/changes", "path"),
    ("get", "/reports/r%00/page", "path"),
    ("get", "/reports/r%00/report.pdf", "path"),
]


@pytest.mark.parametrize(("method", "url", "field"), NUL_URLS)
async def test_a_nul_in_the_url_is_a_400_problem_naming_where_it_is(
    run_service: ServiceStarter,
    service_databases: dict[str, str],
    isolated_nats: str,
    method: str,
    url: str,
    field: str,
) -> None:
    service = run_service(
        create_app, ReportingSettings, service_databases["reporting"], isolated_nats
    )

    async with service as s:
        # No token: the public routes answered 500 to anyone.
        response = await s.client.request(method.upper(), url)

    assert response.status_code == 400
    problem = response.json()
    assert problem["type"] == "urn:pmm:problem:invalid-url"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [(field, "text.nul")]
