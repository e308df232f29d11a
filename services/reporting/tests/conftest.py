"""The reporting tests need only the reporting schema: provisioning and migrating
just that one keeps them independent of the other services' migrations."""

import pytest

from pmm_kit.migrations import upgrade
from pmm_local.services import SERVICES
from pmm_local.stack import Infrastructure


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
