"""The reporting tests need only the reporting schema: provisioning and migrating
just that one keeps them independent of the other services' migrations."""

import pytest

from pmm_kit.migrations import upgrade
from pmm_local.services import SERVICES
from pmm_local.stack import Infrastructure
from pmm_local.testing import ServiceStarter, truncate_schema
from pmm_reporting.main import create_app
from pmm_reporting.settings import ReportingSettings

from .helpers import ServiceToStart


@pytest.fixture(scope="session")
def service_databases(infrastructure: Infrastructure) -> dict[str, str]:
    reporting = next(service for service in SERVICES if service.name == "reporting")
    urls = infrastructure.provision([reporting.schema])
    upgrade(
        reporting.service_dir,
        database_url=urls[reporting.schema],
        schema=reporting.schema,
    )
    return {reporting.name: urls[reporting.schema]}


@pytest.fixture
async def reporting_service(
    run_service: ServiceStarter, service_databases: dict[str, str], isolated_nats: str
) -> ServiceToStart:
    """The reporting service on an emptied schema and the test module's own NATS, to
    start with `async with`: the test decides what happens before it starts."""
    url = service_databases["reporting"]
    await truncate_schema(url, "reporting")
    service: ServiceToStart = run_service(
        create_app, ReportingSettings, url, isolated_nats
    )
    return service
