"""The submission service as most tests start it."""

import pytest

from pmm_local.testing import ServiceStarter

from .helpers import ServiceToStart, clean_service


@pytest.fixture
def submission_service(
    run_service: ServiceStarter, service_databases: dict[str, str], isolated_nats: str
) -> ServiceToStart:
    """The service on an emptied schema and the test module's own NATS, to start
    with `async with`: the test decides what happens before it starts."""
    return clean_service(run_service, service_databases["submission"], isolated_nats)
